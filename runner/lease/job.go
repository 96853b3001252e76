package lease

import (
	"context"
	"sync"
	"time"

	"github.com/atollhq/atoll/runner/records"
)

// Jobs on a shared store (see Cluster). A worker claims a queued job with
// one conditional update of its record (queued -> running, with this
// replica as Owner and a LeaseUntil one lease ahead: ClaimJob), so one
// replica runs it. While it runs, the worker renews the lease every third
// of it (HoldJob). A job whose lease has passed (JobExpired) was left by a
// replica that died (or lost the store for a whole lease): the engine
// then takes it over, again by a conditional update that checks the lease
// has not been renewed meanwhile. A replica that finds its lease lost
// (TakenOver) stops the job and drops its outcome, so a job taken over
// never reports twice.

// ClaimJob makes j, being claimed, this replica's for one lease. Call it
// inside the conditional update that moves j to running.
func (ls *Leases) ClaimJob(j *records.Job) {
	j.Owner, j.LeaseUntil = ls.c.ReplicaID, ls.now().Add(ls.c.JobLease)
}

// TakenOver reports whether the stored job cur is no longer the claim a
// worker made (job): another replica took it over and claimed it again,
// or queued it again, after the lease expired. A job claimed without a
// Mark is never taken over.
func TakenOver(cur, job records.Job) bool {
	return job.Mark != "" && (cur.Mark != job.Mark || cur.State != records.JobRunning)
}

// HeldJob is a claimed job whose lease a worker renews.
type HeldJob struct {
	stop   func()
	mu     sync.Mutex
	lost   bool
	cancel context.CancelFunc
}

// HoldJob renews a claimed job's lease until Stop. If the lease is lost,
// the function given to OnLost is called (at once if it was lost before).
func (ls *Leases) HoldJob(job records.Job) *HeldJob {
	h := &HeldJob{}
	h.stop = ls.Keep(records.Jobs, job.ID, func(ctx context.Context) (bool, error) {
		ok := false
		err := records.Update(ctx, ls.rec, records.Jobs, job.ID, func(j *records.Job, exists bool) error {
			if !exists || TakenOver(*j, job) {
				return records.ErrAbort
			}
			j.LeaseUntil, ok = ls.now().Add(ls.c.JobLease), true
			return nil
		})
		return ok && err == nil, err
	}, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.lost = true
		if h.cancel != nil {
			h.cancel()
		}
	})
	return h
}

// Stop ends the renewals (the job is done); it may be called again.
func (h *HeldJob) Stop() { h.stop() }

// OnLost sets what is called when the job's lease is lost: at once if it
// was lost already.
func (h *HeldJob) OnLost(cancel context.CancelFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cancel = cancel
	if h.lost {
		cancel()
	}
}

// JobExpired reports whether a running job's lease has passed at now.
// A job claimed without a lease (by an atoll before leases, or by
// CancelJob, which finishes it at once) counts one lease from its start.
// A job this replica claimed before it was born (New) is dead whatever
// its lease says: the replica id belongs to one live process at a time
// (the server holds its data dir's lock), so a restarted replica takes
// its own work over at once, as a single server does.
func (ls *Leases) JobExpired(j records.Job, now time.Time) bool {
	if j.State == records.JobRunning && j.Owner == ls.c.ReplicaID && j.Started.Before(ls.born) {
		return true
	}
	until := j.LeaseUntil
	if until.IsZero() {
		until = j.Started.Add(ls.c.JobLease)
	}
	return j.State == records.JobRunning && now.After(until)
}
