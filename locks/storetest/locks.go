package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
)

func testLocks(t *testing.T, newStore New) {
	ctx := context.Background()
	clk := NewClock()
	s, _ := newStore(t, clk.Now)
	pr1 := locks.Owner{Repo: "o/r", Number: 1, Author: "alice", HeadSHA: "aaa"}
	pr2 := locks.Owner{Repo: "o/r", Number: 2, Author: "bob", HeadSHA: "bbb"}
	key := locks.Key{Repo: "o/r", Dir: "infra/prod/", Workspace: "default"}
	clean := locks.Key{Repo: "o/r", Dir: "infra/prod", Workspace: "default"}

	held, ok, err := s.TryLock(ctx, key, pr1)
	if err != nil || !ok {
		t.Fatalf("TryLock on a free key = %v, %v; want acquired", ok, err)
	}
	want := locks.Lock{Key: clean, Owner: pr1}
	want.Owner.Time = clk.Now()
	if !reflect.DeepEqual(held, want) {
		t.Fatalf("TryLock returned %+v, want %+v", held, want)
	}
	if got, ok, err := s.Get(ctx, key); err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	// Another PR is refused and sees the holder.
	held, ok, err = s.TryLock(ctx, clean, pr2)
	if err != nil || ok || !reflect.DeepEqual(held, want) {
		t.Fatalf("TryLock by another PR = %+v, %v, %v; want refused with holder %+v", held, ok, err, want)
	}
	// The same PR again refreshes the owner.
	clk.Advance(time.Minute)
	again := pr1
	again.HeadSHA = "ccc"
	held, ok, err = s.TryLock(ctx, key, again)
	if err != nil || !ok || held.Owner.HeadSHA != "ccc" || !held.Owner.Time.Equal(clk.Now()) {
		t.Fatalf("TryLock by the same PR = %+v, %v, %v; want refreshed", held, ok, err)
	}
	// Listing: by key order, by owner.
	other := locks.Key{Repo: "o/a", Dir: ".", Workspace: "default"}
	if _, ok, err := s.TryLock(ctx, other, pr2); err != nil || !ok {
		t.Fatalf("TryLock %s: %v %v", other, ok, err)
	}
	if _, ok, err := s.TryLock(ctx, locks.Key{Repo: "o/r", Dir: "infra/dev", Workspace: "default"}, pr1); err != nil || !ok {
		t.Fatalf("TryLock: %v %v", ok, err)
	}
	all, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, l := range all {
		keys = append(keys, l.Key.Repo+" "+l.Key.Dir)
	}
	if want := []string{"o/a .", "o/r infra/dev", "o/r infra/prod"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("List keys = %q, want %q", keys, want)
	}
	mine, err := s.ListByOwner(ctx, "o/r", 1)
	if err != nil || len(mine) != 2 {
		t.Fatalf("ListByOwner = %+v, %v; want 2 locks", mine, err)
	}
	released, err := s.UnlockByOwner(ctx, "o/r", 1)
	if err != nil || len(released) != 2 || released[0].Key.Dir != "infra/dev" {
		t.Fatalf("UnlockByOwner = %+v, %v; want the 2 locks in order", released, err)
	}
	if err := s.Unlock(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(ctx, other); err != nil {
		t.Fatalf("Unlock of a free key: %v", err)
	}
	if all, err := s.List(ctx); err != nil || len(all) != 0 {
		t.Fatalf("List after releasing all = %+v, %v; want empty", all, err)
	}
	if _, ok, err := s.Get(ctx, key); err != nil || ok {
		t.Fatalf("Get of a released key = %v, %v", ok, err)
	}
}

// testLockRace: many PRs race for one key, over every handle; exactly one
// gets it and everyone else is told who.
func testLockRace(t *testing.T, newStore New) {
	ctx := context.Background()
	s, replica := newStore(t, NewClock().Now)
	hs := handles(s, replica, 3)
	key := locks.Key{Repo: "o/r", Dir: "net", Workspace: "prod"}
	const n = 24
	var (
		wg      sync.WaitGroup
		winners atomic.Int32
		holders sync.Map
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			held, ok, err := hs[i%len(hs)].TryLock(ctx, key, locks.Owner{Repo: "o/r", Number: i + 1})
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				winners.Add(1)
			}
			holders.Store(held.Owner.Number, true)
		}()
	}
	close(start)
	wg.Wait()
	if w := winners.Load(); w != 1 {
		t.Fatalf("%d PRs took the lock, want exactly 1", w)
	}
	count := 0
	holders.Range(func(any, any) bool { count++; return true })
	if count != 1 {
		t.Errorf("losers were told of %d different holders, want the 1 winner", count)
	}
}

// testExactlyOnce: a plan moves from planned to applying once, however
// many replicas race to apply it.
func testExactlyOnce(t *testing.T, newStore New) {
	ctx := context.Background()
	s, replica := newStore(t, NewClock().Now)
	hs := handles(s, replica, 3)
	if err := s.PutRecord(ctx, "plans", "o/r/1/net/prod", []byte("planned")); err != nil {
		t.Fatal(err)
	}
	errTaken := errors.New("not planned")
	const n = 30
	var (
		wg      sync.WaitGroup
		winners atomic.Int32
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := hs[i%len(hs)].UpdateRecord(ctx, "plans", "o/r/1/net/prod", func(old []byte, exists bool) ([]byte, error) {
				if !exists || string(old) != "planned" {
					return nil, errTaken
				}
				return []byte(fmt.Sprintf("applying by %d", i)), nil
			})
			switch {
			case err == nil:
				winners.Add(1)
			case err != errTaken: // fn's error comes back as is
				t.Errorf("UpdateRecord: %v, want nil or fn's own error", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if w := winners.Load(); w != 1 {
		t.Fatalf("%d callers moved the plan to applying, want exactly 1", w)
	}
	// Creating a record that is absent is exactly-once too, and each
	// UpdateRecord calls its fn once (a caller's fn records what it saw:
	// run again by a retried transaction, two callers would both believe
	// they created the record).
	var created, calls, sawAbsent atomic.Int32
	start = make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := hs[i%len(hs)].UpdateRecord(ctx, "runs", "new", func(old []byte, exists bool) ([]byte, error) {
				calls.Add(1)
				if !exists {
					sawAbsent.Add(1)
				}
				if exists {
					return nil, errTaken
				}
				return []byte("mine"), nil
			})
			if err == nil {
				created.Add(1)
			} else if err != errTaken {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if c := created.Load(); c != 1 {
		t.Fatalf("%d callers created the absent record, want exactly 1", c)
	}
	if c, a := calls.Load(), sawAbsent.Load(); c != n || a != 1 {
		t.Fatalf("%d UpdateRecord calls ran fn %d times, %d of them on an absent record; want %d and 1", n, c, a, n)
	}
	// Increments from every handle are all kept (no lost update).
	const incs = 40
	for i := range incs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := hs[i%len(hs)].UpdateRecord(ctx, "counters", "c", func(old []byte, exists bool) ([]byte, error) {
				var v int
				if exists {
					fmt.Sscan(string(old), &v)
				}
				return []byte(fmt.Sprint(v + 1)), nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _, err := s.GetRecord(ctx, "counters", "c"); err != nil || string(got) != fmt.Sprint(incs) {
		t.Fatalf("counter after %d concurrent increments = %q, %v", incs, got, err)
	}
}
