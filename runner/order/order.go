package order

import (
	"context"
	"slices"

	"github.com/atollhq/atoll/runner/records"
)

// Groups reads a run's jobs to order them. The zero value is not usable:
// Records is required.
type Groups struct {
	Records records.Records
}

// Wait reports whether the queued job id must wait for a lower group of
// its run, or for a job before it in its group when it is serial. A job
// that is not queued, not found or of no run never waits.
func (g Groups) Wait(ctx context.Context, id string) bool {
	var j records.Job
	if ok, err := g.Records.Get(ctx, records.Jobs, id, &j); err != nil || !ok || j.State != records.JobQueued || j.RunID == "" {
		return false
	}
	wait, _ := g.lower(ctx, j)
	return wait
}

// Aborted names a failed (or interrupted) project of a lower group of
// j's run when j's project asks to abort on it
// (abort_on_execution_order_fail); "" when j runs.
func (g Groups) Aborted(ctx context.Context, j records.Job) string {
	if !j.Project.AbortOnOrderFail {
		return ""
	}
	_, failed := g.lower(ctx, j)
	return failed
}

// Queued are the ids of the still-queued jobs of run runID when it is
// ordered (none otherwise): once one of its jobs is final, those of the
// next group may start.
func (g Groups) Queued(ctx context.Context, runID string) []string {
	var run records.Run
	if ok, err := g.Records.Get(ctx, records.Runs, runID, &run); err != nil || !ok || !run.Ordered {
		return nil
	}
	var ids []string
	for _, oid := range run.JobIDs {
		var o records.Job
		if ok, _ := g.Records.Get(ctx, records.Jobs, oid, &o); ok && o.State == records.JobQueued {
			ids = append(ids, oid)
		}
	}
	return ids
}

// lower looks at the jobs of lower execution order groups of j's run:
// wait when one is not final, failed names one that failed or was
// interrupted. A run without groups (Run.Ordered false) costs one read.
func (g Groups) lower(ctx context.Context, j records.Job) (wait bool, failed string) {
	var run records.Run
	if ok, err := g.Records.Get(ctx, records.Runs, j.RunID, &run); err != nil || !ok || !run.Ordered {
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
		var o records.Job
		if ok, err := g.Records.Get(ctx, records.Jobs, oid, &o); err != nil || !ok {
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
		case o.State == records.JobFailed || o.State == records.JobInterrupted:
			failed = o.Project.Name
		}
	}
	return wait, failed
}

// PendingDependencies are the projects of p's depends_on planned in the
// same pull request (plans, by project name) with changes not applied
// yet, unless this apply applies them too in an earlier execution order
// group (applying: the projects this apply applies, by name, with their
// groups). The gate refuses p while any is pending. Sorted.
func PendingDependencies(p records.Plan, plans map[string]records.Plan, applying map[string]int) []string {
	var pending []string
	for _, dep := range p.Project.DependsOn {
		d, ok := plans[dep]
		if !ok || d.State == records.PlanApplied || !d.HasChanges {
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
