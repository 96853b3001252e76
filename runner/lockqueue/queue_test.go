package lockqueue_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/postgres"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/lockqueue"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/testdrive/pgtest"
	"github.com/atollhq/atoll/vcs"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// store is what the tests need of a real store: the project locks and
// the records.
type store interface {
	locks.Locker
	records.Store
}

// onStores runs test on a real bbolt file and on a real PostgreSQL
// database.
func onStores(t *testing.T, test func(t *testing.T, s store)) {
	t.Run("bbolt", func(t *testing.T) {
		db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		test(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := postgres.Open(context.Background(), pgtest.Database(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		test(t, db)
	})
}

// engine is the engine's side as the root provides it, over the real
// store's locks: a plan started for a waiter is a run (busy until ended)
// and, when the test says so, takes the lock as a plan would.
type engine struct {
	s       store
	q       *lockqueue.Queue
	mu      sync.Mutex
	closed  map[int]bool
	busy    map[string]bool
	planned []int // PRs whose plan the queue started, in order
	runs    int
}

// Lock (the Trail) records nothing.
func (e *engine) Lock(context.Context, records.Job) func(locks.Lock, bool, error) (locks.Lock, bool, error) {
	return func(l locks.Lock, ok bool, err error) (locks.Lock, bool, error) { return l, ok, err }
}

func (e *engine) GetPullRequest(_ context.Context, repo vcs.Repo, number int) (vcs.PullRequest, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	state := "open"
	if e.closed[number] {
		state = "closed"
	}
	return vcs.PullRequest{Repo: repo, Number: number, State: state, HeadSHA: "head", Author: "alice"}, nil
}

func (e *engine) RunBusy(_ context.Context, runID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.busy[runID]
}

func (e *engine) PlanWaiter(ctx context.Context, _ vcs.PullRequest, w lockqueue.Waiter) error {
	e.mu.Lock()
	e.runs++
	runID := "run-" + string(rune('0'+e.runs))
	e.busy[runID] = true
	e.planned = append(e.planned, w.Number)
	e.mu.Unlock()
	return e.s.UpdateRecords(ctx, []locks.RecordUpdate{lockqueue.BindRun(w, runID)})
}

// plan is a plan job of PR n asking for the lock, as the plan body does.
func (e *engine) plan(t *testing.T, k locks.Key, n int) (locks.Lock, bool, []int) {
	t.Helper()
	job := records.Job{Kind: records.JobPlan, Repo: repo, Number: n,
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: k.Dir, Workspace: k.Workspace}}}
	held, ok, behind, err := e.q.LockFor(context.Background(), k, job, vcs.PullRequest{Repo: repo, Number: n, Author: "alice", HeadSHA: "head"})
	if err != nil {
		t.Fatal(err)
	}
	return held, ok, behind
}

func (e *engine) lastPlanned() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.planned...)
}

func (e *engine) endRuns() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id := range e.busy {
		e.busy[id] = false
	}
}

var repo = vcs.Repo{Owner: "acme", Name: "infra", InstallationID: 7}

func newEngine(s store) *engine {
	e := &engine{s: s, closed: map[int]bool{}, busy: map[string]bool{}}
	e.q = lockqueue.New(lockqueue.Deps{Store: s, Host: e, Trail: e, Engine: e, Now: time.Now})
	return e
}

