package runner

import (
	"context"

	"github.com/atollhq/atoll/runner/lease"
)

// The engine's side of runner/lease: its types under the names the
// engine's API gives them, and the engine as the leader's Runtime.

// Cluster says whether this runner shares its store with other atoll
// processes, and how (see lease.Cluster).
type Cluster = lease.Cluster

// DefaultJobLease is the job lease when job_lease is unset.
const DefaultJobLease = lease.DefaultJobLease

// IsLeader reports whether this replica runs the leader's tasks now.
func (r *Runner) IsLeader() bool { return r.leader.Leading() }

// shared reports whether other replicas use this runner's store.
func (r *Runner) shared() bool { return r.cfg.Cluster.Shared }

// claimDelivery claims a delivery for this replica; on a store of its
// own there is nobody to claim it from.
func (r *Runner) claimDelivery(ctx context.Context, id string) bool {
	return !r.shared() || r.leases.ClaimDelivery(ctx, id)
}

// holdDelivery keeps this replica's claim of a delivery while it is
// handled (nothing on a store of its own).
func (r *Runner) holdDelivery(id string) func(ctx context.Context, done bool) {
	if !r.shared() {
		return func(context.Context, bool) {}
	}
	return r.leases.HoldDelivery(id)
}

// leaderRuntime is the engine as lease.Runtime.
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
	if err := l.r.drift.checker.Recover(ctx); err != nil {
		l.r.log.Error("drift: take over the previous leader's checks", "err", err)
	}
}

// signalQueuedJobs tells the other replicas' workers a job was queued
// (nobody to tell on a store of its own).
func (r *Runner) signalQueuedJobs() {
	if r.shared() {
		r.leases.SignalQueued()
	}
}

// pollQueue hands this replica's workers the jobs other replicas queued.
func (r *Runner) pollQueue(ctx context.Context) {
	r.leases.PollQueued(ctx, func(id string) {
		select { // not enqueue: that would signal the others again
		case r.queue <- id:
		default: // full: the minute's sweep finds it
		}
	})
}
