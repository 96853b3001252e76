package lease_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/storetest"
	"github.com/atollhq/atoll/runner/lease"
	"github.com/atollhq/atoll/runner/records"
)

// A lease is one replica's until it expires: the others cannot take it,
// its holder renews it, and once it has expired another takes it over
// and the first can no longer renew it. A key marked done is never
// claimed again.
func TestLeaseIsExclusiveUntilItExpires(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		ctx := context.Background()
		clock := storetest.NewClock()
		rs := replicas(2, time.Minute, clock.Now, open)
		a, b := rs[0], rs[1]
		if ok, err := a.Try(ctx, lease.Bucket, "k"); !ok || err != nil {
			t.Fatalf("a: first claim = %v, %v; want it taken", ok, err)
		}
		if ok, _ := b.Try(ctx, lease.Bucket, "k"); ok {
			t.Fatal("b claimed a lease a holds")
		}
		clock.Advance(50 * time.Second)
		if ok, _ := a.Renew(ctx, lease.Bucket, "k"); !ok {
			t.Fatal("a could not renew its own lease")
		}
		clock.Advance(50 * time.Second) // 100s after the claim, 50s after the renewal
		if ok, _ := b.Try(ctx, lease.Bucket, "k"); ok {
			t.Fatal("b claimed a renewed lease before it expired")
		}
		clock.Advance(11 * time.Second)
		if ok, _ := b.Try(ctx, lease.Bucket, "k"); !ok {
			t.Fatal("b could not claim a lease that expired")
		}
		if ok, _ := a.Renew(ctx, lease.Bucket, "k"); ok {
			t.Fatal("a renewed a lease b has taken over")
		}
		// a releasing what it no longer holds leaves b's lease alone.
		if err := a.Release(ctx, lease.Bucket, "k", false); err != nil {
			t.Fatal(err)
		}
		if ok, _ := a.Try(ctx, lease.Bucket, "k"); ok {
			t.Fatal("a's release of a lease it lost freed b's")
		}
		// b's release frees it at once, for a.
		if err := b.Release(ctx, lease.Bucket, "k", false); err != nil {
			t.Fatal(err)
		}
		if ok, _ := a.Try(ctx, lease.Bucket, "k"); !ok {
			t.Fatal("a could not claim a lease b released")
		}
		// A handled delivery is never claimed again, even once its lease is old.
		if err := a.Release(ctx, lease.Bucket, "k", true); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		for _, r := range rs {
			if ok, _ := r.Try(ctx, lease.Bucket, "k"); ok {
				t.Fatal("a key marked done was claimed")
			}
		}
	})
}

// Replicas racing for one free key: exactly one wins each key, on every
// store (on PostgreSQL two first claims of a key race in two
// transactions, and the loser must not believe it won).
func TestRacingClaimsHaveOneWinner(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		ctx := context.Background()
		rs := replicas(4, time.Minute, time.Now, open)
		for k := range 10 {
			key := fmt.Sprintf("race-%d", k)
			var wins atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, r := range rs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if ok, _ := r.Try(ctx, lease.Bucket, key); ok {
						wins.Add(1)
					}
				}()
			}
			close(start)
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Errorf("%s: %d replicas won the claim; want exactly 1", key, n)
			}
		}
	})
}

// Keep renews a lease for as long as it is kept, so that no other replica
// takes it; when another replica has taken it over meanwhile, the holder
// is told once and stops renewing.
func TestKeepRenewsAndNoticesTakeover(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		ctx := context.Background()
		rs := replicas(2, 300*time.Millisecond, time.Now, open)
		a, b := rs[0], rs[1]
		if ok, err := a.Try(ctx, lease.Bucket, "k"); !ok || err != nil {
			t.Fatalf("claim = %v, %v", ok, err)
		}
		var lost atomic.Int32
		stop := a.Keep(lease.Bucket, "k", func(ctx context.Context) (bool, error) {
			return a.Renew(ctx, lease.Bucket, "k")
		}, func() { lost.Add(1) })
		for range 8 { // more than two leases
			time.Sleep(100 * time.Millisecond)
			if ok, _ := b.Try(ctx, lease.Bucket, "k"); ok {
				t.Fatal("b took a lease a keeps renewed")
			}
		}
		if lost.Load() != 0 {
			t.Fatal("a kept lease was reported lost")
		}
		// The lease is b's now (as if a's renewals had stopped for a lease).
		if err := open().PutRecord(ctx, lease.Bucket, "k", []byte(`{"owner":"b","until":"2999-01-01T00:00:00Z"}`)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(3 * time.Second)
		for lost.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		stop()
		stop() // a second stop is harmless
		if n := lost.Load(); n != 1 {
			t.Fatalf("lost reported %d times; want once", n)
		}
		if ok, _ := a.Try(ctx, lease.Bucket, "k"); ok {
			t.Fatal("a claimed the lease b took over")
		}
	})
}

// The shared half of a keyed mutex keeps replicas out of one key's
// critical section at once, while each replica's own goroutines queue on
// its in-process mutex.
func TestSharedMutexAcrossReplicas(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		rs := replicas(3, 5*time.Second, time.Now, open)
		mus := make([]*lease.KeyedMutex, len(rs))
		for i, r := range rs {
			mus[i] = &lease.KeyedMutex{Shared: r.Mutex("pr/")}
		}
		var inside, overlaps atomic.Int32
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				unlock := mus[i%3].Lock("acme/infra#0000007")
				if inside.Add(1) > 1 {
					overlaps.Add(1)
				}
				time.Sleep(5 * time.Millisecond)
				inside.Add(-1)
				unlock()
			}()
		}
		wg.Wait()
		if overlaps.Load() > 0 {
			t.Errorf("%d times two holders were inside one PR's mutex at once", overlaps.Load())
		}
		for i, m := range mus {
			if m.Size() != 0 {
				t.Errorf("replica %d keeps %d keys after every unlock", i, m.Size())
			}
		}
		// Every lease was given up: a replica takes the key at once.
		if ok, _ := rs[0].Try(context.Background(), lease.Bucket, "pr/acme/infra#0000007"); !ok {
			t.Error("the shared mutex's lease was not released")
		}
	})
}
