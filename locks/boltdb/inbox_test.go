package boltdb

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
)

// pendingIDs returns the ids PendingDeliveries returns, in order.
func pendingIDs(t *testing.T, db *DB) []string {
	t.Helper()
	ds, err := db.PendingDeliveries(t.Context())
	if err != nil {
		t.Fatalf("PendingDeliveries: %v", err)
	}
	ids := []string{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func mustAdd(t *testing.T, db *DB, id, event, body string) {
	t.Helper()
	dup, err := db.AddDelivery(t.Context(), id, event, []byte(body))
	if err != nil || dup {
		t.Fatalf("AddDelivery(%s) = %v, %v; want stored", id, dup, err)
	}
}

func TestAddDeliveryDedupe(t *testing.T) {
	clk := newClock()
	db := openDB(t, "", Options{Now: clk.Now})
	ctx := t.Context()
	body := []byte(`{"action":"opened"}`)
	dup, err := db.AddDelivery(ctx, "d1", "pull_request", body)
	if err != nil || dup {
		t.Fatalf("first AddDelivery = %v, %v; want stored", dup, err)
	}
	body[0] = 'X' // the inbox holds a copy
	want := locks.Delivery{ID: "d1", Event: "pull_request", Body: []byte(`{"action":"opened"}`),
		Received: clk.Now(), State: locks.StatePending}

	tests := []struct {
		name   string
		before func(t *testing.T)
		want   locks.Delivery
	}{
		{name: "while pending", want: want},
		{
			name: "after it finished",
			before: func(t *testing.T) {
				clk.Advance(time.Minute)
				if err := db.FinishDelivery(ctx, "d1", ""); err != nil {
					t.Fatal(err)
				}
			},
			want: locks.Delivery{ID: "d1", Event: "pull_request", Received: want.Received, State: locks.StateDone,
				Finished: want.Received.Add(time.Minute)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before(t)
			}
			dup, err := db.AddDelivery(ctx, "d1", "issue_comment", []byte("other"))
			if err != nil || !dup {
				t.Fatalf("AddDelivery again = %v, %v; want duplicate", dup, err)
			}
			got, ok, err := db.GetDelivery(ctx, "d1")
			if err != nil || !ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("GetDelivery = %+v, %v, %v; want unchanged %+v", got, ok, err, tt.want)
			}
		})
	}
	if ids := pendingIDs(t, db); len(ids) != 0 {
		t.Fatalf("pending %v after finish and duplicates, want none", ids)
	}
	if _, err := db.AddDelivery(ctx, "", "ping", nil); !errors.Is(err, locks.ErrInvalid) {
		t.Errorf("AddDelivery with empty id: %v, want ErrInvalid", err)
	}
	if _, ok, err := db.GetDelivery(ctx, "nope"); err != nil || ok {
		t.Errorf("GetDelivery(unknown) = %v, %v; want not found", ok, err)
	}
}

func TestPendingDeliveriesOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atoll.db")
	clk := newClock()
	db, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	// Arrival order, not id order nor time order (two arrive in the same
	// clock tick), decides.
	for _, id := range []string{"c", "a", "e", "b", "d"} {
		mustAdd(t, db, id, "push", "body-"+id)
		if id != "e" {
			clk.Advance(time.Second)
		}
	}
	if err := db.FinishDelivery(t.Context(), "e", ""); err != nil {
		t.Fatal(err)
	}
	want := []string{"c", "a", "b", "d"}
	if got := pendingIDs(t, db); !reflect.DeepEqual(got, want) {
		t.Fatalf("pending = %v, want %v", got, want)
	}
	ds, err := db.PendingDeliveries(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := ds[0]; d.Event != "push" || string(d.Body) != "body-c" || d.State != locks.StatePending || !d.Received.Equal(newClock().Now()) {
		t.Fatalf("first pending = %+v", d)
	}
	// The queue survives a restart (at-least-once handling).
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, path, Options{})
	if got := pendingIDs(t, db); !reflect.DeepEqual(got, want) {
		t.Fatalf("pending after reopen = %v, want %v", got, want)
	}
}

