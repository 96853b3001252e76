package terraform

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// applyArgs is the argv (after the binary) of Apply. A saved plan is
// applied without a prompt, so no -auto-approve is needed.
func applyArgs(planFile string) ([]string, error) {
	if strings.TrimSpace(planFile) == "" {
		return nil, errors.New("no plan file: atoll applies saved plans only")
	}
	return []string{"apply", "-input=false", "-no-color", planFile}, nil
}

// applyCmd builds the apply command for planFile (relative to the project
// directory unless absolute).
func (w *Workdir) applyCmd(ctx context.Context, planFile string) (*exec.Cmd, error) {
	if strings.TrimSpace(planFile) == "" {
		_, err := applyArgs(planFile)
		return nil, fmt.Errorf("%s apply: %w", w.binName(), err)
	}
	args, err := applyArgs(w.abs(planFile))
	if err != nil {
		return nil, fmt.Errorf("%s apply: %w", w.binName(), err)
	}
	return w.command(ctx, args...), nil
}

// Apply applies a saved plan file, and nothing else: terraform refuses a
// plan made from other state ("Saved plan is stale"). Cancelling ctx
// interrupts terraform, which stops starting new operations, waits for
// the ones in flight, persists state and releases its lock.
func (w *Workdir) Apply(ctx context.Context, planFile string) error {
	cmd, err := w.applyCmd(ctx, planFile)
	if err != nil {
		return err
	}
	return w.run(ctx, cmd, "apply", nil)
}
