package lease_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/records"
)

// A job queued on one replica reaches another's workers through the queue
// signal within a few polls, once per lease; running jobs are not handed.
func TestQueuedJobReachesOtherReplicas(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		rs := replicas(2, 400*time.Millisecond, time.Now, open)
		a, b := rs[0], rs[1]
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		defer func() { cancel(); wg.Wait() }()
		rec := records.New(open())
		if err := rec.Put(ctx, records.Jobs, "running", records.Job{ID: "running", State: records.JobRunning}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		handed := map[string]int{}
		wg.Add(2)
		go func() { defer wg.Done(); a.SignalLoop(ctx) }()
		go func() {
			defer wg.Done()
			b.PollQueued(ctx, func(id string) { mu.Lock(); handed[id]++; mu.Unlock() })
		}()
		time.Sleep(150 * time.Millisecond) // b's first poll has seen the signal as it was
		if err := rec.Put(ctx, records.Jobs, "j1", records.Job{ID: "j1", State: records.JobQueued}); err != nil {
			t.Fatal(err)
		}
		a.SignalQueued()
		a.SignalQueued() // coalesces
		waitFor(t, "the queued job to reach the other replica", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return handed["j1"] > 0
		})
		a.SignalQueued() // the signal moves again within the lease
		time.Sleep(250 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if handed["j1"] != 1 || handed["running"] != 0 {
			t.Errorf("handed %v; want j1 once and no running job", handed)
		}
	})
}
