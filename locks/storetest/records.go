package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/atollhq/atoll/locks"
)

func testUpdateRecords(t *testing.T, newStore New) {
	ctx := context.Background()
	s, _ := newStore(t, NewClock().Now)
	set := func(v string) func([]byte, bool) ([]byte, error) {
		return func([]byte, bool) ([]byte, error) { return []byte(v), nil }
	}
	errVeto := errors.New("veto")
	err := s.UpdateRecords(ctx, []locks.RecordUpdate{
		{Bucket: "jobs", Key: "j1", Fn: set("queued")},
		{Bucket: "prs", Key: "p1", Fn: func([]byte, bool) ([]byte, error) { return nil, errVeto }},
	})
	if !errors.Is(err, errVeto) {
		t.Fatalf("UpdateRecords with a vetoing Fn = %v, want its error", err)
	}
	if _, ok, _ := s.GetRecord(ctx, "jobs", "j1"); ok {
		t.Fatal("a vetoed batch stored its first update")
	}
	err = s.UpdateRecords(ctx, []locks.RecordUpdate{
		{Bucket: "jobs", Key: "j1", Fn: set("queued")},
		{Bucket: "prs", Key: "p1", Fn: set("seen")},
		{Bucket: "prs", Key: "p1", Fn: func(old []byte, exists bool) ([]byte, error) {
			if !exists || string(old) != "seen" {
				return nil, fmt.Errorf("later Fn saw %q, %v; want the earlier write", old, exists)
			}
			return nil, nil // deletes
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := s.GetRecord(ctx, "jobs", "j1"); !ok || string(v) != "queued" {
		t.Errorf("jobs/j1 = %q, %v", v, ok)
	}
	if _, ok, _ := s.GetRecord(ctx, "prs", "p1"); ok {
		t.Error("prs/p1 still there after a nil update")
	}
}

func testRecordsList(t *testing.T, newStore New) {
	ctx := context.Background()
	s, _ := newStore(t, NewClock().Now)
	put := map[string]string{"o/r#1/a": "1", "o/r#1/b": "2", "o/r#10/a": "3", "o/r#2/a": "4", "p/q#1/a": "5"}
	for k, v := range put {
		if err := s.PutRecord(ctx, "plans", k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutRecord(ctx, "other", "o/r#1/z", []byte("x")); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListRecords(ctx, "plans", "o/r#1")
	if err != nil {
		t.Fatal(err)
	}
	want := []locks.Record{{Key: "o/r#1/a", Value: []byte("1")}, {Key: "o/r#1/b", Value: []byte("2")}, {Key: "o/r#10/a", Value: []byte("3")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListRecords(o/r#1) = %q, want %q", got, want)
	}
	if got, _ := s.ListRecords(ctx, "plans", "o/r#1/"); len(got) != 2 {
		t.Errorf("ListRecords(o/r#1/) = %q, want the PR's 2", got)
	}
	if got, _ := s.ListRecords(ctx, "plans", ""); len(got) != 5 || got[4].Key != "p/q#1/a" {
		t.Errorf("ListRecords(all) = %q, want 5 in key order", got)
	}
	if got, err := s.ListRecords(ctx, "never", ""); err != nil || got == nil || len(got) != 0 {
		t.Errorf("ListRecords of an unwritten bucket = %#v, %v; want an empty slice", got, err)
	}
	// Byte order, high bytes included.
	for _, k := range []string{"\xff\xff", "\xff", "a\xff", "b"} {
		if err := s.PutRecord(ctx, "bytes", k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = s.ListRecords(ctx, "bytes", "\xff")
	if len(got) != 2 || got[0].Key != "\xff" || got[1].Key != "\xff\xff" {
		t.Errorf("ListRecords(\\xff) = %q", got)
	}
	// An empty value is not a missing one.
	if err := s.PutRecord(ctx, "plans", "empty", nil); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.GetRecord(ctx, "plans", "empty"); err != nil || !ok || v == nil || len(v) != 0 {
		t.Errorf("GetRecord of an empty value = %#v, %v, %v", v, ok, err)
	}
	if err := s.DeleteRecord(ctx, "plans", "empty"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecord(ctx, "plans", "empty"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, ok, _ := s.GetRecord(ctx, "plans", "empty"); ok {
		t.Error("deleted record still there")
	}
}

// testJobStates walks a job through queued, running and done with
// conditional updates, as the runner does, and checks that a stale
// transition (done to running) is refused.
func testJobStates(t *testing.T, newStore New) {
	ctx := context.Background()
	s, _ := newStore(t, NewClock().Now)
	id, err := s.NextID(ctx, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("job-%06d", id)
	errState := errors.New("wrong state")
	move := func(from, to string) error {
		return s.UpdateRecord(ctx, "jobs", key, func(old []byte, exists bool) ([]byte, error) {
			if from == "" && !exists || exists && string(old) == from {
				return []byte(to), nil
			}
			return nil, errState
		})
	}
	for _, step := range [][2]string{{"", "queued"}, {"queued", "running"}, {"running", "done"}} {
		if err := move(step[0], step[1]); err != nil {
			t.Fatalf("%q -> %q: %v", step[0], step[1], err)
		}
	}
	if err := move("queued", "running"); err != errState {
		t.Fatalf("a done job moved back to running: %v", err)
	}
	if v, _, _ := s.GetRecord(ctx, "jobs", key); string(v) != "done" {
		t.Fatalf("job state = %q, want done", v)
	}
}

func testNextID(t *testing.T, newStore New) {
	ctx := context.Background()
	s, replica := newStore(t, NewClock().Now)
	hs := handles(s, replica, 2)
	if id, err := s.NextID(ctx, "runs"); err != nil || id != 1 {
		t.Fatalf("first NextID = %d, %v; want 1", id, err)
	}
	var (
		mu   sync.Mutex
		seen = map[uint64]bool{1: true}
		wg   sync.WaitGroup
	)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := hs[i%len(hs)].NextID(ctx, "runs")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[id] {
				t.Errorf("NextID gave %d twice", id)
			}
			seen[id] = true
		}()
	}
	wg.Wait()
	if id, _ := s.NextID(ctx, "runs"); id != 42 {
		t.Errorf("NextID after 41 = %d, want 42", id)
	}
	if id, _ := s.NextID(ctx, "jobs"); id != 1 {
		t.Errorf("another bucket's first NextID = %d, want 1", id)
	}
}

// testNextIDs: the ids of a run and its jobs, taken in one transaction,
// are what NextID calls one after another would give, consecutive per
// bucket and in order, and never taken twice across replicas.
func testNextIDs(t *testing.T, newStore New) {
	ctx := context.Background()
	s, replica := newStore(t, NewClock().Now)
	hs := handles(s, replica, 2)
	if id, err := s.NextID(ctx, "runs"); err != nil || id != 1 {
		t.Fatalf("first NextID = %d, %v; want 1", id, err)
	}
	ids, err := s.NextIDs(ctx, "runs", "jobs", "jobs", "runs", "jobs")
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{2, 1, 2, 3, 3}; !slices.Equal(ids, want) {
		t.Fatalf("NextIDs = %v, want %v", ids, want)
	}
	if ids, err := s.NextIDs(ctx); err != nil || len(ids) != 0 {
		t.Errorf("NextIDs of nothing = %v, %v", ids, err)
	}
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ids []uint64
			var err error
			if i%2 == 0 {
				ids, err = hs[i%len(hs)].NextIDs(ctx, "runs", "jobs", "jobs")
			} else {
				var id uint64
				id, err = hs[i%len(hs)].NextID(ctx, "jobs")
				ids = []uint64{0, id}
			}
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for j, id := range ids {
				if id == 0 {
					continue
				}
				k := fmt.Sprintf("%d/%d", min(j, 1), id)
				if seen[k] {
					t.Errorf("id %s given twice", k)
				}
				seen[k] = true
			}
			if len(ids) == 3 && ids[2] != ids[1]+1 {
				t.Errorf("one NextIDs call's jobs got %d and %d, not consecutive", ids[1], ids[2])
			}
		}()
	}
	wg.Wait()
	// runs: 3 taken above, then 10; jobs: 3, then 10×2 and 10×1.
	if id, _ := s.NextID(ctx, "runs"); id != 14 {
		t.Errorf("NextID of runs after 13 = %d, want 14", id)
	}
	if id, _ := s.NextID(ctx, "jobs"); id != 34 {
		t.Errorf("NextID of jobs after 33 = %d, want 34", id)
	}
	if _, err := s.NextIDs(ctx, "runs", ""); !errors.Is(err, locks.ErrInvalid) {
		t.Errorf("NextIDs with an empty bucket = %v, want ErrInvalid", err)
	}
}
