package drift

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// ErrUnknownRepo is returned (wrapped) for a repository atoll does not
// serve.
var ErrUnknownRepo = errors.New("repository not served by this atoll")

// Engine is what a Checker asks of the runner's engine.
type Engine interface {
	// Go runs f in the background under the runner's lifetime: f's ctx
	// ends at shutdown, and the runner's Wait waits for f.
	Go(f func(ctx context.Context))
	// StartRun stores a run of spec and queues its jobs.
	StartRun(ctx context.Context, spec records.RunSpec) (records.Run, error)
	// AfterRunDone reports a run whose jobs are all final (for a drift
	// run, through Checker.Report).
	AfterRunDone(ctx context.Context, runID string)
}

// Host is what drift reads of the code host: a repository's facts
// (through facts.RepoFacts) and a branch's head.
type Host interface {
	facts.RepoGetter
	// BranchSHA is the head commit of a branch.
	BranchSHA(ctx context.Context, repo vcs.Repo, branch string) (string, error)
}

// Repos is what a Checker reads of the code host and the repositories
// atoll serves.
type Repos interface {
	// Allowed reports whether the server's configuration serves the
	// repository ("owner/name") at all.
	Allowed(fullName string) bool
	// ServedRepos lists the repositories of every installation.
	ServedRepos(ctx context.Context) ([]vcs.Repo, error)
	// Projects fetches repo and returns its projects at commit head of
	// its default branch (from its atoll.yaml, or discovered).
	Projects(ctx context.Context, repo vcs.Repo, head string) ([]records.Project, error)
}

// CheckerConfig is a Checker's settings.
type CheckerConfig struct {
	// RefreshOnly makes drift checks refresh-only plans (drift.mode).
	RefreshOnly bool
	// Shared is true when other replicas share the store.
	Shared bool
	// Restarted is the error text of a check ended at start-up because
	// two others of its repository were already waiting.
	Restarted string
	Now       func() time.Time
	Log       *slog.Logger
}

// Checker starts drift checks (drift runs) and recovers them at
// start-up: one check under way per repository (Checks), each a run of
// one drift job per project queued through the Engine.
type Checker struct {
	rec    records.Records
	eng    Engine
	repos  Repos
	host   Host
	cfg    CheckerConfig
	serves func(repo string) bool

	// Checks keeps each repository's checks from overlapping.
	Checks *Checks
}

// NewChecker returns a checker over the records in rec. serves reports
// whether a repository is among those last listed (Sweep.Serves), so a
// trigger of one needs no listing; nil lists every time.
func NewChecker(rec records.Records, eng Engine, repos Repos, host Host, serves func(repo string) bool, cfg CheckerConfig) *Checker {
	c := &Checker{rec: rec, eng: eng, repos: repos, host: host, cfg: cfg, serves: serves}
	c.Checks = NewChecks(rec, cfg.Now, c.Launch, func() bool { return cfg.Shared })
	return c
}

// Trigger starts a drift check of a repository's default branch (of one
// project when project is non-empty) and returns its run id; it returns
// ErrUnknownRepo (wrapped) for a repository atoll does not serve. Checks
// of one repository never overlap: while a check that covers the request
// is queued or planning, the trigger joins it and gets its id; when the
// check under way is already reporting (its plans may predate the
// trigger) or covers another project, one follow-up check is queued to
// start when it ends, and later triggers join that one.
func (c *Checker) Trigger(ctx context.Context, fullName, project string) (string, error) {
	if !c.repos.Allowed(fullName) {
		return "", fmt.Errorf("%s: %w", fullName, ErrUnknownRepo)
	}
	if c.serves == nil || !c.serves(fullName) {
		if _, err := c.FindRepo(ctx, fullName); err != nil {
			return "", err
		}
	}
	return c.Checks.Trigger(ctx, fullName, project)
}

// Get returns a drift run by id. Its State is queued, running or done
// (a run reporting is running).
func (c *Checker) Get(ctx context.Context, id string) (records.DriftRun, bool, error) {
	var dr records.DriftRun
	ok, err := c.rec.Get(ctx, records.DriftRuns, id, &dr)
	if dr.State == records.DriftRunReporting {
		dr.State = records.DriftRunRunning
	}
	return dr, ok, err
}

// Launch starts a stored drift run in the background, until the runner's
// lifetime ends (Engine.Go). A launch cut off by shutdown is left as it
// was stored, for the next start to restart (Recover); one that fails
// otherwise ends the run with its error.
func (c *Checker) Launch(dr records.DriftRun) {
	c.eng.Go(func(ctx context.Context) {
		if err := c.start(ctx, dr); err != nil {
			if ctx.Err() != nil {
				c.cfg.Log.Info("drift run stopped by shutdown; the next start restarts it", "repo", dr.Repo, "run", dr.ID)
				return
			}
			c.cfg.Log.Error("drift run", "repo", dr.Repo, "run", dr.ID, "err", err)
			_ = c.rec.EndDriftRun(ctx, dr.ID, "", err.Error())
			c.Done(dr.Repo, dr.ID)
		}
	})
}

