package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/storetest"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// replicaSet opens one store (a real bbolt file) and returns n runners
// sharing it as replicas would share PostgreSQL: the conditional updates
// that decide every claim are the store's on both.
func replicaSet(t *testing.T, n int, ttl time.Duration, now func() time.Time) []*Runner {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tmpl, err := templates.New("") // interrupting a job renders its note
	if err != nil {
		t.Fatal(err)
	}
	var out []*Runner
	for i := range n {
		c := Cluster{ReplicaID: string(rune('a' + i)), Shared: true, JobLease: ttl}
		c.Defaults()
		r := testRunner(t, Config{Store: db, Cluster: c, Templates: tmpl, Now: now})
		out = append(out, r)
	}
	return out
}

// A dead replica's plan runs again elsewhere; its apply is interrupted,
// never run again; jobs of a live replica are left alone.
func TestRescueTakesOverOnlyExpiredLeases(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock()
	rs := replicaSet(t, 2, time.Minute, clock.Now)
	live := rs[1]
	started := clock.Now()
	jobs := []Job{
		{ID: "plan-dead", Kind: JobPlan, State: JobRunning, Mark: "m1", Owner: "dead", Started: started, LeaseUntil: started.Add(time.Minute)},
		{ID: "apply-dead", Kind: JobApply, Number: 7, Repo: repoOf("infra"),
			Project: Project{ProjectCore: config.ProjectCore{Name: "app"}}, State: JobRunning, Mark: "m2", Owner: "dead",
			Started: started, LeaseUntil: started.Add(time.Minute)},
		{ID: "plan-live", Kind: JobPlan, State: JobRunning, Mark: "m3", Owner: "b", Started: started, LeaseUntil: started.Add(3 * time.Minute)},
	}
	for _, j := range jobs {
		if err := live.rec.Put(ctx, records.Jobs, j.ID, j); err != nil {
			t.Fatal(err)
		}
	}
	key := records.PlanKey("acme/infra", 7, "app")
	if err := live.rec.Put(ctx, records.Plans, key, Plan{Repo: "acme/infra", Number: 7, State: PlanApplying, ApplyJob: "apply-dead"}); err != nil {
		t.Fatal(err)
	}
	all, _ := records.List[Job](ctx, live.rec, records.Jobs, "")
	live.rescue(ctx, all) // nothing has expired yet
	clock.Advance(2 * time.Minute)
	all, _ = records.List[Job](ctx, live.rec, records.Jobs, "")
	live.rescue(ctx, all)
	all, _ = records.List[Job](ctx, live.rec, records.Jobs, "")
	// A second replica rescuing from the same stale listing changes nothing.
	rs[0].rescue(ctx, jobs)

	got := map[string]Job{}
	for _, j := range all {
		got[j.ID] = j
	}
	if j := got["plan-dead"]; j.State != JobQueued || j.Mark != "" || j.Owner != "" || j.Outcome.Status != string(templates.StatusQueued) {
		t.Errorf("dead replica's plan: %+v; want queued again, unclaimed", j)
	}
	if j := got["apply-dead"]; j.State != JobInterrupted || j.Outcome.Status != string(templates.StatusInterrupted) {
		t.Errorf("dead replica's apply: state %s status %s; want interrupted", j.State, j.Outcome.Status)
	}
	if j := got["plan-live"]; j.State != JobRunning || j.Mark != "m3" {
		t.Errorf("live replica's plan: %+v; want untouched", j)
	}
	var p Plan
	if _, err := live.rec.Get(ctx, records.Plans, key, &p); err != nil || p.State != PlanApplyFailed {
		t.Errorf("plan of the interrupted apply: %s, %v; want apply_failed (never applied again)", p.State, err)
	}
	select {
	case id := <-live.queue:
		if id != "plan-dead" {
			t.Errorf("queued %q, want plan-dead", id)
		}
	default:
		t.Error("the rescued plan was not handed to the workers")
	}
}

