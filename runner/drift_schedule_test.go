package runner

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func noJitter(time.Duration) time.Duration { return 0 }

// fakeHost serves the repositories of one installation and their
// atoll.yaml; any other call panics (the embedded nil Host).
type fakeHost struct {
	Host
	mu    sync.Mutex
	repos []vcs.Repo
	files map[string]string // repo -> atoll.yaml
	reads int
}

func (h *fakeHost) ListInstallations(context.Context) ([]int64, error) { return []int64{1}, nil }

func (h *fakeHost) ListInstallationRepos(context.Context, int64) ([]vcs.Repo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]vcs.Repo{}, h.repos...), nil
}

func (h *fakeHost) GetRepo(_ context.Context, repo vcs.Repo) (vcs.Repo, error) { return repo, nil }

func (h *fakeHost) ReadFile(_ context.Context, repo vcs.Repo, ref, path string) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ref == repo.DefaultBranch && path == config.AtlantisFile {
		return nil, vcs.ErrNotFound // these repositories have none
	}
	h.reads++
	if ref != repo.DefaultBranch || path != projects.RepoConfigFile {
		return nil, fmt.Errorf("read %s at %s", path, ref)
	}
	s, ok := h.files[repo.FullName()]
	if !ok {
		return nil, vcs.ErrNotFound
	}
	return []byte(s), nil
}

// schedTestRunner is a Runner with a real store, a fake host and the
// server's drift settings, whose scheduler records the checks it starts.
func schedTestRunner(t *testing.T, srv config.Server, h Host) (*Runner, *[]string) {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := testRunner(t, Config{Server: srv, Host: h, Store: db})
	st := &recordingStarter{r: r}
	r.drift.Scheduler = drift.NewScheduler(r.rec, st, r.drift.Sweep, drift.SchedulerConfig{Drift: r.srv.Drift, Now: r.now, Log: r.log})
	return r, &st.started
}

// recordingStarter records the checks a scheduler starts instead of
// starting them.
type recordingStarter struct {
	r       *Runner
	started []string
}

func (s *recordingStarter) Trigger(_ context.Context, repo, _ string) (string, error) {
	s.started = append(s.started, repo)
	return "d-" + repo, nil
}

func (s *recordingStarter) Enqueue(id string) { s.r.enqueue(id) }

func repoOf(name string) vcs.Repo { return vcs.Repo{Owner: "acme", Name: name, DefaultBranch: "main"} }

// The schedule of each repository: the server's, or its atoll.yaml's where
// the server allows repo_override; drift off in atoll.yaml means no check;
// a broken atoll.yaml keeps the server's. Without repo_override no
// atoll.yaml is read.
func TestDriftScheduleOverride(t *testing.T) {
	h := &fakeHost{
		repos: []vcs.Repo{repoOf("plain"), repoOf("hourly"), repoOf("off"), repoOf("broken"), repoOf("other")},
		files: map[string]string{
			"acme/hourly": "version: 1\ndrift:\n  schedule: \"@hourly\"\n",
			"acme/off":    "version: 1\ndrift:\n  enabled: false\n",
			"acme/broken": "version: 1\ndrift:\n  schedule: \"every day\"\n",
			"acme/other":  "version: 1\napply_mode: comment\n",
		},
	}
	srv := config.DefaultServer()
	srv.Drift.Enabled, srv.Drift.Schedule = true, "0 6 * * *"
	t.Run("server decides", func(t *testing.T) {
		r, _ := schedTestRunner(t, srv, h)
		h.reads = 0
		specs := r.drift.Sweep.Schedules(context.Background(), utc("2026-03-02 10:00"))
		for _, name := range []string{"acme/plain", "acme/hourly", "acme/off", "acme/broken", "acme/other"} {
			if specs[name] != "0 6 * * *" {
				t.Errorf("%s: schedule %q, want the server's", name, specs[name])
			}
		}
		if h.reads != 0 {
			t.Errorf("read atoll.yaml %d times without repo_override", h.reads)
		}
	})
	srv.Drift.RepoOverride = true
	t.Run("repo override", func(t *testing.T) {
		r, started := schedTestRunner(t, srv, h)
		now := utc("2026-03-02 10:30")
		specs := r.drift.Sweep.Schedules(context.Background(), now)
		want := map[string]string{"acme/plain": "0 6 * * *", "acme/hourly": "@hourly", "acme/off": "",
			"acme/broken": "0 6 * * *", "acme/other": "0 6 * * *"}
		for name, w := range want {
			if specs[name] != w {
				t.Errorf("%s: schedule %q, want %q", name, specs[name], w)
			}
		}
		tt := drift.NewTimetable(0, noJitter)
		memory := map[string]time.Time{}
		for now := now; now.Before(utc("2026-03-03 07:00")); now = now.Add(time.Minute) {
			r.drift.Tick(context.Background(), now, tt, memory)
		}
		count := map[string]int{}
		for _, repo := range *started {
			count[repo]++
		}
		if count["acme/hourly"] != 20 || count["acme/plain"] != 1 || count["acme/off"] != 0 || count["acme/broken"] != 1 {
			t.Errorf("checks started = %v; want hourly 20 (11:00 to 06:00), plain 1, broken 1, off 0", count)
		}
		if !memory["acme/plain"].Equal(utc("2026-03-03 06:00")) {
			t.Errorf("memory of acme/plain = %s", memory["acme/plain"])
		}
		var m drift.Memory
		if _, err := r.rec.Get(context.Background(), drift.MemoryBucket, "acme/plain", &m); err != nil || !m.Last.Equal(utc("2026-03-03 06:00")) {
			t.Errorf("durable memory of acme/plain = %s (%v), want 06:00 (a restart must not forget it)", m.Last, err)
		}
	})
	t.Run("server off, a repository turns it on", func(t *testing.T) {
		off := srv
		off.Drift.Enabled = false
		r, _ := schedTestRunner(t, off, &fakeHost{repos: []vcs.Repo{repoOf("plain"), repoOf("on")},
			files: map[string]string{"acme/on": "version: 1\ndrift:\n  enabled: true\n"}})
		if !r.drift.Sweep.Enabled() {
			t.Fatal("scheduler off although repositories may turn drift on")
		}
		specs := r.drift.Sweep.Schedules(context.Background(), utc("2026-03-02 10:30"))
		if specs["acme/plain"] != "" || specs["acme/on"] != "0 6 * * *" {
			t.Errorf("schedules = %v; want plain off, on with the server's schedule", specs)
		}
	})
}

