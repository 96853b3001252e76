package lease_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/lease"
	"github.com/atollhq/atoll/runner/records"
)

// runtime is a leader's Runtime as the engine provides it: goroutines it
// waits for, panics recovered, and a count of the leads taken.
type runtime struct {
	wg   sync.WaitGroup
	took atomic.Int32
}

func (rt *runtime) Go(ctx context.Context, name string, fn func(ctx context.Context)) {
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		for ctx.Err() == nil {
			if rt.Protected(ctx, name, fn) {
				return
			}
		}
	}()
}

func (rt *runtime) Protected(ctx context.Context, name string, fn func(ctx context.Context)) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			ok = false
		}
	}()
	fn(ctx)
	return true
}

func (rt *runtime) TookLead(context.Context) { rt.took.Add(1) }

// One replica leads at a time; when it stops, another takes over at once
// (the stopped one hands the lease over), and a task that panics runs
// again.
func TestLeaderFailover(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		rs := replicas(3, 300*time.Millisecond, time.Now, open)
		var running, most, panics atomic.Int32
		task := func(ctx context.Context) {
			if panics.Add(1) == 1 {
				panic("first run")
			}
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-ctx.Done()
			running.Add(-1)
		}
		leaders := make([]*lease.Leader, len(rs))
		rts := make([]*runtime, len(rs))
		stops := make([]context.CancelFunc, len(rs))
		for i, r := range rs {
			ctx, cancel := context.WithCancel(context.Background())
			stops[i], rts[i] = cancel, &runtime{}
			leaders[i] = lease.NewLeader(r, rts[i])
			leaders[i].Lead(ctx, []lease.Task{{Name: "t", Run: task}})
		}
		t.Cleanup(func() {
			for i := range rs {
				stops[i]()
				rts[i].wg.Wait()
			}
		})
		leader := func() int {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				for i, l := range leaders {
					if l.Leading() && running.Load() == 1 {
						return i
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatal("no leader")
			return -1
		}
		first := leader()
		if rts[first].took.Load() != 1 {
			t.Errorf("the leader took over its predecessor's work %d times; want once", rts[first].took.Load())
		}
		stops[first]()
		rts[first].wg.Wait()
		if leaders[first].Leading() {
			t.Error("a stopped replica says it leads")
		}
		second := leader()
		if second == first {
			t.Fatal("a stopped replica still leads")
		}
		time.Sleep(400 * time.Millisecond) // more than a lease: no second leader appears
		if most.Load() != 1 {
			t.Errorf("%d leaders ran at once", most.Load())
		}
	})
}

// Without a shared store the single process leads at once, without a
// lease.
func TestSingleProcessLeads(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		c := lease.Cluster{ReplicaID: "solo"}
		c.Defaults()
		ls := lease.New(open(), c, time.Now, nil)
		rt := &runtime{}
		ld := lease.NewLeader(ls, rt)
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan struct{})
		ld.Lead(ctx, []lease.Task{{Name: "t", Run: func(ctx context.Context) { close(ran); <-ctx.Done() }}})
		<-ran
		if !ld.Leading() {
			t.Error("the single process does not lead")
		}
		cancel()
		rt.wg.Wait()
		if raw, ok, _ := open().GetRecord(context.Background(), lease.Bucket, lease.LeaderKey); ok {
			t.Errorf("the single process took a leader's lease: %s", raw)
		}
	})
}

// A replica whose lease was taken over stops leading and its tasks end.
func TestLeaderStopsWhenItsLeaseIsLost(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		rs := replicas(1, 300*time.Millisecond, time.Now, open)
		rt := &runtime{}
		ld := lease.NewLeader(rs[0], rt)
		ctx, cancel := context.WithCancel(context.Background())
		defer func() { cancel(); rt.wg.Wait() }()
		var runs, ended atomic.Int32
		ld.Lead(ctx, []lease.Task{{Name: "t", Run: func(ctx context.Context) { runs.Add(1); <-ctx.Done(); ended.Add(1) }}})
		waitFor(t, "a lead", func() bool { return runs.Load() == 1 })
		until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
		other := fmt.Sprintf(`{"owner":"elsewhere","until":%q}`, until)
		if err := open().PutRecord(context.Background(), lease.Bucket, lease.LeaderKey, []byte(other)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the task to end", func() bool { return ended.Load() == 1 })
		waitFor(t, "the lead to end", func() bool { return !ld.Leading() })
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
