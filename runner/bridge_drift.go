package runner

import (
	"context"
	"fmt"

	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// The runner's side of runner/drift: its drift scheduler, built on the
// runner's records, and the adapters through which runner/drift reaches
// the engine.

// driftScheduler is the runner's drift scheduler and its checker, which
// starts, recovers and reports the checks.
type driftScheduler struct {
	*drift.Scheduler
	checker  *drift.Checker
	reporter *drift.Reporter
	remedies *drift.Remediations
}

func newDriftScheduler(r *Runner) *driftScheduler {
	sweep := drift.NewSweep(driftSource{r}, r.srv.Drift, r.log)
	d := &driftScheduler{
		Scheduler: drift.NewScheduler(r.rec, driftStarter{r}, sweep, drift.SchedulerConfig{Drift: r.srv.Drift,
			Shared: r.shared(), Poll: r.cfg.Cluster.Poll, Now: r.now, Log: r.log}),
		checker: drift.NewChecker(r.rec, driftEngine{r}, driftSource{r}, r.host, sweep.Serves, drift.CheckerConfig{
			RefreshOnly: r.srv.Drift.Mode == "refresh-only", Shared: r.shared(),
			Restarted: r.view.Text(templates.JobSkipped{Kind: templates.SkipRestarted}), Now: r.now, Log: r.log}),
	}
	d.remedies = &drift.Remediations{Records: r.rec, Repos: r.host, Apply: driftApplier{r}, Plans: r.exec,
		Perms: r.pr, Teams: r.host, Gate: r.gates, Reply: r.view, Version: r.versionData(),
		Trigger: d.checker.Trigger, Drift: r.srv.Drift, Log: r.log}
	if r.cfg.Policies != nil {
		d.remedies.PolicySets = r.cfg.Policies
	}
	d.reporter = &drift.Reporter{Records: r.rec, Host: r.host, Render: r.tmpl, Views: r.view, Trail: r.trail,
		JobURL: r.jobURL, Remedy: d.remedies, Done: d.checker.Done, Now: r.now, Log: r.log}
	return d
}

// driftApplier plans and applies remediations through the engine.
type driftApplier struct{ r *Runner }

func (a driftApplier) StartRun(ctx context.Context, spec records.RunSpec) (records.Run, error) {
	return a.r.startRun(ctx, spec)
}
func (a driftApplier) StartApply(ctx context.Context, spec records.RunSpec, cleared []gate.Clearance) (records.Run, error) {
	return a.r.startApply(ctx, spec, cleared)
}
func (a driftApplier) LockIssue(key string) func() { return a.r.prMu.Lock(key) }
func (a driftApplier) LockedBy(ctx context.Context, repo vcs.Repo, p Project) (int, bool) {
	l, ok, err := a.r.cfg.Store.Get(ctx, execute.LockKey(Job{Repo: repo, Project: p}))
	if err != nil || !ok {
		return 0, false
	}
	return l.Owner.Number, true
}

// ErrUnknownRepo is returned by TriggerDrift for a repository atoll does
// not serve.
var ErrUnknownRepo = drift.ErrUnknownRepo

// TriggerDrift starts a drift check of a repository's default branch (of
// one project when project is non-empty) and returns its run id; it
// returns ErrUnknownRepo (wrapped) for a repository atoll does not serve.
// Checks of one repository never overlap (see drift.Checker.Trigger).
func (r *Runner) TriggerDrift(ctx context.Context, fullName, project string) (string, error) {
	return r.drift.checker.Trigger(ctx, fullName, project)
}

// GetDriftRun returns a drift run by id. Its State is queued, running or
// done.
func (r *Runner) GetDriftRun(ctx context.Context, id string) (DriftRun, bool, error) {
	return r.drift.checker.Get(ctx, id)
}

// driftEngine is what drift checks ask of the engine.
type driftEngine struct{ r *Runner }

func (e driftEngine) Go(f func(ctx context.Context)) {
	e.r.wg.Add(1)
	go func() {
		defer e.r.wg.Done()
		f(e.r.life) // the runner's lifetime: a launch stops at shutdown
	}()
}

func (e driftEngine) StartRun(ctx context.Context, spec records.RunSpec) (records.Run, error) {
	return e.r.startRun(ctx, spec)
}

func (e driftEngine) AfterRunDone(ctx context.Context, runID string) { e.r.pr.AfterRunDone(ctx, runID) }

// driftStarter starts the scheduler's checks and hands parked drift jobs
// back to the workers.
type driftStarter struct{ r *Runner }

func (s driftStarter) Trigger(ctx context.Context, repo, project string) (string, error) {
	return s.r.TriggerDrift(ctx, repo, project)
}

func (s driftStarter) Enqueue(jobID string) { s.r.enqueue(jobID) }

// driftSource is what runner/drift reads through the runner: the served
// repositories, their projects and atoll.yaml at the default branch.
type driftSource struct{ r *Runner }

func (s driftSource) Allowed(fullName string) bool { return s.r.srv.RepoAllowed(fullName) }

func (s driftSource) Projects(ctx context.Context, repo vcs.Repo, head string) ([]Project, error) {
	if err := s.r.git.Fetch(ctx, repo); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", repo.FullName(), err)
	}
	rc, err := s.r.projects.RepoConfig(ctx, repo, head, repo.DefaultBranch)
	if err != nil {
		return nil, err
	}
	return s.r.projects.All(ctx, repo, head, rc)
}

func (s driftSource) ServedRepos(ctx context.Context) ([]vcs.Repo, error) {
	return s.r.servedRepos(ctx)
}

func (s driftSource) RepoSettings(ctx context.Context, repo vcs.Repo) (drift.RepoSettings, error) {
	rc, err := s.r.projects.RepoConfig(ctx, repo, repo.DefaultBranch, repo.DefaultBranch)
	if err != nil {
		return drift.RepoSettings{}, err
	}
	return drift.RepoSettings{Present: rc.Present, Enabled: rc.DriftEnabled, Schedule: rc.DriftSchedule}, nil
}