// The scheduler reads a repository's atoll.yaml again after a push to its
// default branch, and lists repositories again after an installation
// change; otherwise it uses what it cached.
func TestDriftScheduleRefresh(t *testing.T) {
	h := &fakeHost{repos: []vcs.Repo{repoOf("a")}, files: map[string]string{"acme/a": "version: 1\ndrift:\n  schedule: \"@hourly\"\n"}}
	srv := config.DefaultServer()
	srv.Drift.Enabled, srv.Drift.Schedule, srv.Drift.RepoOverride = true, "@daily", true
	r, _ := schedTestRunner(t, srv, h)
	ctx := context.Background()
	now := utc("2026-03-02 10:30")
	r.drift.Sweep.Schedules(ctx, now)
	h.mu.Lock()
	h.files["acme/a"] = "version: 1\ndrift:\n  schedule: \"*/5 * * * *\"\n"
	h.repos = append(h.repos, repoOf("b"))
	h.mu.Unlock()
	if specs := r.drift.Sweep.Schedules(ctx, now.Add(time.Minute)); specs["acme/a"] != "@hourly" || len(specs) != 1 {
		t.Fatalf("schedules = %v; want the cached ones", specs)
	}
	r.drift.Sweep.OnPush(repoOf("a"), "refs/heads/feature")
	if specs := r.drift.Sweep.Schedules(ctx, now.Add(2*time.Minute)); specs["acme/a"] != "@hourly" {
		t.Fatalf("a push to another branch re-read atoll.yaml: %v", specs)
	}
	r.drift.Sweep.OnPush(repoOf("a"), "refs/heads/main")
	r.drift.Sweep.OnInstallation()
	specs := r.drift.Sweep.Schedules(ctx, now.Add(3*time.Minute))
	if specs["acme/a"] != "*/5 * * * *" || specs["acme/b"] != "@daily" {
		t.Fatalf("schedules = %v; want a's new schedule and b listed", specs)
	}
	select {
	case <-r.drift.Sweep.Woken():
	default:
		t.Fatal("webhooks did not wake the scheduler")
	}
}

