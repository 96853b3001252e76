package runner

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// The plan queue. A PR whose plan is refused because another PR holds the
// project's lock waits in the queue of that lock; once the lock is free,
// the first PR still open in the queue is planned by itself, in the order
// the PRs asked. The queue is durable: a record per waiting PR and lock,
// in the bucket planqueue, keyed by the lock and a sequence number.
//
// Nobody hands the lock over: the first waiter's plan takes it as any plan
// does. So that no PR jumps the queue between the release and that plan,
// a plan finding the lock free while another PR waits first for it is
// refused as well, behind that PR (lockFor).

// bucketQueue holds the plan queue: queueKey -> Waiter.
const bucketQueue = "planqueue"

// queueServeInterval is how often the queue is looked at without being
// told that a lock was released: locks released by other paths, and
// waiters whose plan ended without taking the lock.
const queueServeInterval = 5 * time.Second

// Waiter is a PR waiting for a project's lock.
type Waiter struct {
	Key     locks.Key `json:"key"`
	Repo    vcs.Repo  `json:"repo"`
	Number  int       `json:"number"`
	Project Project   `json:"project"`
	Seq     uint64    `json:"seq"`
	Since   time.Time `json:"since"`
	// RunID is the plan run started for it once the lock was free; the
	// waiter leaves the queue when that plan takes the lock, or when the
	// run ends without it.
	RunID string `json:"run_id,omitempty"`
}

// queuePrefix is the record key prefix of one lock's queue.
func queuePrefix(k locks.Key) string {
	return k.Repo + "\x00" + path.Clean(k.Dir) + "\x00" + k.Workspace + "\x00"
}

func queueKey(k locks.Key, seq uint64) string { return fmt.Sprintf("%s%012d", queuePrefix(k), seq) }

// waiters are the PRs waiting for k, first in line first.
func (r *Runner) waiters(ctx context.Context, k locks.Key) ([]Waiter, error) {
	return records.List[Waiter](ctx, r.rec, bucketQueue, queuePrefix(k))
}

// lockFor locks a job's project for its PR. When it cannot, the PR joins
// the lock's queue, and the returned lock names the PR it waits behind:
// the holder, or no PR (Owner.Number 0) when the lock is free but another
// PR waits for it first. behind are the PRs ahead of it, holder first.
func (r *Runner) lockFor(ctx context.Context, job Job, pr vcs.PullRequest) (held locks.Lock, ok bool, behind []int, err error) {
	k := lockKey(job)
	ws, err := r.waiters(ctx, k)
	if err != nil {
		return locks.Lock{}, false, nil, err
	}
	mine := func(w Waiter) bool { return w.Repo.FullName() == job.Repo.FullName() && w.Number == job.Number }
	if len(ws) > 0 && !mine(ws[0]) {
		if _, isHeld, err := r.cfg.Store.Get(ctx, k); err != nil {
			return locks.Lock{}, false, nil, err
		} else if !isHeld {
			behind, err := r.joinQueue(ctx, k, job, ws, 0)
			return locks.Lock{Key: k}, false, behind, err
		}
	}
	held, ok, err = r.auditLock(ctx, job)(r.cfg.Store.TryLock(ctx, k, locks.Owner{Repo: job.Repo.FullName(), Number: job.Number,
		Author: pr.Author, HeadSHA: pr.HeadSHA, Time: r.now()}))
	if err != nil {
		return held, ok, nil, err
	}
	if ok {
		for _, w := range ws {
			if mine(w) {
				if err := r.cfg.Store.DeleteRecord(ctx, bucketQueue, queueKey(k, w.Seq)); err != nil {
					r.log.Warn("leave the plan queue", "pr", job.Number, "err", err)
				}
			}
		}
		return held, true, nil, nil
	}
	behind, err = r.joinQueue(ctx, k, job, ws, held.Owner.Number)
	return held, false, behind, err
}

// joinQueue puts job's PR in k's queue, keeping its place when it waits
// already, and returns the PRs ahead of it: holder (when not 0) first.
func (r *Runner) joinQueue(ctx context.Context, k locks.Key, job Job, ws []Waiter, holder int) ([]int, error) {
	var behind []int
	if holder != 0 {
		behind = append(behind, holder)
	}
	for _, w := range ws {
		if w.Repo.FullName() == job.Repo.FullName() && w.Number == job.Number {
			// Waiting already: the same place, and no run of its own now.
			w.Project, w.RunID = job.Project, ""
			return behind, r.rec.Put(ctx, bucketQueue, queueKey(k, w.Seq), w)
		}
		behind = append(behind, w.Number)
	}
	seq, err := r.cfg.Store.NextID(ctx, bucketQueue)
	if err != nil {
		return nil, err
	}
	w := Waiter{Key: k, Repo: job.Repo, Number: job.Number, Project: job.Project, Seq: seq, Since: r.now()}
	if err := r.rec.Put(ctx, bucketQueue, queueKey(k, seq), w); err != nil {
		return nil, fmt.Errorf("join the plan queue: %w", err)
	}
	return behind, nil
}

