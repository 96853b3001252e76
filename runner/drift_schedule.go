package runner

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// bucketDriftSched remembers, per repository, the scheduled time of the
// last check the schedule started, so a check missed while atoll was down
// runs once when it is back.
const bucketDriftSched = "driftsched" // repo -> driftMemory

// How often the scheduler looks again at what it caches. Webhooks make it
// look sooner: an installation change lists the repositories again, a push
// to a default branch reads that repository's atoll.yaml again.
const (
	driftReposTTL  = 10 * time.Minute
	driftConfigTTL = time.Hour
)

// driftMemory is one repository's durable scheduler memory.
type driftMemory struct {
	Last time.Time `json:"last"`
}

// driftScheduler starts drift checks on each repository's cron schedule
// (the server's, or atoll.yaml's where drift.repo_override allows it),
// with jitter; it never runs two checks of one repository at once, and
// never more than drift.concurrency drift plans at once.
type driftScheduler struct {
	r *Runner

	// Checks under way, per repository (see Runner.TriggerDrift).
	tmu     sync.Mutex
	running map[string]string // repo -> the check queued, planning or reporting
	pending map[string]string // repo -> the follow-up check to start after it
	// launch starts a stored check (Runner.launchDrift).
	launch func(dr DriftRun)

	mu     sync.Mutex
	busy   int      // drift jobs running
	limit  int      // drift.concurrency
	parked []string // drift jobs waiting for a slot, oldest first
	isPark map[string]bool

	// What the loop caches of the served repositories; guarded by mu, since
	// webhooks mark entries stale from other goroutines.
	repos      map[string]*driftRepo
	listed     time.Time
	listStale  bool
	poke       chan struct{}
	randJitter func(n time.Duration) time.Duration
	// trigger starts a check of a repository (Runner.TriggerDrift).
	trigger func(ctx context.Context, repo, project string) (string, error)
}

// driftRepo is a served repository and its drift schedule as last read.
type driftRepo struct {
	repo  vcs.Repo
	spec  string // "" when drift detection is off for it
	read  time.Time
	stale bool
}

func newDriftScheduler(r *Runner) *driftScheduler {
	return &driftScheduler{
		r:          r,
		running:    map[string]string{},
		pending:    map[string]string{},
		launch:     r.launchDrift,
		limit:      max(r.srv.Drift.Concurrency, 1),
		isPark:     map[string]bool{},
		repos:      map[string]*driftRepo{},
		poke:       make(chan struct{}, 1),
		randJitter: func(n time.Duration) time.Duration { return rand.N(n) },
		trigger:    r.TriggerDrift,
	}
}

// enabled reports whether any repository may have a drift schedule: the
// server's is on, or repositories may turn theirs on.
func (d *driftScheduler) enabled() bool {
	return d.r.srv.Drift.Enabled || d.r.srv.Drift.RepoOverride
}

// loop starts the checks that fall due until ctx ends. It wakes at the
// earliest due time, at least once a minute, and when a webhook changed
// what it knows.
func (d *driftScheduler) loop(ctx context.Context) {
	tt := drift.NewTimetable(d.r.srv.Drift.Jitter, d.randJitter)
	memory := d.loadMemory(ctx)
	for {
		now := d.r.now().UTC()
		d.tick(ctx, now, tt, memory)
		wait := time.Minute
		if next := tt.Next(); !next.IsZero() && next.Sub(now) < wait {
			wait = max(next.Sub(now), 0)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.poke:
			t.Stop()
		case <-t.C:
		}
	}
}

// tick is one turn of the loop at now: refresh what is stale, start the
// checks that fell due. memory is the scheduled time of each repository's
// last check, updated as checks start.
func (d *driftScheduler) tick(ctx context.Context, now time.Time, tt *drift.Timetable, memory map[string]time.Time) []drift.Fire {
	specs := d.refresh(ctx, now)
	for repo, err := range tt.Sync(now, specs, memory) {
		d.r.log.Error("drift schedule", "repo", repo, "err", err)
	}
	fires := tt.Take(now)
	for _, f := range fires {
		d.fire(ctx, f)
		memory[f.Repo] = f.Due
	}
	return fires
}

// fire starts a scheduled check through Runner.TriggerDrift, so it never
// overlaps a check of the repository started by the API or a remediation.
func (d *driftScheduler) fire(ctx context.Context, f drift.Fire) {
	if !d.claimTick(ctx, f) {
		return
	}
	id, err := d.trigger(ctx, f.Repo, "")
	if err != nil {
		d.r.log.Error("drift: scheduled check", "repo", f.Repo, "err", err)
		return
	}
	d.r.log.Info("drift: scheduled check", "repo", f.Repo, "run", id, "due", f.Due)
	if err := d.r.rec.Put(ctx, bucketDriftSched, f.Repo, driftMemory{Last: f.Due}); err != nil {
		d.r.log.Warn("drift: remember scheduled check", "repo", f.Repo, "err", err)
	}
}