// Done ends a repository's check id: its follow-up check, if one was
// asked for, starts now. The end of another id (an older check) changes
// nothing.
func (c *Checker) Done(repo, id string) {
	if err := c.Checks.Done(repo, id); err != nil {
		c.cfg.Log.Error("drift: follow-up check lost", "repo", repo, "err", err)
	}
}

// start finds the repository's projects at its default branch head and
// queues one drift job each.
func (c *Checker) start(ctx context.Context, dr records.DriftRun) error {
	repo, err := c.FindRepo(ctx, dr.Repo)
	if err != nil {
		return err
	}
	head, err := c.host.BranchSHA(ctx, repo, repo.DefaultBranch)
	if err != nil {
		return fmt.Errorf("head of %s: %w", repo.DefaultBranch, err)
	}
	all, err := c.repos.Projects(ctx, repo, head)
	if err != nil {
		return err
	}
	projects := all
	if dr.Project != "" {
		projects = nil
		for _, p := range all {
			if p.Name == dr.Project {
				projects = append(projects, p)
			}
		}
		if len(projects) == 0 {
			return fmt.Errorf("no project %q in %s", dr.Project, dr.Repo)
		}
	}
	spec := records.RunSpec{Repo: repo, Command: "drift", HeadSHA: head}
	for _, p := range projects {
		spec.Jobs = append(spec.Jobs, records.Job{Kind: records.JobDrift, Repo: repo, Project: p, HeadSHA: head, Commit: head,
			RefreshOnly: c.cfg.RefreshOnly, User: "atoll"})
	}
	if len(spec.Jobs) == 0 {
		err := c.rec.EndDriftRun(ctx, dr.ID, head, "")
		c.Done(dr.Repo, dr.ID)
		return err
	}
	spec.DriftRun = dr.ID
	names := make([]string, 0, len(projects))
	for _, p := range projects {
		names = append(names, p.Name)
	}
	if err := c.rec.StartDriftRun(ctx, dr.ID, head, names); err != nil {
		return err
	}
	_, err = c.eng.StartRun(ctx, spec)
	return err
}

// FindRepo looks a served repository up by full name ("owner/name") and
// returns it with its facts; ErrUnknownRepo (wrapped) when no
// installation serves it.
func (c *Checker) FindRepo(ctx context.Context, fullName string) (vcs.Repo, error) {
	repos, err := c.repos.ServedRepos(ctx)
	if err != nil {
		return vcs.Repo{}, err
	}
	for _, repo := range repos {
		if repo.FullName() == fullName {
			return facts.RepoFacts(ctx, c.host, repo)
		}
	}
	return vcs.Repo{}, fmt.Errorf("%s: %w", fullName, ErrUnknownRepo)
}

// Recover runs at start-up (or when this replica starts leading), after
// the jobs are recovered. A drift run whose jobs are all final (some
// interrupted by the restart: reported as errors) is reported now; one
// with jobs still queued keeps its repository busy until they finish, so
// no other check overlaps it. A run cut off before its jobs were stored
// starts again (after the repository's check under way, if any).
func (c *Checker) Recover(ctx context.Context) error {
	drs, err := records.List[records.DriftRun](ctx, c.rec, records.DriftRuns, "")
	if err != nil {
		return err
	}
	open := map[string]records.DriftRun{}
	for _, dr := range drs {
		if dr.State != records.DriftRunDone {
			open[dr.ID] = dr
		}
	}
	if len(open) == 0 {
		return nil
	}
	runs, err := records.List[records.Run](ctx, c.rec, records.Runs, "")
	if err != nil {
		return err
	}
	var report []string
	for _, run := range runs {
		dr, ok := open[run.DriftRun]
		if !ok {
			continue
		}
		delete(open, dr.ID)
		c.Checks.Adopt(dr.Repo, dr.ID)
		if dr.State == records.DriftRunReporting { // cut off while reporting: report again
			if err := c.rec.ReopenDriftReport(ctx, dr.ID); err != nil {
				return err
			}
		}
		report = append(report, run.ID)
	}
	restart := make([]records.DriftRun, 0, len(open))
	for _, dr := range open {
		restart = append(restart, dr)
	}
	sort.Slice(restart, func(i, j int) bool { return restart[i].ID < restart[j].ID })
	for _, dr := range restart {
		if err := c.Checks.Restart(ctx, dr, c.cfg.Restarted); err != nil {
			return err
		}
	}
	for _, id := range report {
		c.eng.AfterRunDone(ctx, id)
	}
	return nil
}