// A replica that starts again (the same data dir, so the same replica
// id) takes over the jobs its previous life held at once, without
// waiting for their leases: that process is gone. Another replica's jobs
// still wait for theirs.
func TestRestartedReplicaTakesItsOwnJobsAtOnce(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewClock()
	rs := replicaSet(t, 2, time.Minute, clock.Now)
	started := clock.Now()
	jobs := []Job{
		{ID: "mine", Kind: JobPlan, State: JobRunning, Mark: "m1", Owner: "a", Started: started, LeaseUntil: started.Add(time.Minute)},
		{ID: "theirs", Kind: JobPlan, State: JobRunning, Mark: "m2", Owner: "b", Started: started, LeaseUntil: started.Add(time.Minute)},
	}
	for _, j := range jobs {
		if err := rs[0].rec.Put(ctx, records.Jobs, j.ID, j); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Second) // "a" starts again, its leases still live
	again := replicaSet(t, 1, time.Minute, clock.Now)[0]
	again.rec, again.cfg.Store = rs[0].rec, rs[0].cfg.Store
	again.rescue(ctx, jobs)

	got := map[string]Job{}
	all, _ := records.List[Job](ctx, again.rec, records.Jobs, "")
	for _, j := range all {
		got[j.ID] = j
	}
	if j := got["mine"]; j.State != JobQueued || j.Owner != "" {
		t.Errorf("the restarted replica's own plan: %+v; want queued again at once", j)
	}
	if j := got["theirs"]; j.State != JobRunning || j.Mark != "m2" {
		t.Errorf("a live replica's plan: %+v; want untouched until its lease expires", j)
	}
}

// A scheduled drift check fires once per tick across replicas, even when
// the lead changes hands between them.
func TestDriftTickClaimedOnce(t *testing.T) {
	ctx := context.Background()
	rs := replicaSet(t, 3, time.Minute, time.Now)
	due := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	fired := 0
	for _, r := range rs {
		for range 2 {
			if r.drift.ClaimTick(ctx, drift.Fire{Repo: "acme/infra", Due: due}) {
				fired++
			}
		}
	}
	if fired != 1 {
		t.Errorf("tick claimed %d times, want once", fired)
	}
	if !rs[2].drift.ClaimTick(ctx, drift.Fire{Repo: "acme/infra", Due: due.Add(time.Hour)}) {
		t.Error("the next tick could not be claimed")
	}
}

