package lockqueue

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// Bucket holds the plan queue: Key(lock, seq) -> Waiter.
const Bucket = "planqueue"

// ServeInterval is how often the queue is looked at without being told
// that a lock was released: locks released by other paths, and waiters
// whose plan ended without taking the lock.
const ServeInterval = 5 * time.Second

// Waiter is a PR waiting for a project's lock.
type Waiter struct {
	Key     locks.Key       `json:"key"`
	Repo    vcs.Repo        `json:"repo"`
	Number  int             `json:"number"`
	Project records.Project `json:"project"`
	Seq     uint64          `json:"seq"`
	Since   time.Time       `json:"since"`
	// RunID is the plan run started for it once the lock was free; the
	// waiter leaves the queue when that plan takes the lock, or when the
	// run ends without it.
	RunID string `json:"run_id,omitempty"`
}

// Prefix is the record key prefix of lock k's queue.
func Prefix(k locks.Key) string {
	return k.Repo + "\x00" + path.Clean(k.Dir) + "\x00" + k.Workspace + "\x00"
}

// Key is the record key of the waiter with sequence number seq in k's
// queue: keys sort first in line first.
func Key(k locks.Key, seq uint64) string { return fmt.Sprintf("%s%012d", Prefix(k), seq) }

// Store keeps the queue, with the project locks it waits for.
type Store interface {
	records.Store
	// Get returns the lock on k and true, or false when k is free.
	Get(ctx context.Context, k locks.Key) (locks.Lock, bool, error)
	// TryLock takes the lock on k for owner o (locks.Locker).
	TryLock(ctx context.Context, k locks.Key, o locks.Owner) (held locks.Lock, acquired bool, err error)
}

// Host reads a waiter's pull request as the code host has it now.
type Host interface {
	GetPullRequest(ctx context.Context, repo vcs.Repo, number int) (vcs.PullRequest, error)
}

// Trail records each lock attempt of a job (trail.Trail).
type Trail interface {
	// Lock records what TryLock for job returned, and passes it on.
	Lock(ctx context.Context, job records.Job) func(locks.Lock, bool, error) (locks.Lock, bool, error)
}

// Engine is what the queue asks of the engine that runs it.
type Engine interface {
	// RunBusy reports whether run runID has a job not final yet.
	RunBusy(ctx context.Context, runID string) bool
	// PlanWaiter starts the plan of w's project on pr's head, and binds
	// the run to w in the same transaction (BindRun).
	PlanWaiter(ctx context.Context, pr vcs.PullRequest, w Waiter) error
}

// Deps are what a Queue is built from; every field is required but Log.
type Deps struct {
	Store  Store
	Host   Host
	Trail  Trail
	Engine Engine
	Now    func() time.Time
	Log    *slog.Logger
}

// Queue is the plan queue over a store. Make it with New.
type Queue struct {
	store Store
	rec   records.Records
	host  Host
	trail Trail
	eng   Engine
	now   func() time.Time
	log   *slog.Logger
	wake  chan struct{}
}

// New returns the plan queue of d.
func New(d Deps) *Queue {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Queue{store: d.Store, rec: records.New(d.Store), host: d.Host, trail: d.Trail, eng: d.Engine,
		now: d.Now, log: d.Log, wake: make(chan struct{}, 1)}
}

// held reports whether lock k is held.
func (q *Queue) held(ctx context.Context, k locks.Key) (bool, error) {
	_, held, err := q.store.Get(ctx, k)
	return held, err
}

// Waiters are the PRs waiting for k, first in line first.
func (q *Queue) Waiters(ctx context.Context, k locks.Key) ([]Waiter, error) {
	return records.List[Waiter](ctx, q.rec, Bucket, Prefix(k))
}

// LockFor locks k, a job's project, for its PR. When it cannot, the PR
// joins the lock's queue, and the returned lock names the PR it waits
// behind: the holder, or no PR (Owner.Number 0) when the lock is free but
// another PR waits for it first. behind are the PRs ahead of it, holder
// first. Taking the lock takes the PR out of k's queue.
func (q *Queue) LockFor(ctx context.Context, k locks.Key, job records.Job, pr vcs.PullRequest) (held locks.Lock, ok bool, behind []int, err error) {
	ws, err := q.Waiters(ctx, k)
	if err != nil {
		return locks.Lock{}, false, nil, err
	}
	mine := func(w Waiter) bool { return w.Repo.FullName() == job.Repo.FullName() && w.Number == job.Number }
	if len(ws) > 0 && !mine(ws[0]) {
		if isHeld, err := q.held(ctx, k); err != nil {
			return locks.Lock{}, false, nil, err
		} else if !isHeld {
			behind, err := q.join(ctx, k, job, ws, 0)
			return locks.Lock{Key: k}, false, behind, err
		}
	}
	held, ok, err = q.trail.Lock(ctx, job)(q.store.TryLock(ctx, k, locks.Owner{Repo: job.Repo.FullName(), Number: job.Number,
		Author: pr.Author, HeadSHA: pr.HeadSHA, Time: q.now()}))
	if err != nil {
		return held, ok, nil, err
	}
	if ok {
		for _, w := range ws {
			if mine(w) {
				if err := q.store.DeleteRecord(ctx, Bucket, Key(k, w.Seq)); err != nil {
					q.log.Warn("leave the plan queue", "pr", job.Number, "err", err)
				}
			}
		}
		return held, true, nil, nil
	}
	behind, err = q.join(ctx, k, job, ws, held.Owner.Number)
	return held, false, behind, err
}

