package drift_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// engine runs what a checker starts in the background at once (or holds
// it until shutdown), and records the runs it is asked to start and to
// report.
type engine struct {
	mu       sync.Mutex
	life     context.Context
	wg       sync.WaitGroup
	specs    []records.RunSpec
	reported []string
}

func (e *engine) Go(f func(ctx context.Context)) {
	e.wg.Add(1)
	go func() { defer e.wg.Done(); f(e.life) }()
}

func (e *engine) StartRun(_ context.Context, spec records.RunSpec) (records.Run, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.specs = append(e.specs, spec)
	return records.Run{ID: "r1"}, nil
}

func (e *engine) AfterRunDone(_ context.Context, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reported = append(e.reported, id)
}

// hostRepos serves acme/infra with projects app and db; block makes the
// head lookup wait until its ctx ends, as a call stuck on GitHub would.
type hostRepos struct {
	block   bool
	asked   chan struct{}
	headErr error
}

func (h *hostRepos) Allowed(name string) bool { return name != "acme/secret" }

func (h *hostRepos) ServedRepos(context.Context) ([]vcs.Repo, error) {
	return []vcs.Repo{{Owner: "acme", Name: "infra"}, {Owner: "acme", Name: "secret"}}, nil
}

func (h *hostRepos) GetRepo(_ context.Context, r vcs.Repo) (vcs.Repo, error) {
	r.DefaultBranch = "main"
	return r, nil
}

func (h *hostRepos) BranchSHA(ctx context.Context, _ vcs.Repo, _ string) (string, error) {
	if h.block {
		close(h.asked)
		<-ctx.Done()
		return "", ctx.Err()
	}
	return "abc123", h.headErr
}

func (h *hostRepos) Projects(context.Context, vcs.Repo, string) ([]records.Project, error) {
	return []records.Project{{ProjectCore: config.ProjectCore{Name: "app", Dir: "app"}}, {ProjectCore: config.ProjectCore{Name: "db", Dir: "db"}}}, nil
}

func newChecker(t *testing.T, h *hostRepos, refreshOnly bool) (*drift.Checker, *engine, records.Records, context.CancelFunc) {
	t.Helper()
	rec := openStore(t)
	life, end := context.WithCancel(context.Background())
	e := &engine{life: life}
	c := drift.NewChecker(rec, e, h, h, nil, drift.CheckerConfig{RefreshOnly: refreshOnly, Restarted: "restarted", Now: time.Now, Log: quiet})
	return c, e, rec, end
}

// A check of a served repository queues one drift job per project at
// its default branch head (one when a project is named), refresh-only
// when drift.mode says so; a repository not served is refused.
func TestCheckerTriggerStartsOneJobPerProject(t *testing.T) {
	c, e, _, end := newChecker(t, &hostRepos{}, true)
	defer end()
	ctx := context.Background()
	for _, name := range []string{"acme/secret", "acme/nope"} {
		if _, err := c.Trigger(ctx, name, ""); !errors.Is(err, drift.ErrUnknownRepo) {
			t.Errorf("%s: err %v, want ErrUnknownRepo", name, err)
		}
	}
	id, err := c.Trigger(ctx, "acme/infra", "db")
	if err != nil {
		t.Fatal(err)
	}
	e.wg.Wait()
	if len(e.specs) != 1 {
		t.Fatalf("runs started: %d, want 1", len(e.specs))
	}
	s := e.specs[0]
	if s.DriftRun != id || s.Command != "drift" || len(s.Jobs) != 1 || s.Jobs[0].Project.Name != "db" ||
		s.Jobs[0].Kind != records.JobDrift || !s.Jobs[0].RefreshOnly || s.Jobs[0].Commit != "abc123" {
		t.Fatalf("run started: %+v", s)
	}
	dr, ok, err := c.Get(ctx, id)
	if err != nil || !ok || dr.State != records.DriftRunRunning || dr.Commit != "abc123" || len(dr.Projects) != 1 {
		t.Fatalf("drift run %s: %+v (%v, %v); want running at abc123 with db", id, dr, ok, err)
	}
}

// A check that cannot start ends its run with the error, and the
// repository's next trigger starts a new check; a project that does not
// exist is such an error.
func TestCheckerFailedLaunchEndsTheRun(t *testing.T) {
	c, e, _, end := newChecker(t, &hostRepos{}, false)
	defer end()
	ctx := context.Background()
	id, err := c.Trigger(ctx, "acme/infra", "nope")
	if err != nil {
		t.Fatal(err)
	}
	e.wg.Wait()
	dr, _, _ := c.Get(ctx, id)
	if dr.State != records.DriftRunDone || dr.Error == "" || len(e.specs) != 0 {
		t.Fatalf("check of a missing project: %+v, runs %d; want done with an error, no run", dr, len(e.specs))
	}
	next, err := c.Trigger(ctx, "acme/infra", "")
	if err != nil || next == id {
		t.Fatalf("next trigger: %s, %v; want a new check", next, err)
	}
	e.wg.Wait()
	if len(e.specs) != 1 || len(e.specs[0].Jobs) != 2 {
		t.Fatalf("runs %+v; want one of both projects", e.specs)
	}
}

// A launch runs under the runner's lifetime: when it ends (shutdown), a
// launch stuck on GitHub stops and the run is left open for the next
// start to restart, which Recover does.
func TestCheckerLaunchStopsAtShutdownAndRecovers(t *testing.T) {
	h := &hostRepos{block: true, asked: make(chan struct{})}
	c, e, rec, end := newChecker(t, h, false)
	ctx := context.Background()
	id, err := c.Trigger(ctx, "acme/infra", "")
	if err != nil {
		t.Fatal(err)
	}
	<-h.asked
	end()
	e.wg.Wait()
	if dr, _, _ := c.Get(ctx, id); dr.State != records.DriftRunQueued {
		t.Fatalf("check cut off by shutdown is %q (%s); want it left queued", dr.State, dr.Error)
	}

	// The next start: a new checker over the same store restarts it.
	e2 := &engine{life: context.Background()}
	c2 := drift.NewChecker(rec, e2, &hostRepos{}, &hostRepos{}, nil, drift.CheckerConfig{Restarted: "restarted", Now: time.Now, Log: quiet})
	if err := c2.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	e2.wg.Wait()
	if len(e2.specs) != 1 || e2.specs[0].DriftRun != id {
		t.Fatalf("recovered runs %+v; want %s restarted", e2.specs, id)
	}
	// Its jobs are stored now: the start after that reports it rather
	// than starting it again.
	if err := rec.Put(ctx, records.Runs, "r1", records.Run{ID: "r1", DriftRun: id}); err != nil {
		t.Fatal(err)
	}
	e3 := &engine{life: context.Background()}
	c3 := drift.NewChecker(rec, e3, &hostRepos{}, &hostRepos{}, nil, drift.CheckerConfig{Restarted: "restarted", Now: time.Now, Log: quiet})
	if err := c3.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	e3.wg.Wait()
	if len(e3.specs) != 0 || len(e3.reported) != 1 || e3.reported[0] != "r1" {
		t.Fatalf("recovery of a check with stored jobs: started %d, reported %v; want r1 reported", len(e3.specs), e3.reported)
	}
	if again, _ := c3.Trigger(ctx, "acme/infra", ""); again != id {
		t.Fatalf("a trigger during the recovered check got %s, want to join %s", again, id)
	}
}