func TestFinishDelivery(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		errMsg  string
		wantErr error
		want    locks.Delivery
	}{
		{
			name: "done drops the body",
			id:   "d1",
			want: locks.Delivery{ID: "d1", Event: "push", State: locks.StateDone},
		},
		{
			name: "failed keeps the body", id: "d1", errMsg: "plan: boom",
			want: locks.Delivery{ID: "d1", Event: "push", Body: []byte("payload"), State: locks.StateFailed, Error: "plan: boom"},
		},
		{name: "unknown id", id: "nope", wantErr: locks.ErrNotFound},
		{name: "empty id", id: "", wantErr: locks.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			db := openDB(t, "", Options{Now: clk.Now})
			mustAdd(t, db, "d1", "push", "payload")
			mustAdd(t, db, "d2", "push", "payload")
			clk.Advance(time.Minute)
			err := db.FinishDelivery(t.Context(), tt.id, tt.errMsg)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("FinishDelivery: %v, want %v", err, tt.wantErr)
				}
				if got := pendingIDs(t, db); !reflect.DeepEqual(got, []string{"d1", "d2"}) {
					t.Fatalf("pending = %v, want unchanged", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("FinishDelivery: %v", err)
			}
			tt.want.Received = newClock().Now()
			tt.want.Finished = clk.Now()
			got, ok, err := db.GetDelivery(t.Context(), tt.id)
			if err != nil || !ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("GetDelivery = %+v, %v, %v; want %+v", got, ok, err, tt.want)
			}
			if got := pendingIDs(t, db); !reflect.DeepEqual(got, []string{"d2"}) {
				t.Fatalf("pending = %v, want [d2]", got)
			}
		})
	}
}

func TestPruneDeliveries(t *testing.T) {
	clk := newClock()
	db := openDB(t, "", Options{Now: clk.Now})
	ctx := t.Context()
	t0 := clk.Now()
	// old-done and old-failed finished 10 days ago; old-pending arrived
	// then but never finished; recent finished 1 day ago.
	for _, id := range []string{"old-done", "old-failed", "old-pending", "recent"} {
		mustAdd(t, db, id, "push", "x")
	}
	if err := db.FinishDelivery(ctx, "old-done", ""); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishDelivery(ctx, "old-failed", "boom"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(9 * 24 * time.Hour)
	if err := db.FinishDelivery(ctx, "recent", ""); err != nil {
		t.Fatal(err)
	}
	clk.Advance(24 * time.Hour)
	retention := clk.Now().Add(-7 * 24 * time.Hour)

	tests := []struct {
		name      string
		olderThan time.Time
		removed   int
		kept      []string
	}{
		{"nothing that old", t0, 0, []string{"old-done", "old-failed", "old-pending", "recent"}},
		{"seven days", retention, 2, []string{"old-pending", "recent"}},
		{"again is a no-op", retention, 0, []string{"old-pending", "recent"}},
		{"everything finished", clk.Now().Add(time.Second), 1, []string{"old-pending"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := db.PruneDeliveries(ctx, tt.olderThan)
			if err != nil || n != tt.removed {
				t.Fatalf("PruneDeliveries = %d, %v; want %d", n, err, tt.removed)
			}
			for _, id := range []string{"old-done", "old-failed", "old-pending", "recent"} {
				_, ok, err := db.GetDelivery(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if want := slices.Contains(tt.kept, id); ok != want {
					t.Errorf("delivery %s present = %v, want %v", id, ok, want)
				}
			}
		})
	}
	// A pruned id is no longer a duplicate.
	if dup, err := db.AddDelivery(ctx, "old-done", "push", []byte("x")); err != nil || dup {
		t.Fatalf("AddDelivery of a pruned id = %v, %v; want stored", dup, err)
	}
	if got := pendingIDs(t, db); !reflect.DeepEqual(got, []string{"old-pending", "old-done"}) {
		t.Fatalf("pending = %v", got)
	}
	if err := db.FinishDelivery(ctx, "recent", ""); !errors.Is(err, locks.ErrNotFound) {
		t.Fatalf("FinishDelivery of a pruned id: %v, want ErrNotFound", err)
	}
}