// Triggers of one repository, from the schedule or the API, never start
// overlapping checks: while a check that covers them is queued or
// planning they join it; once it is reporting (or when it covers another
// project) one follow-up check is queued, which starts when it ends.
func TestDriftTriggerNoOverlap(t *testing.T) {
	h := &fakeHost{repos: []vcs.Repo{repoOf("a"), repoOf("b"), repoOf("c")}}
	srv := config.DefaultServer()
	srv.Repos = []string{"acme/*", "!acme/secret"}
	r, _ := schedTestRunner(t, srv, h)
	var mu sync.Mutex
	var launched []string
	r.drift.checker.Checks = drift.NewChecks(r.rec, r.now, func(dr DriftRun) {
		mu.Lock()
		defer mu.Unlock()
		launched = append(launched, dr.Repo+" "+dr.Project)
	}, r.shared)
	ctx := context.Background()
	trigger := func(repo, project string) string {
		t.Helper()
		id, err := r.TriggerDrift(ctx, repo, project)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	setState := func(id, state string) {
		t.Helper()
		if err := records.Update(ctx, r.rec, records.DriftRuns, id, func(dr *DriftRun, _ bool) error { dr.State = state; return nil }); err != nil {
			t.Fatal(err)
		}
	}

	var wg sync.WaitGroup
	ids := make([]string, 30)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := r.TriggerDrift(ctx, "acme/a", "")
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("overlapping triggers got runs %v, want one", ids)
		}
	}
	if len(launched) != 1 {
		t.Fatalf("launched %v for 30 overlapping triggers, want one check", launched)
	}
	first := ids[0]
	if id := trigger("acme/a", "app"); id != first {
		t.Fatalf("a trigger of one project did not join the check of all: %s", id)
	}
	if id := trigger("acme/b", ""); id == first || len(launched) != 2 {
		t.Fatalf("another repository: run %s, launched %v", id, launched)
	}
	for _, repo := range []string{"acme/zzz", "acme/secret"} {
		if _, err := r.TriggerDrift(ctx, repo, ""); !errors.Is(err, ErrUnknownRepo) {
			t.Errorf("%s: err %v, want ErrUnknownRepo", repo, err)
		}
	}

	// The check is reporting: a new trigger queues one follow-up.
	setState(first, records.DriftRunReporting)
	next := trigger("acme/a", "")
	if next == first || len(launched) != 2 {
		t.Fatalf("trigger while reporting: run %s (first %s), launched %v; want a follow-up, not started yet", next, first, launched)
	}
	if id := trigger("acme/a", "app"); id != next {
		t.Fatalf("second trigger while reporting got %s, want the follow-up %s", id, next)
	}
	r.drift.checker.Done("acme/a", first)
	if len(launched) != 3 || launched[2] != "acme/a " {
		t.Fatalf("the follow-up did not start when the check ended: %v", launched)
	}
	r.drift.checker.Done("acme/a", first) // a late end of the old check
	if id := trigger("acme/a", ""); id != next || len(launched) != 3 {
		t.Fatalf("after the old check ended twice: run %s, launched %v; want to join %s", id, launched, next)
	}

	// A check of one project does not answer a trigger of all of them; two
	// different projects waiting make the follow-up check them all.
	one := trigger("acme/c", "app")
	all := trigger("acme/c", "db")
	if all == one || len(launched) != 4 {
		t.Fatalf("trigger of db during a check of app: %s, launched %v; want a follow-up", all, launched)
	}
	if id := trigger("acme/c", "app"); id != one {
		t.Fatalf("a trigger of app during the check of app got %s, want to join %s", id, one)
	}
	if id := trigger("acme/c", "net"); id != all {
		t.Fatalf("got %s, want the follow-up %s", id, all)
	}
	dr, _, _ := r.GetDriftRun(ctx, all)
	if dr.Project != "" {
		t.Fatalf("follow-up for db and net checks %q, want all projects", dr.Project)
	}
	if dr, _, _ := r.GetDriftRun(ctx, first); dr.State != "running" {
		t.Fatalf("the API shows a reporting check as %q, want running", dr.State)
	}
}

// reconcile_interval 0 reconciles at start-up only, as the README says:
// the loop returns after one reconciliation; any other interval keeps it
// going until the runner stops.
func TestReconcileIntervalZeroMeansStartUpOnly(t *testing.T) {
	h := &fakeHost{}
	srv := config.DefaultServer()
	srv.ReconcileInterval = 0
	r, _ := schedTestRunner(t, srv, h)
	done := make(chan struct{})
	go func() { defer close(done); r.reconcileLoop(context.Background()) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reconcile_interval 0: the reconciler kept running after its start-up pass")
	}

	srv.ReconcileInterval = time.Hour
	r, _ = schedTestRunner(t, srv, h)
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { defer close(done); r.reconcileLoop(ctx) }()
	select {
	case <-done:
		t.Fatal("reconcile_interval 1h: the reconciler stopped after one pass")
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	<-done
}
