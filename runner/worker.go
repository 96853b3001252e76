package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/lease"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
)

// work runs queued jobs until ctx ends. Every minute it also sweeps the
// store for queued jobs the channel did not carry (a full buffer).
func (r *Runner) work(ctx context.Context) {
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.sd.stopped:
			return // Drain: queued jobs stay queued for the next start
		case id := <-r.queue:
			r.runJob(ctx, id)
		case <-sweep.C:
			r.sweepQueued(ctx)
		}
	}
}

func (r *Runner) sweepQueued(ctx context.Context) {
	jobs, err := records.List[Job](ctx, r.rec, records.Jobs, "")
	if err != nil {
		return
	}
	for _, j := range jobs {
		if j.State == JobQueued && r.now().Sub(j.Created) > time.Minute {
			r.enqueue(j.ID)
		}
	}
}

// runJob claims a queued job and runs it. A panic fails the job, never the
// server.
func (r *Runner) runJob(ctx context.Context, id string) {
	if r.stopping() {
		return
	}
	if r.order.Wait(ctx, id) {
		return // a lower execution order group of its run is not done; releaseOrdered queues it again
	}
	release, ok := r.drift.Admit(ctx, id)
	if !ok {
		return // a drift job waits for a drift slot; it stays queued
	}
	defer release()
	var job Job
	claimed := false
	clock := execute.NewClock(r.log, time.Now(), "job", id)
	err := records.Update(ctx, r.rec, records.Jobs, id, func(j *Job, exists bool) error {
		if !exists || j.State != JobQueued {
			return records.ErrAbort
		}
		j.State, j.Started, j.Mark = JobRunning, r.now(), newMark()
		r.leases.ClaimJob(j)
		j.Outcome.Status = string(templates.StatusRunning)
		if j.Kind == JobApply {
			j.Outcome.Status = string(templates.StatusApplying)
		}
		job, claimed = *j, true
		return nil
	})
	if err != nil || !claimed {
		if err != nil {
			r.log.Error("claim job", "job", id, "err", err)
		}
		return
	}
	clock.Mark("claim")
	held := r.leases.HoldJob(job)
	defer held.Stop()
	if failed := r.order.Aborted(ctx, job); failed != "" { // abort_on_execution_order_fail
		r.finishJob(ctx, job, Outcome{Status: string(templates.StatusSkipped),
			Error: r.view.Text(templates.JobSkipped{Kind: templates.SkipOrderFailed, Project: failed})})
		return
	}
	unlock := r.projMu.Lock(job.Repo.FullName() + "#" + job.Project.Dir + "#" + job.Project.Workspace)
	defer unlock()
	crashpoint.Hit(ctx, crashpoint.JobClaimed)
	r.ensureCheck(ctx, &job)
	clock.Mark("check run opened")
	// The check run and the comment say it runs while it does: two round
	// trips to GitHub not on the job's way. Its outcome is reported once
	// they are done, so that the check run cannot go back to in progress.
	shown := make(chan struct{})
	go func(job Job) { // a copy: the job's run changes its own
		defer close(shown)
		r.view.ShowCheck(ctx, job, templates.CheckRunning)
		r.afterUpdate(ctx, job)
	}(job)
	defer func() { <-shown }()

	if err := os.MkdirAll(filepath.Dir(job.LogPath), 0o755); err != nil {
		r.log.Error("job log dir", "err", err)
	}
	logf, err := os.OpenFile(job.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	var log io.Writer = io.Discard
	if err == nil {
		defer logf.Close()
		mw := r.masker.NewWriter(logf)
		defer func() { _ = mw.Flush() }()
		log = mw
	}
	jctx, cancel := r.jobContext(ctx)
	defer cancel()
	held.OnLost(cancel) // taken over by another replica: stop working on it
	aj, running := r.track(job, cancel)
	if !running { // Drain began while this job was claimed
		<-shown
		r.requeue(ctx, job)
		return
	}
	defer r.untrack(job.ID)
	r.log.Info("job started", "job", job.ID, "kind", job.Kind, "queued", job.Started.Sub(job.Created))
	bodyCtx, after := execute.WithAfterJob(jctx) // cleanup left for after the outcome is shown
	defer after()
	out := func() (o Outcome) {
		ctx := execute.WithClock(bodyCtx, clock)
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("panic in job", "job", job.ID, "panic", fmt.Sprint(p))
				o = Outcome{Status: failedStatus(job.Kind), FailedStep: "internal", Error: r.view.Text(templates.JobPanicked{Error: fmt.Sprint(p)})}
			}
		}()
		switch job.Kind {
		case JobPlan:
			return r.exec.Plan(ctx, &job, log)
		case JobApply:
			return r.exec.Apply(ctx, &job, log)
		case JobPlanApply:
			return r.exec.PlanApply(ctx, &job, log)
		case JobDrift:
			return r.exec.Drift(ctx, &job, log)
		}
		return Outcome{Status: string(templates.StatusSkipped), Error: r.view.Text(templates.JobUnknownKind{Kind: string(job.Kind)})}
	}()
	clock.Mark("job body")
	<-shown
	clock.Mark("running shown")
	crashpoint.Hit(ctx, crashpoint.JobFinishing)
	if aj.requeue.Load() && ctx.Err() == nil {
		r.requeue(ctx, job)
		return
	}
	if ctx.Err() != nil {
		return // shutting down: recovery marks it interrupted at next start
	}
	r.finishJob(execute.WithClock(ctx, clock), job, out)
}

