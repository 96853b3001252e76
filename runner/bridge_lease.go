package runner

import (
	"context"
	"time"

	"github.com/atollhq/atoll/runner/lease"
)

// The root's side of runner/lease: its types under their old names, the
// wrappers the rest of the root still calls (removed by the cleanup after
// the split), and the leader's Runtime.

// Cluster says whether this runner shares its store with other atoll
// processes, and how (see lease.Cluster).
type Cluster = lease.Cluster

// DefaultJobLease is the job lease when job_lease is unset.
const DefaultJobLease = lease.DefaultJobLease

// keyedMutex is lease.KeyedMutex under the name the root calls it by.
type keyedMutex struct{ lease.KeyedMutex }

func (k *keyedMutex) lock(key string) func() { return k.Lock(key) }

// leaderTask is a loop only the leader runs (lease.Task).
type leaderTask struct {
	name string
	run  func(ctx context.Context)
}

// IsLeader reports whether this replica runs the leader's tasks now.
func (r *Runner) IsLeader() bool { return r.leader.Leading() }

func (r *Runner) lead(ctx context.Context, tasks []leaderTask) {
	ts := make([]lease.Task, 0, len(tasks))
	for _, t := range tasks {
		ts = append(ts, lease.Task{Name: t.name, Run: t.run})
	}
	r.leader.Lead(ctx, ts)
}

// shared reports whether other replicas use this runner's store.
func (r *Runner) shared() bool { return r.cfg.Cluster.Shared }

func (r *Runner) claimDelivery(ctx context.Context, id string) bool {
	return !r.shared() || r.leases.ClaimDelivery(ctx, id)
}

func (r *Runner) holdDelivery(id string) func(ctx context.Context, done bool) {
	if !r.shared() {
		return func(context.Context, bool) {}
	}
	return r.leases.HoldDelivery(id)
}

func (r *Runner) pruneClaimsLoop(ctx context.Context) { r.leases.PruneDeliveryClaimsLoop(ctx) }

func (r *Runner) leaseJob(j *Job) { r.leases.ClaimJob(j) }

func takenOver(cur, job Job) bool { return lease.TakenOver(cur, job) }

// heldJob is lease.HeldJob under the names worker.go calls.
type heldJob struct{ h *lease.HeldJob }

func (h heldJob) stop()                            { h.h.Stop() }
func (h heldJob) onLost(cancel context.CancelFunc) { h.h.OnLost(cancel) }

func (r *Runner) holdJob(job Job) heldJob { return heldJob{r.leases.HoldJob(job)} }

func (r *Runner) leaseExpired(j Job, now time.Time) bool { return r.leases.JobExpired(j, now) }

// leaderRuntime is what the leader needs of the Runner.
type leaderRuntime struct{ r *Runner }

func (l leaderRuntime) Go(ctx context.Context, name string, fn func(ctx context.Context)) {
	l.r.goSafe(ctx, name, fn)
}

func (l leaderRuntime) Protected(ctx context.Context, name string, fn func(ctx context.Context)) bool {
	return l.r.runProtected(ctx, name, fn)
}

// TookLead takes over the drift runs the previous leader left (reports
// the finished ones, starts again those cut off before their jobs were
// stored), as a restart does: drift runs are the leader's.
func (l leaderRuntime) TookLead(ctx context.Context) {
	if err := l.r.recoverDrift(ctx); err != nil {
		l.r.log.Error("drift: take over the previous leader's checks", "err", err)
	}
}

func (r *Runner) signalQueuedJobs() {
	if r.shared() { // a Runner built by hand in a test may have no leases
		r.leases.SignalQueued()
	}
}

func (r *Runner) signalLoop(ctx context.Context) { r.leases.SignalLoop(ctx) }

// pollQueue hands this replica's workers the jobs other replicas queued.
func (r *Runner) pollQueue(ctx context.Context) {
	r.leases.PollQueued(ctx, func(id string) {
		select { // not enqueue: that would signal the others again
		case r.queue <- id:
		default: // full: the minute's sweep finds it
		}
	})
}
