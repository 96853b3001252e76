package lease

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// The leader runs what must run once across replicas: the reconciler,
// the plan queue and the drift scheduler. On a store of its own (bbolt)
// the single process always leads. On a shared store the leader is the
// replica that holds the lease Bucket/"leader", taken and renewed like
// any other lease: when the leader dies, another replica takes the lease
// once it has expired (within a job_lease) and starts the leader's tasks;
// a leader that cannot renew stops them when its lease ends, and a leader
// that stops gives the lease up at once.
//
// A new leader first takes over what its predecessor left (Runtime's
// TookLead: the drift runs), as a restart does on a store of its own.
//
// A lease in the store rather than, say, a PostgreSQL advisory lock: it
// works the same on every store, needs no dedicated connection, and its
// failover time is the one job_lease already sets. Where two leaders
// could briefly overlap (a leader whose renewals failed, until its lease
// ran out), what they do is guarded by conditional updates anyway: a
// scheduled drift check is claimed once per tick, a PR is planned under
// its shared mutex once per head.

// LeaderKey is the key of the leader's lease in Bucket.
const LeaderKey = "leader"

// Task is a loop only the leader runs, until its ctx ends.
type Task struct {
	Name string
	Run  func(ctx context.Context)
}

// Runtime is what the leader needs of the engine that runs it.
type Runtime interface {
	// Go runs fn in a goroutine the engine waits for, started again after
	// a panic, until ctx ends.
	Go(ctx context.Context, name string, fn func(ctx context.Context))
	// Protected calls fn and reports whether it returned normally (false
	// after a panic, which it recovers and logs).
	Protected(ctx context.Context, name string, fn func(ctx context.Context)) bool
	// TookLead is called once each time this replica becomes the leader
	// on a shared store, before its tasks start: it takes over the work
	// the previous leader left. It ends when ctx (the lead) ends.
	TookLead(ctx context.Context)
}

// Leader elects this replica and runs the leader's tasks while it leads.
type Leader struct {
	ls      *Leases
	rt      Runtime
	leading atomic.Bool
}

// NewLeader returns the leader election of the replica ls is for.
func NewLeader(ls *Leases, rt Runtime) *Leader { return &Leader{ls: ls, rt: rt} }

// Leading reports whether this replica runs the leader's tasks now.
func (ld *Leader) Leading() bool { return ld.leading.Load() }

// Lead runs tasks on this replica whenever it is the leader, until ctx
// ends; it returns at once. Without a shared store this replica leads
// from now on and each task runs under Runtime.Go.
func (ld *Leader) Lead(ctx context.Context, tasks []Task) {
	if !ld.ls.c.Shared {
		ld.leading.Store(true)
		for _, t := range tasks {
			ld.rt.Go(ctx, t.Name, t.Run)
		}
		return
	}
	ld.rt.Go(ctx, "leader election", func(ctx context.Context) {
		for ctx.Err() == nil {
			ok, err := ld.ls.Try(ctx, Bucket, LeaderKey)
			if err != nil && ctx.Err() == nil {
				ld.ls.log.Warn("leader election", "err", err)
			}
			if ok {
				ld.serve(ctx, tasks)
				continue
			}
			t := time.NewTimer(ld.ls.c.RenewEvery())
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
	})
}

// serve runs tasks while this replica keeps the leader's lease.
func (ld *Leader) serve(ctx context.Context, tasks []Task) {
	ls := ld.ls
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ld.leading.Store(true)
	ls.log.Info("leading: this replica runs the reconciler, the plan queue and the drift scheduler", "replica", ls.c.ReplicaID)
	stop := ls.Keep(Bucket, LeaderKey, func(ctx context.Context) (bool, error) {
		return ls.Renew(ctx, Bucket, LeaderKey)
	}, cancel)
	ld.rt.TookLead(lctx)
	var wg sync.WaitGroup
	for _, t := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lctx.Err() == nil {
				if ld.rt.Protected(lctx, t.Name, t.Run) {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	<-lctx.Done()
	stop()
	wg.Wait()
	ld.leading.Store(false)
	if ctx.Err() != nil {
		// Stopping: hand the lead over now rather than after a lease.
		if err := ls.Release(context.WithoutCancel(ctx), Bucket, LeaderKey, false); err != nil {
			ls.log.Warn("give up the lead", "err", err)
		}
		return
	}
	ls.log.Warn("no longer leading: the lease was lost", "replica", ls.c.ReplicaID)
}
