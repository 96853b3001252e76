package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Drift statuses of a project, as the API reports them.
const (
	DriftInSync  = "in_sync"
	DriftDrifted = "drifted"
	DriftError   = "error"
)

// DriftRun is one drift check of a repository (or one of its projects),
// as GET /api/drift/runs/{id} shows it.
type DriftRun struct {
	ID       string         `json:"run_id"`
	Repo     string         `json:"repo"`
	Project  string         `json:"project,omitempty"`
	State    string         `json:"state"` // queued, running, done
	Commit   string         `json:"commit,omitempty"`
	Error    string         `json:"error,omitempty"`
	Projects []DriftProject `json:"projects"`
	Created  time.Time      `json:"created"`
}

// DriftProject is one project's result in a DriftRun.
type DriftProject struct {
	Repo    string `json:"repo"`
	Project string `json:"project"`
	Status  string `json:"status,omitempty"` // in_sync, drifted, error; empty while running
	Issue   *int   `json:"issue"`
}

// DriftRecord is what atoll remembers of one project's drift: the open
// issue, and a bounded history of checks.
type DriftRecord struct {
	Repo      string        `json:"repo"`
	Project   Project       `json:"project"`
	Issue     int           `json:"issue,omitempty"`
	Hash      string        `json:"hash,omitempty"`
	FirstSeen time.Time     `json:"first_seen,omitempty"`
	LastSeen  time.Time     `json:"last_seen,omitempty"`
	History   []DriftResult `json:"history"`
}

// DriftResult is one check of one project.
type DriftResult struct {
	At      time.Time          `json:"at"`
	Commit  string             `json:"commit"`
	Status  string             `json:"status"`
	Summary *terraform.Summary `json:"summary,omitempty"`
	Hash    string             `json:"hash,omitempty"`
	Error   string             `json:"error,omitempty"`
}

// driftHistory bounds DriftRecord.History.
const driftHistory = 50

// Labels of drift issues.
const (
	LabelDrift = "atoll:drift"
)

func driftLabel(project string) string { return "atoll:drift:" + project }

func driftKey(repo, project string) string { return repo + "#" + project }

// driftScheduler starts drift checks on the cron schedule, with jitter,
// never two at once for one repository.
type driftScheduler struct {
	r       *Runner
	mu      sync.Mutex
	running map[string]string // repo -> run id in progress
	slots   chan struct{}     // bounds concurrent drift plans
}

func newDriftScheduler(r *Runner) *driftScheduler {
	return &driftScheduler{r: r, running: map[string]string{}, slots: make(chan struct{}, max(r.set.Drift.Concurrency, 1))}
}

// loop fires the schedule until ctx ends.
func (d *driftScheduler) loop(ctx context.Context) {
	sched, err := cron.ParseStandard(d.r.set.Drift.Schedule)
	if err != nil {
		d.r.log.Error("drift schedule", "schedule", d.r.set.Drift.Schedule, "err", err)
		return
	}
	for {
		next := sched.Next(d.r.now())
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		repos, err := d.r.servedRepos(ctx)
		if err != nil {
			d.r.log.Error("drift: list repos", "err", err)
			continue
		}
		for _, repo := range repos {
			repo := repo
			delay := time.Duration(0)
			if j := d.r.set.Drift.Jitter; j > 0 {
				delay = rand.N(j)
			}
			time.AfterFunc(delay, func() {
				if _, err := d.r.TriggerDrift(ctx, repo.FullName(), ""); err != nil {
					d.r.log.Error("drift: scheduled run", "repo", repo.FullName(), "err", err)
				}
			})
		}
	}
}

// ErrUnknownRepo is returned by TriggerDrift for a repository atoll does
// not serve.
var ErrUnknownRepo = errors.New("repository not served by this atoll")

// TriggerDrift starts a drift check of a repository's default branch (of
// one project when project is non-empty) and returns its run id. While a
// check of the repository is queued or running, it returns that run's id
// instead of starting another.
func (r *Runner) TriggerDrift(ctx context.Context, fullName, project string) (string, error) {
	d := r.drift
	d.mu.Lock()
	if id, ok := d.running[fullName]; ok {
		d.mu.Unlock()
		return id, nil
	}
	id, err := r.rec.newID(ctx, bucketDriftRuns, r.now())
	if err != nil {
		d.mu.Unlock()
		return "", err
	}
	id = "d" + id
	d.running[fullName] = id
	d.mu.Unlock()
	dr := DriftRun{ID: id, Repo: fullName, Project: project, State: "queued", Projects: []DriftProject{}, Created: r.now()}
	if err := r.rec.put(ctx, bucketDriftRuns, id, dr); err != nil {
		d.done(fullName)
		return "", err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.startDrift(context.WithoutCancel(ctx), dr); err != nil {
			r.log.Error("drift run", "repo", fullName, "err", err)
			_ = update(context.WithoutCancel(ctx), r.rec, bucketDriftRuns, id, func(cur *DriftRun, _ bool) error {
				cur.State, cur.Error = "done", err.Error()
				return nil
			})
			d.done(fullName)
		}
	}()
	return id, nil
}

