package drift_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/records"
)

// checksFixture is Checks over a real store, recording what it launches.
type checksFixture struct {
	rec      records.Records
	c        *drift.Checks
	shared   bool
	mu       sync.Mutex
	launched []string // "repo project"
}

func newChecks(t *testing.T) *checksFixture {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &checksFixture{rec: records.New(db)}
	now := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	f.c = drift.NewChecks(f.rec, func() time.Time { return now }, func(dr records.DriftRun) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.launched = append(f.launched, dr.Repo+" "+dr.Project)
	}, func() bool { return f.shared })
	return f
}

func (f *checksFixture) trigger(t *testing.T, repo, project string) string {
	t.Helper()
	id, err := f.c.Trigger(context.Background(), repo, project)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *checksFixture) run(t *testing.T, id string) records.DriftRun {
	t.Helper()
	var dr records.DriftRun
	if ok, err := f.rec.Get(context.Background(), records.DriftRuns, id, &dr); err != nil || !ok {
		t.Fatalf("drift run %s: found %v, %v", id, ok, err)
	}
	return dr
}

func (f *checksFixture) setState(t *testing.T, id, state string) {
	t.Helper()
	if err := records.Update(context.Background(), f.rec, records.DriftRuns, id, func(dr *records.DriftRun, _ bool) error {
		dr.State = state
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// Concurrent triggers of one repository join one check; a trigger while
// it reports, or of another project, stores one follow-up that later
// triggers join (widened to all projects when two ask) and that starts
// when the check ends; a late end of the old check changes nothing.
func TestChecksNeverOverlap(t *testing.T) {
	f := newChecks(t)
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], _ = f.c.Trigger(context.Background(), "acme/a", "")
		}()
	}
	wg.Wait()
	first := ids[0]
	for _, id := range ids {
		if id != first || id == "" {
			t.Fatalf("concurrent triggers got %v, want one run", ids)
		}
	}
	if dr := f.run(t, first); dr.State != records.DriftRunQueued || dr.Repo != "acme/a" || len(f.launched) != 1 {
		t.Fatalf("first check: %+v, launched %v", dr, f.launched)
	}
	if id := f.trigger(t, "acme/a", "app"); id != first {
		t.Fatalf("a trigger of one project did not join the check of all: %s", id)
	}
	if id := f.trigger(t, "acme/b", ""); id == first || len(f.launched) != 2 {
		t.Fatalf("another repository: run %s, launched %v", id, f.launched)
	}

	f.setState(t, first, records.DriftRunReporting)
	next := f.trigger(t, "acme/a", "app")
	if next == first || len(f.launched) != 2 {
		t.Fatalf("trigger while reporting: %s, launched %v; want a follow-up not started", next, f.launched)
	}
	if id := f.trigger(t, "acme/a", "db"); id != next {
		t.Fatalf("second trigger while reporting: %s, want the follow-up %s", id, next)
	}
	if dr := f.run(t, next); dr.Project != "" {
		t.Errorf("follow-up asked for app and db checks %q, want all projects", dr.Project)
	}
	if err := f.c.Done("acme/a", first); err != nil {
		t.Fatal(err)
	}
	if len(f.launched) != 3 || f.launched[2] != "acme/a " {
		t.Fatalf("follow-up not started at the end: %v", f.launched)
	}
	if err := f.c.Done("acme/a", first); err != nil || len(f.launched) != 3 {
		t.Fatalf("late end of the old check: %v, launched %v", err, f.launched)
	}
	if id := f.trigger(t, "acme/a", ""); id != next {
		t.Fatalf("trigger after the follow-up started: %s, want to join %s", id, next)
	}
	if err := f.c.Done("acme/a", next); err != nil {
		t.Fatal(err)
	}
	if id := f.trigger(t, "acme/a", ""); id == next || len(f.launched) != 4 {
		t.Fatalf("trigger of a free repository: %s, launched %v; want a new check started", id, f.launched)
	}
}

// With replicas sharing the store, a check that ended on another replica
// frees the repository here, and the follow-up kept here starts.
func TestChecksSettleElsewhere(t *testing.T) {
	f := newChecks(t)
	f.shared = true
	first := f.trigger(t, "acme/a", "")
	f.setState(t, first, records.DriftRunReporting)
	next := f.trigger(t, "acme/a", "")
	f.setState(t, first, records.DriftRunDone) // reported by another replica
	if id := f.trigger(t, "acme/a", ""); id != next || len(f.launched) != 2 {
		t.Fatalf("after the check ended elsewhere: %s, launched %v; want the follow-up %s started", id, f.launched, next)
	}
}

// At start-up a check with recovered jobs keeps its repository busy; cut
// off checks start again one after the other, a third one is ended.
func TestChecksRecovery(t *testing.T) {
	f := newChecks(t)
	ctx := context.Background()
	stored := func(id, repo string) records.DriftRun {
		dr := records.DriftRun{ID: id, Repo: repo, State: records.DriftRunQueued}
		if err := f.rec.Put(ctx, records.DriftRuns, id, dr); err != nil {
			t.Fatal(err)
		}
		return dr
	}
	f.c.Adopt("acme/a", stored("d1", "acme/a").ID)
	for _, dr := range []records.DriftRun{stored("d2", "acme/a"), stored("d3", "acme/a"), stored("d4", "acme/b")} {
		if err := f.c.Restart(ctx, dr, "restarted"); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(f.launched, []string{"acme/b "}) {
		t.Fatalf("launched %v, want only acme/b (acme/a is busy)", f.launched)
	}
	if dr := f.run(t, "d3"); dr.State != records.DriftRunDone || dr.Error != "restarted" {
		t.Errorf("third check of acme/a: %s %q, want ended with the skipped text", dr.State, dr.Error)
	}
	if err := f.c.Done("acme/a", "d1"); err != nil || len(f.launched) != 2 || f.launched[1] != "acme/a " {
		t.Fatalf("the kept check did not start after the recovered one: %v, %v", err, f.launched)
	}
}
