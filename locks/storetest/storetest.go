// Package storetest is the conformance suite of the store contract
// (package locks): the same cases run on every implementation, so that
// bbolt and PostgreSQL behave alike where atoll depends on it.
//
//	func TestConformance(t *testing.T) { storetest.Run(t, newStore) }
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
)

// New makes a new, empty store whose clock is now. replica, when not nil,
// opens one more handle on the same store, as another atoll process
// would (nil for a store that one process holds alone); the suite then
// races the two. Both are closed by the suite's cleanups (New should
// register them with t.Cleanup).
type New func(t *testing.T, now func() time.Time) (s locks.Store, replica func() locks.Store)

// Clock is a settable clock at microsecond precision (PostgreSQL's).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed time.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d).Truncate(time.Microsecond)
}

// Run runs every case on stores made by newStore.
func Run(t *testing.T, newStore New) {
	cases := []struct {
		name string
		fn   func(t *testing.T, newStore New)
	}{
		{"LockTakeConflictRelease", testLocks},
		{"LockAtomicTake", testLockRace},
		{"ExactlyOnceConditionalUpdate", testExactlyOnce},
		{"UpdateRecordsAllOrNothing", testUpdateRecords},
		{"RecordsListByPrefix", testRecordsList},
		{"JobStateTransitions", testJobStates},
		{"NextIDUnique", testNextID},
		{"NextIDsOneTransaction", testNextIDs},
		{"DeliveryDedupe", testDeliveries},
		{"DeliveryPruning", testDeliveryPrune},
		{"AuditChain", testAudit},
		{"InvalidAndClosed", testInvalidAndClosed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore) })
	}
}

// handles returns n handles on one store: the first and, where the store
// allows it, replicas in turn.
func handles(s locks.Store, replica func() locks.Store, n int) []locks.Store {
	out := []locks.Store{s}
	for len(out) < n {
		if replica == nil {
			out = append(out, s)
		} else {
			out = append(out, replica())
		}
	}
	return out
}

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
