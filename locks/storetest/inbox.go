package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
)

func testDeliveries(t *testing.T, newStore New) {
	ctx := context.Background()
	clk := NewClock()
	s, replica := newStore(t, clk.Now)
	hs := handles(s, replica, 2)
	// Concurrent redeliveries of one id: one is stored.
	var (
		wg    sync.WaitGroup
		fresh atomic.Int32
	)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dup, err := hs[i%len(hs)].AddDelivery(ctx, "d1", "pull_request", []byte(`{"n":1}`))
			if err != nil {
				t.Error(err)
			} else if !dup {
				fresh.Add(1)
			}
		}()
	}
	wg.Wait()
	if f := fresh.Load(); f != 1 {
		t.Fatalf("%d of 10 deliveries of one id were stored, want 1", f)
	}
	for _, id := range []string{"d2", "d3"} {
		clk.Advance(time.Second)
		if dup, err := s.AddDelivery(ctx, id, "issue_comment", []byte(id)); err != nil || dup {
			t.Fatalf("AddDelivery %s = %v, %v", id, dup, err)
		}
	}
	pending, err := s.PendingDeliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range pending {
		ids = append(ids, d.ID)
	}
	if !reflect.DeepEqual(ids, []string{"d1", "d2", "d3"}) {
		t.Fatalf("pending = %q, want arrival order d1 d2 d3", ids)
	}
	if d := pending[0]; d.Event != "pull_request" || string(d.Body) != `{"n":1}` || d.State != locks.StatePending ||
		!d.Received.Equal(NewClock().Now()) || !d.Finished.IsZero() {
		t.Errorf("pending d1 = %+v", d)
	}
	clk.Advance(time.Second)
	if err := s.FinishDelivery(ctx, "d1", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishDelivery(ctx, "d2", "boom"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishDelivery(ctx, "nope", ""); !errors.Is(err, locks.ErrNotFound) {
		t.Fatalf("FinishDelivery of an unknown id = %v, want ErrNotFound", err)
	}
	d1, ok, err := s.GetDelivery(ctx, "d1")
	if err != nil || !ok || d1.State != locks.StateDone || d1.Body != nil || !d1.Finished.Equal(clk.Now()) {
		t.Errorf("done d1 = %+v, %v, %v; want done, body dropped", d1, ok, err)
	}
	d2, _, _ := s.GetDelivery(ctx, "d2")
	if d2.State != locks.StateFailed || d2.Error != "boom" || string(d2.Body) != "d2" {
		t.Errorf("failed d2 = %+v; want failed with its body", d2)
	}
	if dup, _ := s.AddDelivery(ctx, "d1", "pull_request", nil); !dup {
		t.Error("a finished delivery's id was stored again")
	}
	if pending, _ := s.PendingDeliveries(ctx); len(pending) != 1 || pending[0].ID != "d3" {
		t.Errorf("pending after finishing 2 = %+v", pending)
	}
	if _, ok, err := s.GetDelivery(ctx, "missing"); ok || err != nil {
		t.Errorf("GetDelivery(missing) = %v, %v", ok, err)
	}
}

func testDeliveryPrune(t *testing.T, newStore New) {
	ctx := context.Background()
	clk := NewClock()
	s, _ := newStore(t, clk.Now)
	for _, id := range []string{"old", "new", "waiting"} {
		if _, err := s.AddDelivery(ctx, id, "push", []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishDelivery(ctx, "old", ""); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if err := s.FinishDelivery(ctx, "new", "x"); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneDeliveries(ctx, clk.Now().Add(-time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("PruneDeliveries = %d, %v; want 1", n, err)
	}
	if _, ok, _ := s.GetDelivery(ctx, "old"); ok {
		t.Error("pruned delivery still there")
	}
	if dup, _ := s.AddDelivery(ctx, "old", "push", nil); dup {
		t.Error("a pruned id is still deduplicated")
	}
	n, err = s.PruneDeliveries(ctx, clk.Now().Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("second prune = %d, %v; want 1 (never the pending ones)", n, err)
	}
	if p, _ := s.PendingDeliveries(ctx); len(p) != 2 {
		t.Errorf("pending after prune = %+v, want waiting and old", p)
	}
}