// loadMemory reads the scheduled time of each repository's last check.
func (d *driftScheduler) loadMemory(ctx context.Context) map[string]time.Time {
	out := map[string]time.Time{}
	recs, err := d.r.cfg.Store.ListRecords(ctx, bucketDriftSched, "")
	if err != nil {
		d.r.log.Warn("drift: read scheduler memory", "err", err)
		return out
	}
	for _, rec := range recs {
		var m driftMemory
		if err := json.Unmarshal(rec.Value, &m); err == nil {
			out[rec.Key] = m.Last
		}
	}
	return out
}

// refresh lists the served repositories and reads their schedules when
// what it cached is stale, and returns repo -> schedule ("" when off).
func (d *driftScheduler) refresh(ctx context.Context, now time.Time) map[string]string {
	d.mu.Lock()
	list := d.listStale || d.listed.IsZero() || now.Sub(d.listed) >= driftReposTTL
	d.listStale = false
	d.mu.Unlock()
	if list {
		repos, err := d.r.servedRepos(ctx)
		if err != nil {
			d.r.log.Error("drift: list repositories", "err", err)
		} else {
			d.mu.Lock()
			seen := map[string]*driftRepo{}
			for _, repo := range repos {
				dr := d.repos[repo.FullName()]
				if dr == nil {
					dr = &driftRepo{}
				}
				dr.repo = repo
				seen[repo.FullName()] = dr
			}
			d.repos, d.listed = seen, now
			d.mu.Unlock()
		}
	}
	d.mu.Lock()
	var toRead []*driftRepo
	for _, dr := range d.repos {
		if dr.stale || dr.read.IsZero() || now.Sub(dr.read) >= driftConfigTTL {
			dr.stale = false
			toRead = append(toRead, dr)
		}
	}
	d.mu.Unlock()
	for _, dr := range toRead {
		spec := d.scheduleOf(ctx, dr.repo)
		d.mu.Lock()
		dr.spec, dr.read = spec, now
		d.mu.Unlock()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	specs := make(map[string]string, len(d.repos))
	for name, dr := range d.repos {
		specs[name] = dr.spec
	}
	return specs
}

// scheduleOf is a repository's drift schedule, "" when drift detection is
// off for it: the server's, or its atoll.yaml's when the server allows
// repo_override. A broken or unreadable atoll.yaml keeps the server's.
func (d *driftScheduler) scheduleOf(ctx context.Context, repo vcs.Repo) string {
	s := d.r.srv.Drift
	server := ""
	if s.Enabled {
		server = s.Schedule
	}
	if !s.RepoOverride {
		return server
	}
	rc, err := d.r.repoConfig(ctx, repo, repo.DefaultBranch, repo.DefaultBranch)
	if err != nil {
		d.r.log.Warn("drift: read atoll.yaml; using the server's schedule", "repo", repo.FullName(), "err", err)
		return server
	}
	if !rc.Present {
		return server
	}
	if !rc.DriftEnabled {
		return ""
	}
	return rc.DriftSchedule
}

// onPush notes a push: a push to a default branch may change its atoll.yaml.
func (d *driftScheduler) onPush(repo vcs.Repo, ref string) {
	if !d.enabled() || !d.r.srv.Drift.RepoOverride {
		return
	}
	d.mu.Lock()
	dr, ok := d.repos[repo.FullName()]
	if ok && (dr.repo.DefaultBranch == "" || ref == "refs/heads/"+dr.repo.DefaultBranch) {
		dr.stale = true
	}
	d.mu.Unlock()
	if ok {
		d.wake()
	}
}

// onInstallation notes that the served repositories may have changed.
func (d *driftScheduler) onInstallation() {
	if !d.enabled() {
		return
	}
	d.mu.Lock()
	d.listStale = true
	d.mu.Unlock()
	d.wake()
}

func (d *driftScheduler) wake() {
	select {
	case d.poke <- struct{}{}:
	default:
	}
}

// serves reports whether the repository is among the served repositories
// the scheduler last listed.
func (d *driftScheduler) serves(repo string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.repos[repo]
	return ok
}

// admit says whether a worker may run job id now. Any job but a drift job
// may. A drift job takes one of drift.concurrency slots, or is parked
// (it stays queued) until a drift job gives its slot back; release gives
// the slot back and hands it to the oldest parked job.
func (d *driftScheduler) admit(ctx context.Context, id string) (release func(), ok bool) {
	var j Job
	if found, err := d.r.rec.Get(ctx, records.Jobs, id, &j); err != nil || !found || j.Kind != JobDrift || j.State != JobQueued {
		return func() {}, true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy >= d.limit {
		if !d.isPark[id] {
			d.isPark[id] = true
			d.parked = append(d.parked, id)
		}
		return nil, false
	}
	d.busy++
	delete(d.isPark, id)
	var once sync.Once
	return func() { once.Do(d.release) }, true
}

func (d *driftScheduler) release() {
	d.mu.Lock()
	d.busy--
	var next string
	if len(d.parked) > 0 {
		next, d.parked = d.parked[0], d.parked[1:]
		delete(d.isPark, next)
	}
	d.mu.Unlock()
	if next != "" {
		d.r.enqueue(next)
	}
}
