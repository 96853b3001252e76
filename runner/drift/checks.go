package drift

import (
	"context"
	"sync"
	"time"

	"github.com/atollhq/atoll/runner/records"
)

// RunStore is what Checks reads and writes of drift runs (records.Records
// is one).
type RunStore interface {
	Get(ctx context.Context, bucket, key string, v any) (bool, error)
	Put(ctx context.Context, bucket, key string, v any) error
	NewID(ctx context.Context, bucket string, now time.Time) (string, error)
	WidenDriftRun(ctx context.Context, id, project string) error
	EndDriftRun(ctx context.Context, id, commit, errText string) error
}

// Checks keeps the checks of one repository from overlapping: at most one
// check under way per repository (queued, planning or reporting) and at
// most one follow-up check to start when it ends. It is safe for
// concurrent use.
type Checks struct {
	rec    RunStore
	now    func() time.Time
	launch func(records.DriftRun)
	shared func() bool

	mu      sync.Mutex
	running map[string]string // repo -> the check under way
	pending map[string]string // repo -> the follow-up check to start after it
}

// NewChecks returns checks stored in rec. launch starts a stored check in
// the background (its end must call Done); it is called with Checks' lock
// held, so it must not call back into Checks before it returns. shared
// reports whether other replicas share the store, so that a check may
// have ended on another one.
func NewChecks(rec RunStore, now func() time.Time, launch func(records.DriftRun), shared func() bool) *Checks {
	return &Checks{rec: rec, now: now, launch: launch, shared: shared,
		running: map[string]string{}, pending: map[string]string{}}
}

// Trigger asks for a check of repo ("owner/name"; of one project when
// project is non-empty) and returns its drift run's id. While a check
// that covers the request is queued or planning, the trigger joins it and
// gets its id; when the check under way is already reporting (its plans
// may predate the trigger) or covers another project, one follow-up check
// is stored to start when it ends, and later triggers join that one (two
// projects asked for: it checks them all).
func (c *Checks) Trigger(ctx context.Context, repo, project string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleElsewhere(ctx, repo)
	cur, busy := c.running[repo]
	if busy {
		var dr records.DriftRun
		found, err := c.rec.Get(ctx, records.DriftRuns, cur, &dr)
		if err != nil {
			return "", err
		}
		if found && (dr.State == records.DriftRunQueued || dr.State == records.DriftRunRunning) && (dr.Project == "" || dr.Project == project) {
			return cur, nil
		}
		if next, ok := c.pending[repo]; ok {
			return next, c.rec.WidenDriftRun(ctx, next, project)
		}
	}
	id, err := c.rec.NewID(ctx, records.DriftRuns, c.now())
	if err != nil {
		return "", err
	}
	dr := records.DriftRun{ID: "d" + id, Repo: repo, Project: project, State: records.DriftRunQueued, Projects: []records.DriftProject{}, Created: c.now()}
	if err := c.rec.Put(ctx, records.DriftRuns, dr.ID, dr); err != nil {
		return "", err
	}
	if busy {
		c.pending[repo] = dr.ID
		return dr.ID, nil
	}
	c.running[repo] = dr.ID
	c.launch(dr)
	return dr.ID, nil
}

// Done ends a repository's check id: its follow-up check, if one was
// asked for, starts now. The end of another id (an older check) changes
// nothing. It reports a follow-up it could not read back (nil: none, or
// started).
func (c *Checks) Done(repo, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running[repo] != id {
		return nil
	}
	_, err := c.startFollowUp(context.Background(), repo)
	return err
}

// startFollowUp forgets repo's check under way and starts the follow-up
// check kept for it, if one was asked for. Called with c.mu held. started
// is false when there is none, or when it could not be read back (lost
// says so).
func (c *Checks) startFollowUp(ctx context.Context, repo string) (started bool, lost error) {
	delete(c.running, repo)
	next, ok := c.pending[repo]
	if !ok {
		return false, nil
	}
	delete(c.pending, repo)
	var dr records.DriftRun
	found, err := c.rec.Get(ctx, records.DriftRuns, next, &dr)
	if err != nil || !found {
		return false, &lostError{run: next, err: err}
	}
	c.running[repo] = next
	c.launch(dr)
	return true, nil
}

// lostError is a follow-up check Done could not read back.
type lostError struct {
	run string
	err error
}

func (e *lostError) Error() string {
	if e.err == nil {
		return "follow-up check " + e.run + " not stored"
	}
	return "follow-up check " + e.run + ": " + e.err.Error()
}

func (e *lostError) Unwrap() error { return e.err }

// Adopt records, at start-up, that id is repo's check under way (its jobs
// were recovered), so no other check overlaps it.
func (c *Checks) Adopt(repo, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running[repo] = id
}

// Restart starts again, at start-up, a stored check cut off before its
// jobs were stored: now when its repository is free, after the check under
// way otherwise; a third one waiting for the same repository is ended
// with skipped as its error.
func (c *Checks) Restart(ctx context.Context, dr records.DriftRun, skipped string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, busy := c.running[dr.Repo]
	_, queued := c.pending[dr.Repo]
	switch {
	case !busy:
		c.running[dr.Repo] = dr.ID
		c.launch(dr)
	case !queued:
		c.pending[dr.Repo] = dr.ID
	default:
		return c.rec.EndDriftRun(ctx, dr.ID, "", skipped)
	}
	return nil
}

// settleElsewhere forgets a repository's check under way when it ended
// on another replica (which reported it: Done ran there), and starts the
// follow-up check this replica kept for it. Called with c.mu held; it
// reports whether the repository is still busy.
func (c *Checks) settleElsewhere(ctx context.Context, repo string) bool {
	cur, busy := c.running[repo]
	if !busy || !c.shared() {
		return busy
	}
	var dr records.DriftRun
	found, err := c.rec.Get(ctx, records.DriftRuns, cur, &dr)
	if err != nil || (found && dr.State != records.DriftRunDone) {
		return true
	}
	started, _ := c.startFollowUp(ctx, repo)
	return started
}
