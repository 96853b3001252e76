package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// ErrUnknownRepo is returned by TriggerDrift for a repository atoll does
// not serve.
var ErrUnknownRepo = errors.New("repository not served by this atoll")

// TriggerDrift starts a drift check of a repository's default branch (of
// one project when project is non-empty) and returns its run id; it
// returns ErrUnknownRepo (wrapped) for a repository atoll does not serve.
// Checks of one repository never overlap: while a check that covers the
// request is queued or planning, the trigger joins it and gets its id;
// when the check under way is already reporting (its plans may predate
// the trigger) or covers another project, one follow-up check is queued
// to start when it ends, and later triggers join that one.
func (r *Runner) TriggerDrift(ctx context.Context, fullName, project string) (string, error) {
	if !r.srv.RepoAllowed(fullName) {
		return "", fmt.Errorf("%s: %w", fullName, ErrUnknownRepo)
	}
	if !r.drift.Sweep.Serves(fullName) {
		if _, err := r.findRepo(ctx, fullName); err != nil {
			return "", err
		}
	}
	return r.drift.checks.Trigger(ctx, fullName, project)
}

// launchDrift starts a stored drift run in the background, until the
// runner's lifetime ends (Runner.life). A launch cut off by shutdown is
// left as it was stored, for the next start to restart (recoverDrift).
func (r *Runner) launchDrift(dr DriftRun) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx := r.life
		if err := r.startDrift(ctx, dr); err != nil {
			if ctx.Err() != nil {
				r.log.Info("drift run stopped by shutdown; the next start restarts it", "repo", dr.Repo, "run", dr.ID)
				return
			}
			r.log.Error("drift run", "repo", dr.Repo, "run", dr.ID, "err", err)
			_ = r.rec.EndDriftRun(ctx, dr.ID, "", err.Error())
			r.driftDone(dr.Repo, dr.ID)
		}
	}()
}

// driftDone ends a repository's check id: its follow-up check, if one was
// asked for, starts now. The end of another id (an older check) changes
// nothing.
func (r *Runner) driftDone(repo, id string) {
	if err := r.drift.checks.Done(repo, id); err != nil {
		r.log.Error("drift: follow-up check lost", "repo", repo, "err", err)
	}
}

// GetDriftRun returns a drift run by id. Its State is queued, running or
// done.
func (r *Runner) GetDriftRun(ctx context.Context, id string) (DriftRun, bool, error) {
	var dr DriftRun
	ok, err := r.rec.Get(ctx, records.DriftRuns, id, &dr)
	if dr.State == records.DriftRunReporting {
		dr.State = records.DriftRunRunning
	}
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
	rc, err := r.repoConfig(ctx, repo, head, repo.DefaultBranch)
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
			RefreshOnly: r.srv.Drift.Mode == "refresh-only", User: "atoll"})
	}
	if len(spec.Jobs) == 0 {
		err := r.rec.EndDriftRun(ctx, dr.ID, head, "")
		r.driftDone(dr.Repo, dr.ID)
		return err
	}
	spec.DriftRun = dr.ID
	names := make([]string, 0, len(projects))
	for _, p := range projects {
		names = append(names, p.Name)
	}
	if err := r.rec.StartDriftRun(ctx, dr.ID, head, names); err != nil {
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
			return facts.RepoFacts(ctx, r.host, repo)
		}
	}
	return vcs.Repo{}, fmt.Errorf("%s: %w", fullName, ErrUnknownRepo)
}

// runDrift plans a project of the default branch; the plan changes
// nothing. A project locked by an open PR is still checked.
func (r *Runner) runDrift(ctx context.Context, job *Job, log io.Writer) Outcome {
	sp, done := r.newJobSpace(ctx, *job, log, false)
	defer done()
	var holder *LockHolder
	if l, ok, err := r.cfg.Store.Get(ctx, locks.Key{Repo: job.Repo.FullName(), Dir: job.Project.Dir, Workspace: job.Project.Workspace}); err == nil && ok {
		holder = &LockHolder{Repo: l.Owner.Repo, Number: l.Owner.Number, Author: l.Owner.Author}
	}
	if err := r.checkoutCommit(ctx, job.Repo, 0, job.Commit, "", "", sp.Dir); err != nil {
		o := execute.Failure(templates.StatusPlanError, execute.Step("checkout", err), sp.Tail)
		o.LockedBy = holder
		return o
	}
	res, err := r.planProject(ctx, job, sp.Dir, sp.W, job.RefreshOnly)
	if err != nil {
		o := execute.Failure(templates.StatusPlanError, err, sp.Tail)
		o.LockedBy = holder
		return o
	}
	out := res.outcome
	out.LockedBy = holder
	if job.Number > 0 { // `atoll plan` on a drift issue: the plan a remediation applies
		r.storeIssuePlan(ctx, job, res, &out)
	}
	if res.changes {
		if h, err := terraform.ResourceChangesHash(res.planJSON); err == nil {
			out.Hash = h
		}
	}
	return out
}

// recoverDrift runs at start-up, after the jobs are recovered. A drift run
// whose jobs are all final (some interrupted by the restart: reported as
// errors) is reported now; one with jobs still queued keeps its repository
// busy until they finish, so no other check overlaps it. A run cut off
// before its jobs were stored starts again (after the repository's check
// under way, if any).
func (r *Runner) recoverDrift(ctx context.Context) error {
	drs, err := records.List[DriftRun](ctx, r.rec, records.DriftRuns, "")
	if err != nil {
		return err
	}
	open := map[string]DriftRun{}
	for _, dr := range drs {
		if dr.State != records.DriftRunDone {
			open[dr.ID] = dr
		}
	}
	if len(open) == 0 {
		return nil
	}
	runs, err := records.List[Run](ctx, r.rec, records.Runs, "")
	if err != nil {
		return err
	}
	d := r.drift.checks
	var report []string
	for _, run := range runs {
		dr, ok := open[run.DriftRun]
		if !ok {
			continue
		}
		delete(open, dr.ID)
		d.Adopt(dr.Repo, dr.ID)
		if dr.State == records.DriftRunReporting { // cut off while reporting: report again
			if err := r.rec.ReopenDriftReport(ctx, dr.ID); err != nil {
				return err
			}
		}
		report = append(report, run.ID)
	}
	restart := make([]DriftRun, 0, len(open))
	for _, dr := range open {
		restart = append(restart, dr)
	}
	sort.Slice(restart, func(i, j int) bool { return restart[i].ID < restart[j].ID })
	for _, dr := range restart {
		if err := d.Restart(ctx, dr, r.text(templates.JobSkipped{Kind: templates.SkipRestarted})); err != nil {
			return err
		}
	}
	for _, id := range report {
		r.afterRunDone(ctx, id)
	}
	return nil
}