// leaveQueues takes a PR out of every queue (closed, or unlocked by its
// own `atoll unlock`).
func (r *Runner) leaveQueues(ctx context.Context, repo string, number int) {
	all, err := records.List[Waiter](ctx, r.rec, bucketQueue, repo+"\x00")
	if err != nil {
		return
	}
	for _, w := range all {
		if w.Number == number && w.Repo.FullName() == repo {
			_ = r.cfg.Store.DeleteRecord(ctx, bucketQueue, queueKey(w.Key, w.Seq))
		}
	}
}

// lockReleased tells the plan queue that locks were released. It never
// blocks.
func (r *Runner) lockReleased() {
	select {
	case r.queueWake <- struct{}{}:
	default:
	}
}

// queueLoop serves the plan queue at start-up, whenever a lock is
// released, and every queueServeInterval.
func (r *Runner) queueLoop(ctx context.Context) {
	t := time.NewTicker(queueServeInterval)
	defer t.Stop()
	for {
		r.serveQueue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-r.queueWake:
		case <-t.C:
		}
	}
}

// serveQueue plans, for each free lock with waiters, the first waiter
// still open. Waiters whose PR is closed leave the queue.
func (r *Runner) serveQueue(ctx context.Context) {
	all, err := records.List[Waiter](ctx, r.rec, bucketQueue, "")
	if err != nil {
		r.log.Error("plan queue: list", "err", err)
		return
	}
	byLock := map[string][]Waiter{}
	var order []string
	for _, w := range all {
		p := queuePrefix(w.Key)
		if _, ok := byLock[p]; !ok {
			order = append(order, p)
		}
		byLock[p] = append(byLock[p], w)
	}
	for _, p := range order {
		if ctx.Err() != nil {
			return
		}
		r.serveLock(ctx, byLock[p])
	}
}

// serveLock serves one lock's queue (ws, first in line first).
func (r *Runner) serveLock(ctx context.Context, ws []Waiter) {
	k := ws[0].Key
	if _, held, err := r.cfg.Store.Get(ctx, k); err != nil || held {
		return
	}
	for _, w := range ws {
		if w.RunID != "" {
			if r.runBusy(ctx, w.RunID) {
				return // its plan is queued or running: it takes the lock
			}
			// Its plan ended without the lock (it failed first, or found
			// the PR changed): it leaves the queue.
			_ = r.cfg.Store.DeleteRecord(ctx, bucketQueue, queueKey(k, w.Seq))
			continue
		}
		pr, err := r.host.GetPullRequest(ctx, w.Repo, w.Number)
		if err != nil {
			r.log.Warn("plan queue: get PR", "pr", w.Number, "err", err)
			return
		}
		if pr.State != "open" {
			_ = r.cfg.Store.DeleteRecord(ctx, bucketQueue, queueKey(k, w.Seq))
			continue
		}
		pr.Repo.InstallationID = w.Repo.InstallationID
		if err := r.planWaiter(ctx, pr, w); err != nil {
			r.log.Error("plan queue: plan", "pr", w.Number, "err", err)
		}
		return
	}
}

// planWaiter starts the plan of a waiter's project on its PR's head, and
// records the run with the waiter in the same transaction.
func (r *Runner) planWaiter(ctx context.Context, pr vcs.PullRequest, w Waiter) error {
	defer r.prMu.lock(records.PRKey(pr.Repo.FullName(), pr.Number))()
	st, err := r.prState(ctx, pr)
	if err != nil {
		return err
	}
	spec := runSpec{Repo: pr.Repo, Number: pr.Number, Command: "queued-plan", HeadSHA: pr.HeadSHA, PlanComment: true}
	spec.Jobs = []Job{{Kind: JobPlan, Repo: pr.Repo, Number: pr.Number, Project: w.Project,
		HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA, PRAuthor: pr.Author}}
	spec.Also = func(runID string) []locks.RecordUpdate {
		return []locks.RecordUpdate{
			records.HeadUpdate(pr, mergeProjects(st.Projects, []Project{w.Project}, st.HeadSHA == pr.HeadSHA)),
			records.TypedUpdate(bucketQueue, queueKey(w.Key, w.Seq), func(cur *Waiter, exists bool) error {
				if !exists {
					return records.ErrAbort
				}
				cur.RunID = runID
				return nil
			}),
		}
	}
	if st.HeadSHA != "" && st.HeadSHA != pr.HeadSHA {
		if err := r.supersede(ctx, pr, st); err != nil {
			r.log.Warn("supersede", "err", err)
		}
	}
	r.log.Info("plan queue: the lock is free; planning the next PR", "repo", pr.Repo.FullName(), "pr", pr.Number,
		"project", w.Project.Name)
	_, err = r.startRun(ctx, spec)
	return err
}

// runBusy reports whether a run has a job not final yet.
func (r *Runner) runBusy(ctx context.Context, runID string) bool {
	var run Run
	if ok, err := r.rec.Get(ctx, records.Runs, runID, &run); err != nil || !ok {
		return false
	}
	jobs, err := r.runJobs(ctx, run)
	if err != nil {
		return true
	}
	for _, j := range jobs {
		if !j.State.Final() {
			return true
		}
	}
	return false
}
