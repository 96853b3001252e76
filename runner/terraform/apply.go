package terraform

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// applyOptions are terraform-exec's apply options for the saved plan at
// path: the plan alone, so that terraform-exec adds nothing but its
// defaults (-auto-approve, which a saved plan does not need, -input=false,
// -lock=true, -parallelism=10, -refresh=true).
func applyOptions(path string) []tfexec.ApplyOption {
	return []tfexec.ApplyOption{tfexec.DirOrPlan(path)}
}

// Apply applies a saved plan file, and nothing else: terraform refuses a
// plan made from other state ("Saved plan is stale"). Cancelling ctx
// interrupts terraform, which stops starting new operations, waits for
// the ones in flight, persists state and releases its lock.
func (w *Workdir) Apply(ctx context.Context, planFile string) error {
	if strings.TrimSpace(planFile) == "" {
		return fmt.Errorf("%s apply: no plan file: atoll applies saved plans only", w.binName())
	}
	path := w.abs(planFile)
	release, err := w.acquire(ctx, "apply")
	if err != nil {
		return err
	}
	defer release()
	return w.run(ctx, "apply", nil, func(ctx context.Context, tf *tfexec.Terraform) error {
		return tf.Apply(ctx, applyOptions(path)...)
	})
}