func numbers(ws []lockqueue.Waiter) []int {
	var out []int
	for _, w := range ws {
		out = append(out, w.Number)
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// PRs refused a held lock wait in the order they asked; once it is free
// the first is planned and takes it, then the next, and nobody jumps the
// queue in between.
func TestQueueOrder(t *testing.T) {
	onStores(t, func(t *testing.T, s store) {
		ctx := context.Background()
		e := newEngine(s)
		k := locks.Key{Repo: "acme/infra", Dir: "app", Workspace: "default"}
		if _, ok, _ := e.plan(t, k, 1); !ok {
			t.Fatal("PR 1 could not take a free lock")
		}
		for i, n := range []int{3, 2, 4} {
			held, ok, behind := e.plan(t, k, n)
			want := append([]int{1}, []int{3, 2, 4}[:i]...)
			if ok || held.Owner.Number != 1 || !equal(behind, want) {
				t.Fatalf("PR %d: ok %v, held by %d, behind %v; want refused behind %v", n, ok, held.Owner.Number, behind, want)
			}
		}
		// Asking again keeps one's place.
		if _, _, behind := e.plan(t, k, 2); !equal(behind, []int{1, 3}) {
			t.Errorf("PR 2 asking again waits behind %v; want [1 3]", behind)
		}
		ws, _ := e.q.Waiters(ctx, k)
		if !equal(numbers(ws), []int{3, 2, 4}) {
			t.Fatalf("queue %v; want [3 2 4]", numbers(ws))
		}
		e.q.Serve(ctx) // held: nothing happens
		if len(e.lastPlanned()) != 0 {
			t.Fatal("a waiter was planned while the lock was held")
		}
		if err := s.Unlock(ctx, k); err != nil {
			t.Fatal(err)
		}
		// Between the release and the first waiter's plan, another PR is
		// refused behind it.
		if held, ok, behind := e.plan(t, k, 9); ok || held.Owner.Number != 0 || !equal(behind, []int{3, 2, 4}) {
			t.Fatalf("PR 9 on a free lock with waiters: ok %v held by %d behind %v; want refused behind [3 2 4]", ok, held.Owner.Number, behind)
		}
		e.q.Serve(ctx)
		e.q.Serve(ctx) // its plan is busy: not planned twice
		if got := e.lastPlanned(); !equal(got, []int{3}) {
			t.Fatalf("planned %v; want [3]", got)
		}
		if _, ok, _ := e.plan(t, k, 3); !ok {
			t.Fatal("the first waiter's plan could not take the lock")
		}
		ws, _ = e.q.Waiters(ctx, k)
		if !equal(numbers(ws), []int{2, 4, 9}) {
			t.Fatalf("queue after PR 3 took the lock: %v; want [2 4 9]", numbers(ws))
		}
		if err := s.Unlock(ctx, k); err != nil {
			t.Fatal(err)
		}
		e.q.Serve(ctx)
		if got := e.lastPlanned(); !equal(got, []int{3, 2}) {
			t.Fatalf("planned %v; want [3 2]", got)
		}
	})
}

// A waiter whose PR was closed leaves the queue, and so does one whose
// plan ended without taking the lock; Leave takes a PR out of every
// queue.
func TestQueueDropsWhoWillNotTakeTheLock(t *testing.T) {
	onStores(t, func(t *testing.T, s store) {
		ctx := context.Background()
		e := newEngine(s)
		k := locks.Key{Repo: "acme/infra", Dir: "app", Workspace: "default"}
		other := locks.Key{Repo: "acme/infra", Dir: "db", Workspace: "default"}
		e.plan(t, k, 1)
		e.plan(t, other, 1)
		for _, n := range []int{2, 3, 4} {
			e.plan(t, k, n)
		}
		e.plan(t, other, 4)
		e.q.Leave(ctx, "acme/infra", 4)
		for _, key := range []locks.Key{k, other} {
			if ws, _ := e.q.Waiters(ctx, key); len(ws) > 0 && ws[len(ws)-1].Number == 4 {
				t.Fatalf("PR 4 still waits for %s after leaving", key.Dir)
			}
		}
		e.closed[2] = true
		if err := s.Unlock(ctx, k); err != nil {
			t.Fatal(err)
		}
		e.q.Serve(ctx)
		if got := e.lastPlanned(); !equal(got, []int{3}) {
			t.Fatalf("planned %v; want [3] (PR 2 is closed)", got)
		}
		e.endRuns() // PR 3's plan failed before the lock
		e.q.Serve(ctx)
		if ws, _ := e.q.Waiters(ctx, k); len(ws) != 0 {
			t.Errorf("waiters %v; want none (closed, and ended without the lock)", numbers(ws))
		}
		// The queue of the other lock, still held, is untouched.
		if ws, _ := e.q.Waiters(ctx, other); len(ws) != 0 {
			t.Errorf("other lock's waiters %v; want none (PR 4 left)", numbers(ws))
		}
	})
}

// Loop serves the queue when told a lock was released, until ctx ends.
func TestLoopServesOnRelease(t *testing.T) {
	onStores(t, func(t *testing.T, s store) {
		ctx, cancel := context.WithCancel(context.Background())
		e := newEngine(s)
		k := locks.Key{Repo: "acme/infra", Dir: "app", Workspace: "default"}
		e.plan(t, k, 1)
		e.plan(t, k, 2)
		done := make(chan struct{})
		go func() { defer close(done); e.q.Loop(ctx) }()
		time.Sleep(50 * time.Millisecond)
		if err := s.Unlock(ctx, k); err != nil {
			t.Fatal(err)
		}
		e.q.Released()
		deadline := time.Now().Add(3 * time.Second)
		for len(e.lastPlanned()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		if got := e.lastPlanned(); !equal(got, []int{2}) {
			t.Fatalf("planned %v after a release; want [2]", got)
		}
	})
}
