package runner

import (
	"context"
)

// The engine as runner/view's Facts (wire.go builds the View).

// viewFacts is the engine as view.Facts.
type viewFacts struct{ r *Runner }

func (f viewFacts) JobURL(jobID string) string { return f.r.jobURL(jobID) }

func (f viewFacts) ApprovalsFor(ctx context.Context, j Job) map[string][]string {
	return f.r.gates.ApprovalsFor(ctx, j)
}

// renderRun renders a run's comment, one edit of a run's comment at a
// time (runMu).
func (r *Runner) renderRun(ctx context.Context, runID string) error {
	defer r.runMu.Lock(runID)()
	return r.view.RenderRun(ctx, runID)
}
