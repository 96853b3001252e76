package runner

import (
	"context"

	"github.com/atollhq/atoll/runner/pr"
)

// labelPlanRun sets the PR's atoll labels from a finished plan run (see
// pr.SetPlanLabels). Labels are a courtesy: a failure is logged, never
// fatal.
func (r *Runner) labelPlanRun(ctx context.Context, run Run, jobs []Job) {
	if err := pr.SetPlanLabels(ctx, r.host, run.Repo, run.Number, jobs); err != nil {
		r.log.Warn("set PR labels", "pr", run.Number, "err", err)
	}
}
