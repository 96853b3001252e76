package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
)

// testAudit appends from every handle at once: the hash chain has no
// fork, no gap, and verifies; pruning keeps it verifiable.
func testAudit(t *testing.T, newStore New) {
	ctx := context.Background()
	clk := NewClock()
	s, replica := newStore(t, clk.Now)
	hs := handles(s, replica, 3)
	var wg sync.WaitGroup
	const n = 30
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := audit.New(hs[i%len(hs)], clk.Now)
			if _, err := tr.Append(ctx, audit.Entry{Actor: "alice", Action: "command.plan", Repo: "o/r", Number: i + 1}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, err := audit.Verify(ctx, s); err != nil || got != n {
		t.Fatalf("Verify after %d concurrent appends = %d, %v", n, got, err)
	}
	var seqs []uint64
	if err := s.ReadAudit(ctx, 5, func(seq uint64, raw []byte) error {
		seqs = append(seqs, seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != n-4 || seqs[0] != 5 || seqs[len(seqs)-1] != n {
		t.Errorf("ReadAudit(since 5) read seqs %v", seqs)
	}
	stop := errors.New("stop")
	if err := s.ReadAudit(ctx, 1, func(uint64, []byte) error { return stop }); err != stop {
		t.Errorf("ReadAudit returned %v, want fn's error as is", err)
	}
	clk.Advance(time.Hour)
	tr := audit.New(s, clk.Now)
	if _, err := tr.Append(ctx, audit.Entry{Actor: "bob", Action: "lock.released"}); err != nil {
		t.Fatal(err)
	}
	if pruned, err := tr.Prune(ctx, clk.Now().Add(-time.Minute)); err != nil || pruned != n {
		t.Fatalf("Prune = %d, %v; want %d", pruned, err, n)
	}
	if got, err := audit.Verify(ctx, s); err != nil || got != 2 {
		t.Fatalf("Verify after prune = %d, %v; want checkpoint and 1", got, err)
	}
}

func testInvalidAndClosed(t *testing.T, newStore New) {
	ctx := context.Background()
	s, _ := newStore(t, NewClock().Now)
	bad := []error{}
	_, _, err := s.TryLock(ctx, locks.Key{Repo: "o/r", Dir: "a", Workspace: ""}, locks.Owner{Repo: "o/r", Number: 1})
	bad = append(bad, err)
	_, _, err = s.TryLock(ctx, locks.Key{Repo: "o/r", Dir: "a", Workspace: "w"}, locks.Owner{Repo: "o/r"})
	bad = append(bad, err)
	_, err = s.AddDelivery(ctx, "", "push", nil)
	bad = append(bad, err)
	bad = append(bad, s.PutRecord(ctx, "", "k", nil), s.PutRecord(ctx, "b", "", nil))
	_, err = s.NextID(ctx, "")
	bad = append(bad, err)
	for i, err := range bad {
		if !errors.Is(err, locks.ErrInvalid) {
			t.Errorf("bad input %d: %v, want ErrInvalid", i, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.PutRecord(cancelled, "b", "k", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("PutRecord with a cancelled context = %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, "b", "k", nil); !errors.Is(err, locks.ErrClosed) {
		t.Errorf("PutRecord after Close = %v, want ErrClosed", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, locks.ErrClosed) {
		t.Errorf("List after Close = %v, want ErrClosed", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping after Close succeeded")
	}
}
