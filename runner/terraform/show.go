package terraform

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
)

// planPath returns planFile (relative to the project directory unless
// absolute) as an absolute path, so that a name such as "-plan" never
// reaches terraform as a flag.
func (w *Workdir) planPath(command, planFile string) (string, error) {
	if strings.TrimSpace(planFile) == "" {
		return "", fmt.Errorf("%s %s: no plan file", w.binName(), command)
	}
	return w.abs(planFile), nil
}

// Show runs "show -json" on a saved plan file, through terraform-exec's
// ShowPlanFile, and returns the plan's summary and the JSON exactly as
// terraform printed it (for policies and ResourceChangesHash). The JSON
// is not streamed to Config.Output and not masked: it holds every value
// in clear, sensitive ones included, so treat it like the plan file
// itself. stderr is streamed as usual. It fails on JSON that is not a
// plan in a format version terraform-json supports.
func (w *Workdir) Show(ctx context.Context, planFile string) (*Summary, []byte, error) {
	path, err := w.planPath("show", planFile)
	if err != nil {
		return nil, nil, err
	}
	release, err := w.acquire(ctx, "show")
	if err != nil {
		return nil, nil, err
	}
	defer release()
	// terraform-exec writes stdout to the Terraform's stdout writer as
	// well as to the decoder: that copy is the raw JSON.
	var raw bytes.Buffer
	var plan *tfjson.Plan
	err = w.run(ctx, "show", &raw, func(ctx context.Context, tf *tfexec.Terraform) error {
		var err error
		plan, err = tf.ShowPlanFile(ctx, path)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return summarizePlan(plan), raw.Bytes(), nil
}

// ShowText returns the human-readable plan of a saved plan file ("show
// -no-color", terraform-exec's ShowPlanFileRaw), without ANSI sequences
// and with Config.Secrets masked, for comments and pages. Terraform
// already hides values marked sensitive. The text is returned, not
// streamed to Config.Output.
func (w *Workdir) ShowText(ctx context.Context, planFile string) (string, error) {
	path, err := w.planPath("show", planFile)
	if err != nil {
		return "", err
	}
	release, err := w.acquire(ctx, "show")
	if err != nil {
		return "", err
	}
	defer release()
	var text string
	err = w.run(ctx, "show", io.Discard, func(ctx context.Context, tf *tfexec.Terraform) error {
		var err error
		text, err = tf.ShowPlanFileRaw(ctx, path)
		return err
	})
	if err != nil {
		return "", err
	}
	return w.mask.mask(StripANSI(text)), nil
}
