package runner

import (
	"context"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/runner/view"
	"github.com/atollhq/atoll/templates"
)

// recover runs at start-up. A job found running was cut off by a crash or
// a restart: it becomes interrupted and its PR is told; an interrupted
// apply leaves its lock held and its plan marked failed, since the
// infrastructure may be partly changed. Queued jobs are queued again.
func (r *Runner) recover(ctx context.Context) error {
	if r.shared() {
		return r.recoverShared(ctx) // other replicas may be running jobs: see replicas.go
	}
	jobs, err := records.List[Job](ctx, r.rec, records.Jobs, "")
	if err != nil {
		return err
	}
	rerender := map[string]bool{}
	for _, j := range jobs {
		switch j.State {
		case JobQueued:
			r.enqueue(j.ID)
		case JobRunning:
			// What the killed process started may still run: a provisioner's
			// command outlives terraform. It is stopped before anyone is told.
			if n := terraform.KillJob(j.Mark); n > 0 {
				r.log.Warn("stopped processes an interrupted job left running", "job", j.ID, "processes", n)
			}
			if _, _, err := r.interruptJob(ctx, j, nil); err != nil {
				return err
			}
			rerender[j.RunID] = true
		}
	}
	for runID := range rerender {
		r.noteRunInterrupted(ctx, runID)
	}
	// A plan claimed for an apply whose job was never stored goes back.
	plans, err := records.List[Plan](ctx, r.rec, records.Plans, "")
	if err != nil {
		return err
	}
	for _, p := range plans {
		if p.State == PlanApplying && p.ApplyJob == records.ApplyClaimed {
			r.exec.SetPlanState(ctx, records.PlanKey(p.Repo, p.Number, p.Project.Name), PlanPlanned, "-")
		}
	}
	return r.drift.checker.Recover(ctx)
}

// interruptJob marks running job j interrupted and tells its PR: a plan
// is to be run again by a comment; an apply is never run again by itself
// (the infrastructure may be partly changed), its lock stays held and its
// plan is marked failed. still, when not nil, is asked in the same
// transaction whether the stored job is still the one to interrupt;
// interruptJob then reports false and changes nothing when it is not.
func (r *Runner) interruptJob(ctx context.Context, j Job, still func(cur Job) bool) (Job, bool, error) {
	out := j.Outcome
	out.Status = string(templates.StatusInterrupted)
	switch j.Kind {
	case JobApply, JobPlanApply:
		out.Error = r.view.Text(templates.JobInterrupted{Kind: string(j.Kind)})
	default:
		out.Error = r.view.Text(templates.JobInterrupted{Kind: string(JobPlan)}) // the comment adds how to run it again
	}
	done := false
	err := records.Update(ctx, r.rec, records.Jobs, j.ID, func(cur *Job, exists bool) error {
		if !exists || cur.State != JobRunning || (still != nil && !still(*cur)) {
			return records.ErrAbort
		}
		cur.State, cur.Outcome, cur.Finished = JobInterrupted, out, r.now()
		j, done = *cur, true
		return nil
	})
	if err != nil || !done {
		return j, false, err
	}
	if j.Kind == JobApply {
		r.exec.SetPlanState(ctx, records.PlanKey(j.Repo.FullName(), j.Number, j.Project.Name), PlanApplyFailed, j.ID)
	}
	r.log.Warn("job interrupted by a restart", "job", j.ID, "kind", j.Kind, "project", j.Project.Name)
	r.checkDone(ctx, j)
	return j, true, nil
}

// noteRunInterrupted says on a run's comment that a restart cut it off.
func (r *Runner) noteRunInterrupted(ctx context.Context, runID string) {
	_ = records.Update(ctx, r.rec, records.Runs, runID, func(run *Run, exists bool) error {
		if !exists {
			return records.ErrAbort
		}
		// After an apply, each project says what to do: an apply is never
		// simply rerun.
		run.Message = r.view.Text(templates.RunInterrupted{Apply: view.CommandName(run.Command) == "apply"})
		return nil
	})
	if err := r.renderRun(ctx, runID); err != nil {
		r.log.Error("render interrupted run", "run", runID, "err", err)
	}
}
