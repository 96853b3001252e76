package runner

import (
	"context"

	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/vcs"
)

// The runner's side of runner/drift: its drift scheduler, built on the
// runner's records, and the adapters through which runner/drift reaches
// the engine. The unexported wrappers keep the names other root code
// calls (a cleanup after the split removes them).

// driftScheduler is the runner's drift scheduler and the checks under way
// of each repository.
type driftScheduler struct {
	*drift.Scheduler
	// checks keeps each repository's checks from overlapping (see
	// Runner.TriggerDrift); they start with Runner.launchDrift.
	checks *drift.Checks
}

func newDriftScheduler(r *Runner) *driftScheduler {
	sweep := drift.NewSweep(driftSource{r}, r.srv.Drift, r.log)
	return &driftScheduler{
		Scheduler: drift.NewScheduler(r.rec, driftStarter{r}, sweep, drift.SchedulerConfig{Drift: r.srv.Drift,
			Shared: r.shared(), Poll: r.cfg.Cluster.Poll, Now: r.now, Log: r.log}),
		checks: drift.NewChecks(r.rec, r.now, r.launchDrift, r.shared),
	}
}

func (d *driftScheduler) loop(ctx context.Context)              { d.Loop(ctx) }
func (d *driftScheduler) followDriftSignal(ctx context.Context) { d.FollowSignal(ctx) }
func (d *driftScheduler) admit(ctx context.Context, id string) (func(), bool) {
	return d.Admit(ctx, id)
}
func (d *driftScheduler) claimTick(ctx context.Context, f drift.Fire) bool {
	return d.ClaimTick(ctx, f)
}

// shareDriftChange records a change the leader's drift scheduler must see
// (drift.Scheduler.ShareChange).
func (r *Runner) shareDriftChange(ctx context.Context, repo *vcs.Repo, ref string) {
	r.drift.ShareChange(ctx, repo, ref)
}

// driftStarter starts the scheduler's checks and hands parked drift jobs
// back to the workers.
type driftStarter struct{ r *Runner }

func (s driftStarter) Trigger(ctx context.Context, repo, project string) (string, error) {
	return s.r.TriggerDrift(ctx, repo, project)
}

func (s driftStarter) Enqueue(jobID string) { s.r.enqueue(jobID) }

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