// A plan made on one replica is applied from another: the file comes
// from the store, and only when its SHA-256 is the plan's.
func TestPlanFileReachesOtherReplicas(t *testing.T) {
	ctx := context.Background()
	rs := replicaSet(t, 2, time.Minute, time.Now)
	a, b := rs[0], rs[1]
	file := filepath.Join(a.cfg.DataDir, "plans", "job1.tfplan")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("plan bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, _ := execute.FileSHA256(file)
	if err := a.exec.SharePlan(ctx, file); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(file) // b runs on another machine: a's disk is not there
	p := Plan{File: file, SHA256: sum}
	got, err := b.exec.PlanFileOf(ctx, p)
	if err != nil || !strings.HasPrefix(got, b.cfg.DataDir) {
		t.Fatalf("other replica's plan file = %q, %v; want a copy in its data dir", got, err)
	}
	if s, _ := b.exec.PlanSHA256(ctx, p); s != sum {
		t.Errorf("copy's SHA-256 %s, want %s", s, sum)
	}
	if err := a.cfg.Store.PutRecord(ctx, PlanFilesBucket, "job2.tfplan", []byte("tampered")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.exec.PlanFileOf(ctx, Plan{File: filepath.Join(a.cfg.DataDir, "plans", "job2.tfplan"), SHA256: sum}); err == nil {
		t.Error("a stored plan file whose SHA-256 is not the plan's was used")
	}
}

// A job queued on one replica reaches the workers of another through the
// queue signal, within a few polls.
func TestQueuedJobReachesOtherReplicas(t *testing.T) {
	rs := replicaSet(t, 2, 400*time.Millisecond, time.Now)
	a, b := rs[0], rs[1]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.rec.Put(ctx, records.Jobs, "j1", Job{ID: "j1", State: JobQueued}); err != nil {
		t.Fatal(err)
	}
	go a.leases.SignalLoop(ctx)
	go b.pollQueue(ctx)
	time.Sleep(150 * time.Millisecond) // b's first poll has seen the signal as it was
	a.enqueue("j1")
	<-a.queue // a's own worker channel
	select {
	case id := <-b.queue:
		if id != "j1" {
			t.Errorf("b was handed %q, want j1", id)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a job queued on one replica did not reach the other's workers")
	}
}

// A plan a dead replica claimed for an apply, whose apply job it never
// stored, can be applied again; one whose claimer holds the PR's mutex
// is left alone.
func TestStaleApplyClaimReleased(t *testing.T) {
	ctx := context.Background()
	rs := replicaSet(t, 2, time.Minute, time.Now)
	a, b := rs[0], rs[1]
	key := records.PlanKey("acme/infra", 7, "app")
	if err := a.rec.Put(ctx, records.Plans, key, Plan{Repo: "acme/infra", Number: 7, Project: Project{ProjectCore: config.ProjectCore{Name: "app"}},
		State: PlanApplying, ApplyJob: records.ApplyClaimed}); err != nil {
		t.Fatal(err)
	}
	unlock := a.prMu.Lock(records.PRKey("acme/infra", 7)) // a is between its claim and its run
	done := make(chan struct{})
	go func() { b.releaseStaleClaims(ctx); close(done) }()
	time.Sleep(100 * time.Millisecond)
	var p Plan
	if _, err := a.rec.Get(ctx, records.Plans, key, &p); err != nil || p.State != PlanApplying {
		t.Fatalf("plan %s while its claimer works; want applying", p.State)
	}
	unlock() // a died (its lease would expire) or finished without a job
	<-done
	if _, err := a.rec.Get(ctx, records.Plans, key, &p); err != nil || p.State != PlanPlanned {
		t.Fatalf("plan %s after its claimer left; want planned again", p.State)
	}
}

// An installation change or a default-branch push handled by a replica
// that does not lead reaches the leader's drift scheduler through the
// store: it lists the repositories again, or reads the pushed one's
// schedule again, as if the webhook had reached it.
func TestDriftChangeReachesTheLeader(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rs := replicaSet(t, 2, time.Minute, time.Now)
	leader, other := rs[0], rs[1]
	for _, r := range rs {
		r.srv.Drift.Enabled, r.srv.Drift.RepoOverride = true, true
		r.drift = newDriftScheduler(r)
	}
	leader.cfg.Cluster.Poll = 10 * time.Millisecond
	leader.drift = newDriftScheduler(leader)
	d := leader.drift
	src := &countingSource{repos: []vcs.Repo{repoOf("infra")}, reads: map[string]int{}}
	d.Sweep = drift.NewSweep(src, leader.srv.Drift, leader.log)
	now := time.Now()
	d.Sweep.Schedules(ctx, now) // listed and read: cached for their TTLs
	done := make(chan struct{})
	go func() { defer close(done); d.FollowSignal(ctx) }()
	waitFor := func(what string) {
		t.Helper()
		select {
		case <-d.Sweep.Woken():
		case <-time.After(5 * time.Second):
			t.Fatalf("the leader did not see %s", what)
		}
	}

	other.drift.ShareChange(ctx, nil, "")
	waitFor("the installation change")
	d.Sweep.Schedules(ctx, now.Add(time.Second))
	if src.lists != 2 {
		t.Errorf("after an installation change the leader listed %d times, want again (2)", src.lists)
	}
	if src.reads["acme/infra"] != 1 {
		t.Error("an installation change made a repository's schedule be read again")
	}

	repo := repoOf("infra")
	repo.DefaultBranch = "main"
	other.drift.ShareChange(ctx, &repo, "refs/heads/feature") // cannot change the schedule: not shared
	other.drift.ShareChange(ctx, &repo, "refs/heads/main")
	waitFor("the push to the default branch")
	d.Sweep.Schedules(ctx, now.Add(2*time.Second))
	if src.reads["acme/infra"] != 2 {
		t.Errorf("after a push to main the leader read acme/infra's schedule %d times, want again (2)", src.reads["acme/infra"])
	}
	raw, _, err := leader.cfg.Store.GetRecord(ctx, drift.SignalBucket, drift.SignalKey)
	if err != nil || !strings.Contains(string(raw), `"seq":2`) {
		t.Errorf("drift signal = %s, %v; want two changes (the feature-branch push not among them)", raw, err)
	}
	cancel()
	<-done
}

// countingSource is a drift sweep's source that counts what it is asked.
type countingSource struct {
	mu    sync.Mutex
	repos []vcs.Repo
	lists int
	reads map[string]int
}

func (c *countingSource) ServedRepos(context.Context) ([]vcs.Repo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lists++
	return c.repos, nil
}

func (c *countingSource) RepoSettings(_ context.Context, repo vcs.Repo) (drift.RepoSettings, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads[repo.FullName()]++
	return drift.RepoSettings{Present: true, Enabled: true, Schedule: "@daily"}, nil
}