// join puts job's PR in k's queue, keeping its place when it waits
// already, and returns the PRs ahead of it: holder (when not 0) first.
func (q *Queue) join(ctx context.Context, k locks.Key, job records.Job, ws []Waiter, holder int) ([]int, error) {
	var behind []int
	if holder != 0 {
		behind = append(behind, holder)
	}
	for _, w := range ws {
		if w.Repo.FullName() == job.Repo.FullName() && w.Number == job.Number {
			// Waiting already: the same place, and no run of its own now.
			w.Project, w.RunID = job.Project, ""
			return behind, q.rec.Put(ctx, Bucket, Key(k, w.Seq), w)
		}
		behind = append(behind, w.Number)
	}
	seq, err := q.store.NextID(ctx, Bucket)
	if err != nil {
		return nil, err
	}
	w := Waiter{Key: k, Repo: job.Repo, Number: job.Number, Project: job.Project, Seq: seq, Since: q.now()}
	if err := q.rec.Put(ctx, Bucket, Key(k, seq), w); err != nil {
		return nil, fmt.Errorf("join the plan queue: %w", err)
	}
	return behind, nil
}

// Leave takes a PR out of every queue (closed, or unlocked by its own
// `atoll unlock`).
func (q *Queue) Leave(ctx context.Context, repo string, number int) {
	all, err := records.List[Waiter](ctx, q.rec, Bucket, repo+"\x00")
	if err != nil {
		return
	}
	for _, w := range all {
		if w.Number == number && w.Repo.FullName() == repo {
			_ = q.store.DeleteRecord(ctx, Bucket, Key(w.Key, w.Seq))
		}
	}
}

// Released tells the queue that locks were released: Loop serves it
// again. It never blocks.
func (q *Queue) Released() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Loop serves the queue at once, whenever a lock is released, and every
// ServeInterval, until ctx ends (a leader's task).
func (q *Queue) Loop(ctx context.Context) {
	t := time.NewTicker(ServeInterval)
	defer t.Stop()
	for {
		q.Serve(ctx)
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-t.C:
		}
	}
}

// Serve plans, for each free lock with waiters, the first waiter still
// open. Waiters whose PR is closed leave the queue.
func (q *Queue) Serve(ctx context.Context) {
	all, err := records.List[Waiter](ctx, q.rec, Bucket, "")
	if err != nil {
		q.log.Error("plan queue: list", "err", err)
		return
	}
	byLock := map[string][]Waiter{}
	var order []string
	for _, w := range all {
		p := Prefix(w.Key)
		if _, ok := byLock[p]; !ok {
			order = append(order, p)
		}
		byLock[p] = append(byLock[p], w)
	}
	for _, p := range order {
		if ctx.Err() != nil {
			return
		}
		q.serveLock(ctx, byLock[p])
	}
}

// serveLock serves one lock's queue (ws, first in line first).
func (q *Queue) serveLock(ctx context.Context, ws []Waiter) {
	k := ws[0].Key
	if held, err := q.held(ctx, k); err != nil || held {
		return
	}
	for _, w := range ws {
		if w.RunID != "" {
			if q.eng.RunBusy(ctx, w.RunID) {
				return // its plan is queued or running: it takes the lock
			}
			// Its plan ended without the lock (it failed first, or found
			// the PR changed): it leaves the queue.
			_ = q.store.DeleteRecord(ctx, Bucket, Key(k, w.Seq))
			continue
		}
		pr, err := q.host.GetPullRequest(ctx, w.Repo, w.Number)
		if err != nil {
			q.log.Warn("plan queue: get PR", "pr", w.Number, "err", err)
			return
		}
		if pr.State != "open" {
			_ = q.store.DeleteRecord(ctx, Bucket, Key(k, w.Seq))
			continue
		}
		pr.Repo.InstallationID = w.Repo.InstallationID
		if err := q.eng.PlanWaiter(ctx, pr, w); err != nil {
			q.log.Error("plan queue: plan", "pr", w.Number, "err", err)
		}
		return
	}
}

// BindRun is the update, for the transaction that stores run runID, that
// records the run with waiter w; it writes nothing when w has left the
// queue meanwhile.
func BindRun(w Waiter, runID string) locks.RecordUpdate {
	return records.TypedUpdate(Bucket, Key(w.Key, w.Seq), func(cur *Waiter, exists bool) error {
		if !exists {
			return records.ErrAbort
		}
		cur.RunID = runID
		return nil
	})
}
