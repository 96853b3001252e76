package terraform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// showArgs is the argv (after the binary) of Show (asJSON) and ShowText.
func showArgs(planFile string, asJSON bool) ([]string, error) {
	if strings.TrimSpace(planFile) == "" {
		return nil, errors.New("no plan file")
	}
	args := []string{"show", "-no-color"}
	if asJSON {
		args = append(args, "-json")
	}
	return append(args, planFile), nil
}

// showCmd builds a show command for planFile (relative to the project
// directory unless absolute).
func (w *Workdir) showCmd(ctx context.Context, planFile string, asJSON bool) (*exec.Cmd, error) {
	if strings.TrimSpace(planFile) == "" {
		return nil, fmt.Errorf("%s show: no plan file", w.binName())
	}
	args, err := showArgs(w.abs(planFile), asJSON)
	if err != nil {
		return nil, fmt.Errorf("%s show: %w", w.binName(), err)
	}
	return w.command(ctx, args...), nil
}

// Show runs "show -json" on a saved plan file and returns its summary and
// the JSON exactly as terraform printed it (for policies and
// ResourceChangesHash). The JSON is not streamed to Config.Output and not
// masked: it holds every value in clear, sensitive ones included, so
// treat it like the plan file itself. stderr is streamed as usual.
func (w *Workdir) Show(ctx context.Context, planFile string) (*Summary, []byte, error) {
	cmd, err := w.showCmd(ctx, planFile, true)
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	if err := w.run(ctx, cmd, "show", &out); err != nil {
		return nil, nil, err
	}
	sum, err := Summarize(out.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("%s show: %w", w.binName(), err)
	}
	return sum, out.Bytes(), nil
}

// ShowText returns the human-readable plan of a saved plan file ("show
// -no-color"), without ANSI sequences and with Config.Secrets masked, for
// comments and pages. Terraform already hides values marked sensitive.
// The text is returned, not streamed to Config.Output.
func (w *Workdir) ShowText(ctx context.Context, planFile string) (string, error) {
	cmd, err := w.showCmd(ctx, planFile, false)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := w.run(ctx, cmd, "show", &out); err != nil {
		return "", err
	}
	return w.mask.mask(StripANSI(out.String())), nil
}