func (d *driftScheduler) done(repo string) {
	d.mu.Lock()
	delete(d.running, repo)
	d.mu.Unlock()
}

// GetDriftRun returns a drift run by id.
func (r *Runner) GetDriftRun(ctx context.Context, id string) (DriftRun, bool, error) {
	var dr DriftRun
	ok, err := r.rec.get(ctx, bucketDriftRuns, id, &dr)
	return dr, ok, err
}

// startDrift finds the repository's projects at its default branch head
// and queues one drift job each.
func (r *Runner) startDrift(ctx context.Context, dr DriftRun) error {
	repo, err := r.findRepo(ctx, dr.Repo)
	if err != nil {
		return err
	}
	head, err := r.host.BranchSHA(ctx, repo, repo.DefaultBranch)
	if err != nil {
		return fmt.Errorf("head of %s: %w", repo.DefaultBranch, err)
	}
	if err := r.git.Fetch(ctx, repo); err != nil {
		return fmt.Errorf("fetch %s: %w", repo.FullName(), err)
	}
	rc, err := r.repoConfig(ctx, repo, head)
	if err != nil {
		return err
	}
	projects, err := r.allProjects(ctx, repo, head, rc)
	if err != nil {
		return err
	}
	if dr.Project != "" {
		projects = filterProjects(projects, dr.Project, "", "")
		if len(projects) == 0 {
			return fmt.Errorf("no project %q in %s", dr.Project, dr.Repo)
		}
	}
	spec := runSpec{Repo: repo, Command: "drift", HeadSHA: head}
	for _, p := range projects {
		spec.Jobs = append(spec.Jobs, Job{Kind: JobDrift, Repo: repo, Project: p, HeadSHA: head, Commit: head,
			RefreshOnly: r.set.Drift.Mode == "refresh-only", User: "atoll"})
	}
	if len(spec.Jobs) == 0 {
		err := update(ctx, r.rec, bucketDriftRuns, dr.ID, func(cur *DriftRun, _ bool) error {
			cur.State, cur.Commit = "done", head
			return nil
		})
		r.drift.done(dr.Repo)
		return err
	}
	spec.DriftRun = dr.ID
	err = update(ctx, r.rec, bucketDriftRuns, dr.ID, func(cur *DriftRun, _ bool) error {
		cur.State, cur.Commit = "running", head
		for _, p := range projects {
			cur.Projects = append(cur.Projects, DriftProject{Repo: dr.Repo, Project: p.Name})
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = r.startRun(ctx, spec)
	return err
}

// findRepo looks a served repository up by full name.
func (r *Runner) findRepo(ctx context.Context, fullName string) (vcs.Repo, error) {
	repos, err := r.servedRepos(ctx)
	if err != nil {
		return vcs.Repo{}, err
	}
	for _, repo := range repos {
		if repo.FullName() == fullName {
			full, err := r.host.GetRepo(ctx, repo)
			if err != nil {
				return vcs.Repo{}, err
			}
			full.InstallationID = repo.InstallationID
			return full, nil
		}
	}
	return vcs.Repo{}, fmt.Errorf("%s: %w", fullName, ErrUnknownRepo)
}

// runDrift plans a project of the default branch; the plan changes
// nothing. A project locked by an open PR is still checked.
func (r *Runner) runDrift(ctx context.Context, job *Job, log io.Writer) Outcome {
	select {
	case r.drift.slots <- struct{}{}:
		defer func() { <-r.drift.slots }()
	case <-ctx.Done():
		return Outcome{Status: string(templates.StatusInterrupted)}
	}
	tail := newTailBuffer(60)
	w := io.MultiWriter(log, tail)
	dir := r.workDir(job.ID)
	defer r.dropWorktree(ctx, job.Repo, dir)
	var holder *LockHolder
	if l, ok, err := r.cfg.Store.Get(ctx, locks.Key{Repo: job.Repo.FullName(), Dir: job.Project.Dir, Workspace: job.Project.Workspace}); err == nil && ok {
		holder = &LockHolder{Repo: l.Owner.Repo, Number: l.Owner.Number, Author: l.Owner.Author}
	}
	if err := r.git.Worktree(ctx, job.Repo, job.Commit, dir); err != nil {
		o := failure(templates.StatusPlanError, step("checkout", err), tail)
		o.LockedBy = holder
		return o
	}
	res, err := r.planProject(ctx, job, dir, w, job.RefreshOnly)
	if err != nil {
		o := failure(templates.StatusPlanError, err, tail)
		o.LockedBy = holder
		return o
	}
	out := res.outcome
	out.LockedBy = holder
	if res.changes {
		if h, err := terraform.ResourceChangesHash(res.planJSON); err == nil {
			out.Hash = h
		}
	}
	return out
}
