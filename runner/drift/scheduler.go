package drift

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
)

// MemoryBucket remembers, per repository ("owner/name"), the scheduled
// time of the last check the schedule started (a Memory), so a check
// missed while atoll was down runs once when it is back.
const MemoryBucket = "driftsched"

// Memory is one repository's durable scheduler memory.
type Memory struct {
	Last time.Time `json:"last"`
}

// Starter is what the scheduler asks of the engine.
type Starter interface {
	// Trigger starts a check of repo ("owner/name"; of one project when
	// project is non-empty), joining one under way, and returns its drift
	// run's id (Runner.TriggerDrift).
	Trigger(ctx context.Context, repo, project string) (string, error)
	// Enqueue hands a queued job to the workers again.
	Enqueue(jobID string)
}

// SchedulerConfig is a Scheduler's settings.
type SchedulerConfig struct {
	// Drift is the server's drift settings (schedule, jitter,
	// concurrency).
	Drift config.Drift
	// Shared is true when other replicas share the store: scheduled
	// checks are then claimed in the store, once per due time.
	Shared bool
	// Poll is how often the leader reads the drift signal (FollowSignal).
	Poll time.Duration
	Now  func() time.Time
	Log  *slog.Logger
}

// Scheduler starts drift checks on each repository's cron schedule (the
// server's, or atoll.yaml's where drift.repo_override allows it), with
// jitter; it never runs two checks of one repository at once (it starts
// them through Starter.Trigger), and never more than drift.concurrency
// drift jobs at once (Admit). Loop and FollowSignal run on the leader
// alone; Admit and ShareChange on every replica.
type Scheduler struct {
	rec   records.Records
	start Starter
	cfg   SchedulerConfig

	// Sweep knows the served repositories and their schedules.
	Sweep *Sweep
	// RandJitter draws a check's jitter in [0, n); tests replace it.
	RandJitter func(n time.Duration) time.Duration

	mu     sync.Mutex
	busy   int      // drift jobs running
	limit  int      // drift.concurrency
	parked []string // drift jobs waiting for a slot, oldest first
	isPark map[string]bool
}

// NewScheduler returns a scheduler over the records in rec, reading the
// repositories through sweep and starting checks through start.
func NewScheduler(rec records.Records, start Starter, sweep *Sweep, cfg SchedulerConfig) *Scheduler {
	return &Scheduler{rec: rec, start: start, cfg: cfg, Sweep: sweep,
		RandJitter: func(n time.Duration) time.Duration { return rand.N(n) },
		limit:      max(cfg.Drift.Concurrency, 1), isPark: map[string]bool{}}
}

// Loop starts the checks that fall due until ctx ends. It wakes at the
// earliest due time, at least once a minute, and when a webhook changed
// what the sweep knows.
func (d *Scheduler) Loop(ctx context.Context) {
	tt := NewTimetable(d.cfg.Drift.Jitter, d.RandJitter)
	memory := d.loadMemory(ctx)
	for {
		now := d.cfg.Now().UTC()
		d.Tick(ctx, now, tt, memory)
		wait := time.Minute
		if next := tt.Next(); !next.IsZero() && next.Sub(now) < wait {
			wait = max(next.Sub(now), 0)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.Sweep.Woken():
			t.Stop()
		case <-t.C:
		}
	}
}

// Tick is one turn of the loop at now: refresh what is stale, start the
// checks that fell due, and return them. memory is the scheduled time of
// each repository's last check, updated as checks start.
func (d *Scheduler) Tick(ctx context.Context, now time.Time, tt *Timetable, memory map[string]time.Time) []Fire {
	specs := d.Sweep.Schedules(ctx, now)
	for repo, err := range tt.Sync(now, specs, memory) {
		d.cfg.Log.Error("drift schedule", "repo", repo, "err", err)
	}
	fires := tt.Take(now)
	for _, f := range fires {
		d.fire(ctx, f)
		memory[f.Repo] = f.Due
	}
	return fires
}

// fire starts a scheduled check through Starter.Trigger, so it never
// overlaps a check of the repository started by the API or a remediation.
func (d *Scheduler) fire(ctx context.Context, f Fire) {
	if !d.ClaimTick(ctx, f) {
		return
	}
	id, err := d.start.Trigger(ctx, f.Repo, "")
	if err != nil {
		d.cfg.Log.Error("drift: scheduled check", "repo", f.Repo, "err", err)
		return
	}
	d.cfg.Log.Info("drift: scheduled check", "repo", f.Repo, "run", id, "due", f.Due)
	if err := d.rec.Put(ctx, MemoryBucket, f.Repo, Memory{Last: f.Due}); err != nil {
		d.cfg.Log.Warn("drift: remember scheduled check", "repo", f.Repo, "err", err)
	}
}

// ClaimTick claims a scheduled check of f.Repo due at f.Due, so that it
// starts once across replicas: false when it was already started (by an
// earlier leader) or the claim failed. On a store of its own every tick
// is this process's.
func (d *Scheduler) ClaimTick(ctx context.Context, f Fire) bool {
	if !d.cfg.Shared {
		return true
	}
	claimed := false
	err := records.Update(ctx, d.rec, MemoryBucket, f.Repo, func(m *Memory, _ bool) error {
		if !m.Last.Before(f.Due) {
			return records.ErrAbort
		}
		m.Last, claimed = f.Due, true
		return nil
	})
	if err != nil {
		d.cfg.Log.Error("drift: claim a scheduled check", "repo", f.Repo, "err", err)
		return false
	}
	if !claimed {
		d.cfg.Log.Info("drift: scheduled check already started by another replica", "repo", f.Repo, "due", f.Due)
	}
	return claimed
}

// loadMemory reads the scheduled time of each repository's last check.
func (d *Scheduler) loadMemory(ctx context.Context) map[string]time.Time {
	out := map[string]time.Time{}
	recs, err := d.rec.Store().ListRecords(ctx, MemoryBucket, "")
	if err != nil {
		d.cfg.Log.Warn("drift: read scheduler memory", "err", err)
		return out
	}
	for _, rec := range recs {
		var m Memory
		if err := json.Unmarshal(rec.Value, &m); err == nil {
			out[rec.Key] = m.Last
		}
	}
	return out
}

// Admit says whether a worker may run job id now. Any job but a queued
// drift job may. A drift job takes one of drift.concurrency slots, or is
// parked (it stays queued) until a drift job gives its slot back; release
// (idempotent) gives the slot back and hands it to the oldest parked job
// (Starter.Enqueue).
func (d *Scheduler) Admit(ctx context.Context, id string) (release func(), ok bool) {
	var j records.Job
	if found, err := d.rec.Get(ctx, records.Jobs, id, &j); err != nil || !found || j.Kind != records.JobDrift || j.State != records.JobQueued {
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

func (d *Scheduler) release() {
	d.mu.Lock()
	d.busy--
	var next string
	if len(d.parked) > 0 {
		next, d.parked = d.parked[0], d.parked[1:]
		delete(d.isPark, next)
	}
	d.mu.Unlock()
	if next != "" {
		d.start.Enqueue(next)
	}
}
