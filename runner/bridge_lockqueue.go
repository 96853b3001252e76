package runner

import (
	"context"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/lockqueue"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/view"
	"github.com/atollhq/atoll/vcs"
)

// The engine as runner/lockqueue's Engine (New builds the Queue; the
// store, the host and the audit trail it is given directly).

// queueEngine is what the plan queue asks of the Runner.
type queueEngine struct{ r *Runner }

// RunBusy reports whether a run has a job not final yet.
func (e queueEngine) RunBusy(ctx context.Context, runID string) bool {
	var run Run
	if ok, err := e.r.rec.Get(ctx, records.Runs, runID, &run); err != nil || !ok {
		return false
	}
	jobs, err := view.RunJobs(ctx, e.r.rec, run)
	if err != nil {
		return true
	}
	for _, j := range jobs {
		if !j.State.Final() {
			return true
		}
	}
	return false
}

// PlanWaiter starts the plan of a waiter's project on its PR's head, and
// records the run with the waiter in the same transaction.
func (e queueEngine) PlanWaiter(ctx context.Context, pull vcs.PullRequest, w lockqueue.Waiter) error {
	r := e.r
	defer r.prMu.Lock(records.PRKey(pull.Repo.FullName(), pull.Number))()
	st, err := r.pr.State(ctx, pull)
	if err != nil {
		return err
	}
	spec := runSpec{Repo: pull.Repo, Number: pull.Number, Command: "queued-plan", HeadSHA: pull.HeadSHA, PlanComment: true}
	spec.Jobs = []Job{{Kind: JobPlan, Repo: pull.Repo, Number: pull.Number, Project: w.Project,
		HeadSHA: pull.HeadSHA, BaseSHA: pull.BaseSHA, PRAuthor: pull.Author}}
	spec.Also = func(runID string) []locks.RecordUpdate {
		return []locks.RecordUpdate{
			records.HeadUpdate(pull, pr.MergeProjects(st.Projects, []Project{w.Project}, st.HeadSHA == pull.HeadSHA)),
			lockqueue.BindRun(w, runID),
		}
	}
	if st.HeadSHA != "" && st.HeadSHA != pull.HeadSHA {
		if err := r.pr.Supersede(ctx, pull, st); err != nil {
			r.log.Warn("supersede", "err", err)
		}
	}
	r.log.Info("plan queue: the lock is free; planning the next PR", "repo", pull.Repo.FullName(), "pr", pull.Number,
		"project", w.Project.Name)
	_, err = r.startRun(ctx, spec)
	return err
}
