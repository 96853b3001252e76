package drift_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// starter records the checks a scheduler starts and the jobs it hands
// back to the workers.
type starter struct {
	mu       sync.Mutex
	started  []string
	enqueued []string
}

func (s *starter) Trigger(_ context.Context, repo, _ string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = append(s.started, repo)
	return "d-" + repo, nil
}

func (s *starter) Enqueue(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enqueued = append(s.enqueued, id)
}

func openStore(t *testing.T) records.Records {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return records.New(db)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newScheduler(rec records.Records, st drift.Starter, src drift.Source, cfg drift.SchedulerConfig) *drift.Scheduler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Log = quiet
	return drift.NewScheduler(rec, st, drift.NewSweep(src, cfg.Drift, quiet), cfg)
}

// Ticks start each repository's checks as they fall due, once each, and
// remember the last one in the store, so a restart neither repeats it
// nor forgets it.
func TestSchedulerTicks(t *testing.T) {
	rec := openStore(t)
	st := &starter{}
	src := &source{repos: []vcs.Repo{repo("hourly"), repo("daily"), repo("off")}, reads: map[string]int{},
		settings: map[string]drift.RepoSettings{
			"acme/hourly": {Present: true, Enabled: true, Schedule: "@hourly"},
			"acme/off":    {Present: true, Enabled: false},
		}}
	d := newScheduler(rec, st, src, drift.SchedulerConfig{Drift: config.Drift{Enabled: true, RepoOverride: true, Schedule: "0 6 * * *"}})
	tt := drift.NewTimetable(0, func(time.Duration) time.Duration { return 0 })
	memory := map[string]time.Time{}
	ctx := context.Background()
	for now := at("2026-03-02 10:30"); now.Before(at("2026-03-03 07:00")); now = now.Add(time.Minute) {
		d.Tick(ctx, now, tt, memory)
	}
	count := map[string]int{}
	for _, r := range st.started {
		count[r]++
	}
	if count["acme/hourly"] != 20 || count["acme/daily"] != 1 || count["acme/off"] != 0 {
		t.Errorf("checks started = %v; want hourly 20 (11:00 to 06:00), daily 1, off 0", count)
	}
	var m drift.Memory
	if ok, err := rec.Get(ctx, drift.MemoryBucket, "acme/daily", &m); err != nil || !ok || !m.Last.Equal(at("2026-03-03 06:00")) {
		t.Errorf("remembered last check of acme/daily = %s (%v, %v); want 06:00", m.Last, ok, err)
	}
}

// On a shared store a scheduled check is claimed once per due time: of
// two leaders ticking the same due time (one took over from the other),
// one starts it; a later due time is claimed again.
func TestSchedulerClaimTickOnceAcrossReplicas(t *testing.T) {
	rec := openStore(t)
	cfg := drift.SchedulerConfig{Drift: config.Drift{Enabled: true, Schedule: "@hourly"}, Shared: true}
	a := newScheduler(rec, &starter{}, &source{reads: map[string]int{}}, cfg)
	b := newScheduler(rec, &starter{}, &source{reads: map[string]int{}}, cfg)
	ctx := context.Background()
	due := at("2026-03-02 11:00")
	f := drift.Fire{Repo: "acme/infra", Due: due}
	var wg sync.WaitGroup
	wins := make([]bool, 2)
	for i, d := range []*drift.Scheduler{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); wins[i] = d.ClaimTick(ctx, f) }()
	}
	wg.Wait()
	if wins[0] == wins[1] {
		t.Fatalf("claims of one due time: %v; want exactly one", wins)
	}
	if b.ClaimTick(ctx, f) || a.ClaimTick(ctx, f) {
		t.Fatal("a due time already started was claimed again")
	}
	if !b.ClaimTick(ctx, drift.Fire{Repo: "acme/infra", Due: due.Add(time.Hour)}) {
		t.Fatal("the next due time was not claimed")
	}
	solo := newScheduler(rec, &starter{}, &source{reads: map[string]int{}}, drift.SchedulerConfig{})
	if !solo.ClaimTick(ctx, f) {
		t.Fatal("on a store of its own every tick is the process's")
	}
}