// finishJob stores a job's outcome and tells the PR.
func (r *Runner) finishJob(ctx context.Context, job Job, out Outcome) {
	state := JobSucceeded
	switch templates.ProjectStatus(out.Status) {
	case templates.StatusPlanError, templates.StatusApplyFailed:
		state = JobFailed
	case templates.StatusLocked, templates.StatusSkipped, templates.StatusRefused:
		state = JobSkipped
	}
	out.PlanText, out.ApplyText, out.LogTail = r.masker.Mask(out.PlanText), r.masker.Mask(out.ApplyText), r.masker.Mask(out.LogTail)
	out.Error = r.masker.Mask(out.Error)
	lost := false
	err := records.Update(ctx, r.rec, records.Jobs, job.ID, func(j *Job, _ bool) error {
		if lost = lease.TakenOver(*j, job); lost {
			return records.ErrAbort
		}
		j.State, j.Outcome, j.Finished, j.Commit = state, out, r.now(), job.Commit
		job = *j
		return nil
	})
	if err != nil {
		r.log.Error("store job outcome", "job", job.ID, "err", err)
	}
	if lost {
		r.log.Warn("job taken over by another replica after its lease expired; its outcome here is dropped", "job", job.ID)
		return
	}
	execute.Mark(ctx, "outcome stored")
	r.observer.ObserveJob(string(job.Kind), string(state), job.Finished.Sub(job.Started))
	r.log.Info("job finished", "job", job.ID, "kind", job.Kind, "state", state, "status", out.Status)
	// The comment first: it is what the pull request's author waits
	// for; the audit entry and the check run follow.
	r.afterUpdate(ctx, job)
	execute.Mark(ctx, "comment updated")
	r.trail.Job(ctx, job)
	r.checkDone(ctx, job)
	execute.Mark(ctx, "audit and check run")
	r.releaseOrdered(ctx, job.RunID)
	r.pr.AfterRunDone(ctx, job.RunID)
	r.planQueue.Released() // a queued plan that ended without its lock lets the next go
}

// releaseOrdered hands the workers again the still-queued jobs of an
// ordered run once one of its jobs is final: those of the next execution
// order group may start (runner/order).
func (r *Runner) releaseOrdered(ctx context.Context, runID string) {
	for _, id := range r.order.Queued(ctx, runID) {
		r.enqueue(id)
	}
}

// afterUpdate re-renders what shows a job: its run's comment, or for a
// drift job nothing (drift reports when the whole run is done).
func (r *Runner) afterUpdate(ctx context.Context, job Job) {
	if job.Number == 0 { // a scheduled drift job: reported when its run is done
		return
	}
	if err := r.renderRun(ctx, job.RunID); err != nil {
		r.log.Error("render run", "run", job.RunID, "err", err)
	}
}

func failedStatus(k JobKind) string {
	if k == JobApply || k == JobPlanApply {
		return string(templates.StatusApplyFailed)
	}
	return string(templates.StatusPlanError)
}

// checkDone completes a job's check run from its outcome, and a plan's
// policy check run.
func (r *Runner) checkDone(ctx context.Context, j Job) {
	if j.CheckRun == 0 {
		return
	}
	pr := r.view.ProjectResult(ctx, j)
	r.view.CompleteCheck(ctx, j, pr)
	if j.Kind == JobPlan && len(j.Outcome.Policies) > 0 {
		r.gates.PolicyCheck(ctx, j, pr)
	}
}

// newMark returns a random job mark (Job.Mark).
func newMark() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// noteApplying stores, with a job about to apply, the summary of the plan
// it applies: if the process dies during the apply, recovery names the
// resources whose provisioners may have run outside the state.
func (r *Runner) noteApplying(ctx context.Context, job Job, s *terraform.Summary) {
	err := records.Update(ctx, r.rec, records.Jobs, job.ID, func(j *Job, exists bool) error {
		if !exists {
			return records.ErrAbort
		}
		j.Outcome.Summary = s
		return nil
	})
	if err != nil {
		r.log.Warn("store the summary of an apply", "job", job.ID, "err", err)
	}
	crashpoint.Hit(ctx, crashpoint.BeforeApply)
}
