package runner

import (
	"context"
	"time"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

// Jobs on a shared store (see Cluster). A worker claims a queued job with
// one conditional update of its record (queued -> running, with this
// replica as Owner and a LeaseUntil one lease ahead), so one replica runs
// it. While it runs, the worker renews the lease every third of it. The
// job leases themselves are runner/lease's (ClaimJob, HoldJob, TakenOver,
// JobExpired); what to do with an expired job is decided here. A
// job whose lease has passed was left by a replica that died (or lost
// the store for a whole lease): any replica's rescuer then takes it
// over, again by a conditional update that checks the lease has not been
// renewed meanwhile:
//   - a plan or drift check is queued again and runs on whichever
//     replica claims it next;
//   - an apply is marked interrupted and reported on its PR, and never
//     runs again by itself: the infrastructure may be partly changed.
// A replica that finds its lease lost stops the job and drops its
// outcome (finishJob), so a job taken over never reports twice.

// recoverShared is start-up recovery on a shared store: queued jobs go to
// the workers, and only jobs whose lease expired are taken over; the
// others belong to live replicas.
func (r *Runner) recoverShared(ctx context.Context) error {
	jobs, err := records.List[Job](ctx, r.rec, records.Jobs, "")
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.State == JobQueued {
			r.enqueue(j.ID)
		}
	}
	r.rescue(ctx, jobs)
	return nil
}

// rescueLoop takes over the jobs of dead replicas, every half lease.
func (r *Runner) rescueLoop(ctx context.Context) {
	t := time.NewTicker(max(r.cfg.Cluster.JobLease/2, 10*time.Millisecond))
	defer t.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		jobs, err := records.List[Job](ctx, r.rec, records.Jobs, "")
		if err != nil {
			r.log.Warn("rescue: list jobs", "err", err)
			continue
		}
		r.rescue(ctx, jobs)
		if i%4 == 0 {
			r.releaseStaleClaims(ctx)
		}
	}
}

// releaseStaleClaims puts back to planned each plan claimed for an apply
// whose job was never stored: the replica that claimed it died between
// the claim and the apply's run (start-up recovery does the same on a
// store of its own). A claim and its run are made under the PR's mutex,
// so a plan still claimed once this replica holds that mutex was left.
func (r *Runner) releaseStaleClaims(ctx context.Context) {
	plans, err := records.List[Plan](ctx, r.rec, records.Plans, "")
	if err != nil {
		r.log.Warn("rescue: list plans", "err", err)
		return
	}
	for _, p := range plans {
		if p.State != PlanApplying || p.ApplyJob != records.ApplyClaimed {
			continue
		}
		key := records.PlanKey(p.Repo, p.Number, p.Project.Name)
		unlock := r.prMu.Lock(records.PRKey(p.Repo, p.Number))
		released := false
		err := records.Update(ctx, r.rec, records.Plans, key, func(cur *Plan, exists bool) error {
			released = false
			if !exists || cur.State != PlanApplying || cur.ApplyJob != records.ApplyClaimed {
				return records.ErrAbort
			}
			cur.State, cur.ApplyJob, released = PlanPlanned, "", true
			return nil
		})
		unlock()
		if err == nil && released {
			r.log.Warn("plan claimed for an apply by a replica that stopped before the apply started: it can be applied again", "plan", key)
		}
	}
}

// rescue takes over each running job of jobs whose lease has expired.
func (r *Runner) rescue(ctx context.Context, jobs []Job) {
	now := r.now()
	runs := map[string]bool{}
	for _, j := range jobs {
		if !r.leases.JobExpired(j, now) {
			continue
		}
		// Still the same claim, and still not renewed.
		still := func(cur Job) bool { return cur.Mark == j.Mark && r.leases.JobExpired(cur, r.now()) }
		switch j.Kind {
		case JobPlan, JobDrift:
			if r.requeueExpired(ctx, j, still) {
				r.log.Warn("job taken over: the replica running it stopped renewing its lease; it runs again",
					"job", j.ID, "kind", j.Kind, "owner", j.Owner)
			}
		default:
			cur, done, err := r.interruptJob(ctx, j, still)
			if err != nil {
				r.log.Error("rescue: interrupt an apply", "job", j.ID, "err", err)
				continue
			}
			if done {
				r.log.Warn("apply interrupted: the replica running it stopped renewing its lease",
					"job", j.ID, "owner", j.Owner)
				runs[cur.RunID] = true
				r.releaseOrdered(ctx, cur.RunID)
				r.pr.AfterRunDone(ctx, cur.RunID)
			}
		}
	}
	for runID := range runs {
		r.noteRunInterrupted(ctx, runID)
	}
}

// requeueExpired puts a plan whose replica died back in the queue.
func (r *Runner) requeueExpired(ctx context.Context, j Job, still func(Job) bool) bool {
	done := false
	err := records.Update(ctx, r.rec, records.Jobs, j.ID, func(cur *Job, exists bool) error {
		if !exists || !still(*cur) {
			return records.ErrAbort
		}
		cur.State, cur.Started, cur.Mark, cur.Owner, cur.LeaseUntil = JobQueued, time.Time{}, "", "", time.Time{}
		cur.Outcome = Outcome{Status: string(templates.StatusQueued)}
		j, done = *cur, true
		return nil
	})
	if err != nil {
		r.log.Error("rescue: queue a plan again", "job", j.ID, "err", err)
		return false
	}
	if done {
		r.enqueue(j.ID)
		r.afterUpdate(ctx, j)
	}
	return done
}