// With drift.concurrency 2, a third drift job waits (stays queued) until
// one of the first two gives its slot back, and is then handed to the
// workers again; other jobs never wait; releasing twice frees one slot.
func TestSchedulerAdmitBoundsConcurrency(t *testing.T) {
	rec := openStore(t)
	st := &starter{}
	d := newScheduler(rec, st, &source{reads: map[string]int{}}, drift.SchedulerConfig{Drift: config.Drift{Concurrency: 2}})
	ctx := context.Background()
	for _, j := range []records.Job{{ID: "j1", Kind: records.JobDrift}, {ID: "j2", Kind: records.JobDrift},
		{ID: "j3", Kind: records.JobDrift}, {ID: "j4", Kind: records.JobPlan}} {
		j.State = records.JobQueued
		if err := rec.Put(ctx, records.Jobs, j.ID, j); err != nil {
			t.Fatal(err)
		}
	}
	rel1, ok1 := d.Admit(ctx, "j1")
	_, ok2 := d.Admit(ctx, "j2")
	_, ok3 := d.Admit(ctx, "j3")
	_, ok3again := d.Admit(ctx, "j3")
	rel4, ok4 := d.Admit(ctx, "j4")
	if !ok1 || !ok2 || ok3 || ok3again || !ok4 {
		t.Fatalf("admitted j1 %v j2 %v j3 %v (again %v) j4 %v; want j3 to wait", ok1, ok2, ok3, ok3again, ok4)
	}
	rel4()
	if len(st.enqueued) != 0 {
		t.Fatalf("a plan job's end queued %v", st.enqueued)
	}
	rel1()
	rel1()
	if len(st.enqueued) != 1 || st.enqueued[0] != "j3" {
		t.Fatalf("queued %v, want the waiting j3 once", st.enqueued)
	}
	if _, ok := d.Admit(ctx, "j3"); !ok {
		t.Fatal("j3 not admitted once a slot is free")
	}
	if _, ok := d.Admit(ctx, "j1"); ok {
		t.Fatal("three drift jobs admitted with concurrency 2")
	}
}

// A change seen by another replica reaches the leader's sweep through
// the drift signal: an installation change lists the repositories again,
// a push to a default branch reads that repository's schedule again, and
// a push to another branch is not shared.
func TestSchedulerSignal(t *testing.T) {
	rec := openStore(t)
	cfg := drift.SchedulerConfig{Drift: config.Drift{Enabled: true, RepoOverride: true, Schedule: "@daily"},
		Shared: true, Poll: 5 * time.Millisecond}
	src := &source{repos: []vcs.Repo{repo("infra")}, reads: map[string]int{}}
	leader := newScheduler(rec, &starter{}, src, cfg)
	other := newScheduler(rec, &starter{}, &source{reads: map[string]int{}}, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := at("2026-03-02 10:00")
	leader.Sweep.Schedules(ctx, now)
	lists, reads := src.lists, src.reads["acme/infra"]
	done := make(chan struct{})
	go func() { defer close(done); leader.FollowSignal(ctx) }()
	wait := func() {
		t.Helper()
		select {
		case <-leader.Sweep.Woken():
		case <-time.After(5 * time.Second):
			t.Fatal("the leader's sweep was not woken")
		}
	}
	other.ShareChange(ctx, nil, "")
	wait()
	leader.Sweep.Schedules(ctx, now.Add(time.Second))
	if src.lists != lists+1 {
		t.Errorf("listings after an installation change elsewhere: %d, want %d", src.lists, lists+1)
	}
	r := repo("infra")
	other.ShareChange(ctx, &r, "refs/heads/feature")
	other.ShareChange(ctx, &r, "refs/heads/main")
	wait()
	leader.Sweep.Schedules(ctx, now.Add(2*time.Second))
	if src.reads["acme/infra"] <= reads {
		t.Errorf("acme/infra's schedule not read again after a push to main elsewhere")
	}
	cancel()
	<-done
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}
