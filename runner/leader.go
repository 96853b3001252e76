package runner

import (
	"context"
	"sync"
	"time"
)

// The leader runs what must run once across replicas: the reconciler,
// the plan queue and the drift scheduler. On a store of its own (bbolt)
// the single process always leads. On a shared store the leader is the
// replica that holds the lease bucketLeases/"leader", taken and renewed
// like any other lease (lease.go): when the leader dies, another replica
// takes the lease once it has expired (within a job_lease) and starts
// the leader's tasks; a leader that cannot renew stops them when its
// lease ends, and a leader that stops gives the lease up at once.
//
// A new leader first takes over the drift runs its predecessor left
// (recoverDrift), as a restart does on a store of its own.
//
// A lease in the store rather than, say, a PostgreSQL advisory lock: it
// works the same on every store, needs no dedicated connection, and its
// failover time is the one job_lease already sets. Where two leaders
// could briefly overlap (a leader whose renewals failed, until its lease
// ran out), what they do is guarded by conditional updates anyway: a
// scheduled drift check is claimed once per tick (claimTick), a PR is
// planned under its shared mutex once per head.

const leaderKey = "leader"

// leaderTask is a loop only the leader runs.
type leaderTask struct {
	name string
	run  func(ctx context.Context)
}

// IsLeader reports whether this replica runs the leader's tasks now.
func (r *Runner) IsLeader() bool { return r.leading.Load() }

// lead runs tasks on this replica whenever it is the leader, until ctx
// ends.
func (r *Runner) lead(ctx context.Context, tasks []leaderTask) {
	if !r.shared() {
		r.leading.Store(true)
		for _, t := range tasks {
			r.goSafe(ctx, t.name, t.run)
		}
		return
	}
	r.goSafe(ctx, "leader election", func(ctx context.Context) {
		for ctx.Err() == nil {
			ok, err := r.tryLease(ctx, bucketLeases, leaderKey)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("leader election", "err", err)
			}
			if ok {
				r.serveAsLeader(ctx, tasks)
				continue
			}
			t := time.NewTimer(r.cfg.Cluster.renewEvery())
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
	})
}

// serveAsLeader runs tasks while this replica keeps the leader's lease.
func (r *Runner) serveAsLeader(ctx context.Context, tasks []leaderTask) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.leading.Store(true)
	r.log.Info("leading: this replica runs the reconciler, the plan queue and the drift scheduler", "replica", r.cfg.Cluster.ReplicaID)
	stop := r.keepLease(bucketLeases, leaderKey, func(ctx context.Context) (bool, error) {
		return r.renewLease(ctx, bucketLeases, leaderKey)
	}, cancel)
	// Drift runs are the leader's: a new leader takes over those its
	// predecessor left (reports the finished ones, starts again those cut
	// off before their jobs were stored), as a restart does.
	if err := r.recoverDrift(lctx); err != nil {
		r.log.Error("drift: take over the previous leader's checks", "err", err)
	}
	var wg sync.WaitGroup
	for _, t := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lctx.Err() == nil {
				if r.runProtected(lctx, t.name, t.run) {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	<-lctx.Done()
	stop()
	wg.Wait()
	r.leading.Store(false)
	if ctx.Err() != nil {
		// Stopping: hand the lead over now rather than after a lease.
		if err := r.releaseLease(context.WithoutCancel(ctx), bucketLeases, leaderKey, false); err != nil {
			r.log.Warn("give up the lead", "err", err)
		}
		return
	}
	r.log.Warn("no longer leading: the lease was lost", "replica", r.cfg.Cluster.ReplicaID)
}
