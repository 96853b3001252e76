package runner

import (
	"context"
	"slices"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

// Execution order groups (Atlantis's execution_order_group): the jobs of a
// run start group by group, the lowest group first; a job waits, queued,
// while a job of a lower group of its run is not final. With
// parallel_plan (parallel_apply) false, a plan (apply) job also waits for
// the jobs before it in its group. With
// abort_on_execution_order_fail, a job whose lower groups hold a failed (or
// interrupted) job is skipped instead of run.

// orderWait reports whether the queued job id must wait for a lower group
// of its run.
func (r *Runner) orderWait(ctx context.Context, id string) bool {
	var j Job
	if ok, err := r.rec.Get(ctx, records.Jobs, id, &j); err != nil || !ok || j.State != JobQueued || j.RunID == "" {
		return false
	}
	wait, _ := r.lowerGroups(ctx, j)
	return wait
}

// lowerGroups looks at the jobs of lower execution order groups of j's
// run: wait when one is not final, failed names one that failed or was
// interrupted. A run without groups (Run.Ordered false) costs one read.
func (r *Runner) lowerGroups(ctx context.Context, j Job) (wait bool, failed string) {
	var run Run
	if ok, err := r.rec.Get(ctx, records.Runs, j.RunID, &run); err != nil || !ok || !run.Ordered {
		return false, ""
	}
	earlier := map[string]bool{}
	for _, oid := range run.JobIDs {
		if oid == j.ID {
			break
		}
		earlier[oid] = true
	}
	for _, oid := range run.JobIDs {
		if oid == j.ID {
			continue
		}
		var o Job
		if ok, err := r.rec.Get(ctx, records.Jobs, oid, &o); err != nil || !ok {
			continue
		}
		if o.Project.OrderGroup >= j.Project.OrderGroup {
			// Within a group, a serial job waits for the jobs before it.
			if earlier[oid] && j.Serial() && o.Project.OrderGroup == j.Project.OrderGroup && !o.State.Final() {
				wait = true
			}
			continue
		}
		switch {
		case !o.State.Final():
			wait = true
		case o.State == JobFailed || o.State == JobInterrupted:
			failed = o.Project.Name
		}
	}
	return wait, failed
}

// orderAborted returns the outcome of a claimed job to skip because an
// earlier group of its run failed and the repository asks to abort; ok is
// false when the job runs.
func (r *Runner) orderAborted(ctx context.Context, j Job) (Outcome, bool) {
	if !j.Project.AbortOnOrderFail {
		return Outcome{}, false
	}
	if _, failed := r.lowerGroups(ctx, j); failed != "" {
		return Outcome{Status: string(templates.StatusSkipped), Error: r.view.Text(templates.JobSkipped{Kind: templates.SkipOrderFailed, Project: failed})}, true
	}
	return Outcome{}, false
}

// releaseOrdered hands the run's still-queued jobs to the workers again
// once one of its jobs is final: those of the next group may start.
func (r *Runner) releaseOrdered(ctx context.Context, runID string) {
	var run Run
	if ok, err := r.rec.Get(ctx, records.Runs, runID, &run); err != nil || !ok || !run.Ordered {
		return
	}
	for _, oid := range run.JobIDs {
		var o Job
		if ok, _ := r.rec.Get(ctx, records.Jobs, oid, &o); ok && o.State == JobQueued {
			r.enqueue(oid)
		}
	}
}

// pendingDependencies are the projects of p's depends_on planned in the
// same pull request with changes not applied yet, unless this apply
// applies them too in an earlier execution order group (applying: the
// projects this apply applies, by name, with their groups). The gate
// refuses p while any is pending.
func pendingDependencies(p Plan, plans map[string]Plan, applying map[string]int) []string {
	var pending []string
	for _, dep := range p.Project.DependsOn {
		d, ok := plans[dep]
		if !ok || d.State == PlanApplied || !d.HasChanges {
			continue
		}
		if g, together := applying[dep]; together && g < p.Project.OrderGroup {
			continue
		}
		pending = append(pending, dep)
	}
	slices.Sort(pending)
	return pending
}
