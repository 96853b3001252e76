package runner

import (
	"context"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/lockqueue"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// The root's side of runner/lockqueue: the wrappers the rest of the root
// still calls (removed by the cleanup after the split) and the queue's
// Engine.

func (r *Runner) lockFor(ctx context.Context, job Job, pr vcs.PullRequest) (locks.Lock, bool, []int, error) {
	return r.planQueue.LockFor(ctx, lockKey(job), job, pr)
}

func (r *Runner) leaveQueues(ctx context.Context, repo string, number int) {
	r.planQueue.Leave(ctx, repo, number)
}

func (r *Runner) lockReleased() { r.planQueue.Released() }

func (r *Runner) queueLoop(ctx context.Context) { r.planQueue.Loop(ctx) }

// queueEngine is what the plan queue asks of the Runner.
type queueEngine struct{ r *Runner }

func (e queueEngine) Held(ctx context.Context, k locks.Key) (bool, error) {
	_, held, err := e.r.cfg.Store.Get(ctx, k)
	return held, err
}

func (e queueEngine) TryLock(ctx context.Context, job Job, k locks.Key, o locks.Owner) (locks.Lock, bool, error) {
	return e.r.auditLock(ctx, job)(e.r.cfg.Store.TryLock(ctx, k, o))
}

func (e queueEngine) PullRequest(ctx context.Context, repo vcs.Repo, number int) (vcs.PullRequest, error) {
	return e.r.host.GetPullRequest(ctx, repo, number)
}

// RunBusy reports whether a run has a job not final yet.
func (e queueEngine) RunBusy(ctx context.Context, runID string) bool {
	var run Run
	if ok, err := e.r.rec.Get(ctx, records.Runs, runID, &run); err != nil || !ok {
		return false
	}
	jobs, err := e.r.runJobs(ctx, run)
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
func (e queueEngine) PlanWaiter(ctx context.Context, pr vcs.PullRequest, w lockqueue.Waiter) error {
	r := e.r
	defer r.prMu.lock(records.PRKey(pr.Repo.FullName(), pr.Number))()
	st, err := r.prState(ctx, pr)
	if err != nil {
		return err
	}
	spec := runSpec{Repo: pr.Repo, Number: pr.Number, Command: "queued-plan", HeadSHA: pr.HeadSHA, PlanComment: true}
	spec.Jobs = []Job{{Kind: JobPlan, Repo: pr.Repo, Number: pr.Number, Project: w.Project,
		HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA, PRAuthor: pr.Author}}
	spec.Also = func(runID string) []locks.RecordUpdate {
		return []locks.RecordUpdate{
			records.HeadUpdate(pr, mergeProjects(st.Projects, []Project{w.Project}, st.HeadSHA == pr.HeadSHA)),
			lockqueue.BindRun(w, runID),
		}
	}
	if st.HeadSHA != "" && st.HeadSHA != pr.HeadSHA {
		if err := r.supersede(ctx, pr, st); err != nil {
			r.log.Warn("supersede", "err", err)
		}
	}
	r.log.Info("plan queue: the lock is free; planning the next PR", "repo", pr.Repo.FullName(), "pr", pr.Number,
		"project", w.Project.Name)
	_, err = r.startRun(ctx, spec)
	return err
}
