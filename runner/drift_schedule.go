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

	// checks keeps each repository's checks from overlapping (see
	// Runner.TriggerDrift); they start with Runner.launchDrift.
	checks *drift.Checks

	mu     sync.Mutex
	busy   int      // drift jobs running
	limit  int      // drift.concurrency
	parked []string // drift jobs waiting for a slot, oldest first
	isPark map[string]bool

	// sweep knows the served repositories and their schedules.
	sweep      *drift.Sweep
	randJitter func(n time.Duration) time.Duration
	// trigger starts a check of a repository (Runner.TriggerDrift).
	trigger func(ctx context.Context, repo, project string) (string, error)
}

func newDriftScheduler(r *Runner) *driftScheduler {
	return &driftScheduler{
		r:          r,
		checks:     drift.NewChecks(r.rec, r.now, r.launchDrift, r.shared),
		limit:      max(r.srv.Drift.Concurrency, 1),
		isPark:     map[string]bool{},
		sweep:      drift.NewSweep(driftSource{r}, r.srv.Drift, r.log),
		randJitter: func(n time.Duration) time.Duration { return rand.N(n) },
		trigger:    r.TriggerDrift,
	}
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
		case <-d.sweep.Woken():
			t.Stop()
		case <-t.C:
		}
	}
}

// tick is one turn of the loop at now: refresh what is stale, start the
// checks that fell due. memory is the scheduled time of each repository's
// last check, updated as checks start.
func (d *driftScheduler) tick(ctx context.Context, now time.Time, tt *drift.Timetable, memory map[string]time.Time) []drift.Fire {
	specs := d.sweep.Schedules(ctx, now)
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

// driftSource is what the drift sweep reads through the runner: the
// served repositories and their atoll.yaml at the default branch.
type driftSource struct{ r *Runner }

func (s driftSource) ServedRepos(ctx context.Context) ([]vcs.Repo, error) {
	return s.r.servedRepos(ctx)
}

func (s driftSource) RepoSettings(ctx context.Context, repo vcs.Repo) (drift.RepoSettings, error) {
	rc, err := s.r.repoConfig(ctx, repo, repo.DefaultBranch, repo.DefaultBranch)
	if err != nil {
		return drift.RepoSettings{}, err
	}
	return drift.RepoSettings{Present: rc.Present, Enabled: rc.DriftEnabled, Schedule: rc.DriftSchedule}, nil
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
