package runner

import (
	"context"
	"fmt"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// applyMode is a repo's apply mode: atoll.yaml over the server default.
func (r *Runner) applyMode(rc RepoConfig) string {
	if rc.ApplyMode != "" {
		return rc.ApplyMode
	}
	return r.set.ApplyMode
}

// commandApply checks every requirement of the selected plans and, when
// all are met, claims each plan for one apply job.
func (r *Runner) commandApply(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command) error {
	base := pr.Repo
	base.DefaultBranch = pr.BaseRef
	rc, err := r.repoConfig(ctx, pr.Repo, pr.BaseSHA)
	if err != nil {
		if ce, ok := err.(*configError); ok {
			return r.replyConfigError(ctx, pr, ce)
		}
		return err
	}
	mode := r.applyMode(rc)
	if pr.Merged {
		return r.retryAfterMerge(ctx, pr, user, cmd)
	}
	if pr.State != "open" {
		return r.notice(ctx, pr.Repo, pr.Number, "This pull request is closed without merge: nothing to apply.")
	}
	if mode == "after_merge" {
		return r.notice(ctx, pr.Repo, pr.Number, "`atoll apply` is refused: this repository's `apply_mode` is `after_merge`, "+
			"so atoll applies the plans when this pull request is merged, not before.")
	}
	plans, err := list[Plan](ctx, r.rec, bucketPlans, prKey(pr.Repo.FullName(), pr.Number)+"#")
	if err != nil {
		return err
	}
	var selected []Plan
	for _, p := range plans {
		if len(filterProjects([]Project{p.Project}, cmd.Project, cmd.Dir, cmd.Workspace)) == 1 {
			selected = append(selected, p)
		}
	}
	if len(selected) == 0 {
		return r.notice(ctx, pr.Repo, pr.Number, "There is no plan to apply"+selector(cmd)+". Comment `atoll plan` first.")
	}
	var pending []Plan
	var busy []string
	for _, p := range selected {
		switch p.State {
		case PlanApplying:
			busy = append(busy, p.Project.Name+" (applying)")
		case PlanApplied:
			if p.HasChanges {
				busy = append(busy, p.Project.Name+" (applied)")
			}
		default:
			pending = append(pending, p)
		}
	}
	if len(pending) == 0 {
		if len(busy) == 0 {
			return r.notice(ctx, pr.Repo, pr.Number, "Nothing to apply: every plan"+selector(cmd)+" has no changes.")
		}
		return r.notice(ctx, pr.Repo, pr.Number, "Nothing to apply: the apply of "+joinProjects(busy)+" is already running or done.")
	}
	refused, err := r.checkRequirements(ctx, pr, rc, pending)
	if err != nil {
		return err
	}
	if len(refused) > 0 {
		return r.reply(ctx, pr.Repo, pr.Number, "apply_refused.tmpl", templates.ApplyRefused{Projects: refused})
	}
	return r.claimAndApply(ctx, pr, user, pending)
}

// claimAndApply moves each plan to applying in one store transaction per
// plan; only the plans this call moved are applied, so concurrent apply
// commands and redelivered webhooks apply a plan once.
func (r *Runner) claimAndApply(ctx context.Context, pr vcs.PullRequest, user string, plans []Plan) error {
	var jobs []Job
	var lost []string
	for _, p := range plans {
		claimed := false
		key := planKey(p.Repo, p.Number, p.Project.Name)
		err := update(ctx, r.rec, bucketPlans, key, func(cur *Plan, exists bool) error {
			if !exists || cur.State != PlanPlanned || cur.SHA256 != p.SHA256 || cur.HeadSHA != pr.HeadSHA {
				return errAbort
			}
			cur.State, cur.ApplyJob, claimed = PlanApplying, "claimed", true
			return nil
		})
		if err != nil {
			return err
		}
		if !claimed {
			lost = append(lost, p.Project.Name)
			continue
		}
		jobs = append(jobs, Job{Kind: JobApply, Repo: pr.Repo, Number: pr.Number, Project: p.Project,
			HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA, Commit: p.Commit, User: user, PRAuthor: pr.Author})
	}
	if len(lost) > 0 {
		_ = r.notice(ctx, pr.Repo, pr.Number, "The apply of "+joinProjects(lost)+" is already running or done.")
	}
	if len(jobs) == 0 {
		return nil
	}
	// Each claimed plan names its job before the job can run.
	bind := func(ctx context.Context, jobs []Job) {
		for _, j := range jobs {
			r.setPlanState(ctx, planKey(j.Repo.FullName(), j.Number, j.Project.Name), PlanApplying, j.ID)
		}
	}
	run, err := r.startRun(ctx, runSpec{Repo: pr.Repo, Number: pr.Number, Command: "apply", User: user,
		HeadSHA: pr.HeadSHA, Jobs: jobs, beforeQueue: bind})
	if err != nil {
		for _, j := range jobs {
			r.setPlanState(ctx, planKey(pr.Repo.FullName(), pr.Number, j.Project.Name), PlanPlanned, "-")
		}
		return err
	}
	_ = run
	return nil
}

// onMerged applies a merged PR's projects when its mode says so, and
// otherwise releases its locks.
func (r *Runner) onMerged(ctx context.Context, pr vcs.PullRequest) error {
	defer r.prMu.lock(prKey(pr.Repo.FullName(), pr.Number))()
	rc, err := r.repoConfig(ctx, pr.Repo, pr.MergeCommitSHA)
	if err != nil {
		if ce, ok := err.(*configError); ok {
			return r.replyConfigError(ctx, pr, ce)
		}
		return err
	}
	mode := r.applyMode(rc)
	if mode == "comment" {
		released, err := r.releasePR(ctx, pr.Repo.FullName(), pr.Number)
		if err == nil && len(released) > 0 {
			_ = r.notice(ctx, pr.Repo, pr.Number, "Merged: released the locks of "+joinProjects(released)+".")
		}
		return err
	}
	// Claim the merge once: a redelivered "closed" event must not apply twice.
	first := false
	key := prKey(pr.Repo.FullName(), pr.Number) + "#merged"
	err = r.cfg.Store.UpdateRecord(ctx, bucketPRs, key, func(_ []byte, exists bool) ([]byte, error) {
		if exists {
			return nil, errAbort
		}
		first = true
		return []byte(pr.MergeCommitSHA), nil
	})
	if err != nil && err != errAbort {
		return err
	}
	if !first {
		return nil
	}
	projects, err := r.mergedProjects(ctx, pr, rc)
	if err != nil {
		return err
	}
	if len(projects) == 0 {
		_, err := r.releasePR(ctx, pr.Repo.FullName(), pr.Number)
		return err
	}
	return r.planApplyRun(ctx, pr, "apply-after-merge", "", pr.MergeCommitSHA, projects)
}

// mergedProjects are the projects a merged PR planned, with changes that
// are not applied yet; without stored plans, what its change touches.
func (r *Runner) mergedProjects(ctx context.Context, pr vcs.PullRequest, rc RepoConfig) ([]Project, error) {
	st, err := r.prState(ctx, pr)
	if err != nil {
		return nil, err
	}
	plans, err := list[Plan](ctx, r.rec, bucketPlans, prKey(pr.Repo.FullName(), pr.Number)+"#")
	if err != nil {
		return nil, err
	}
	applied := map[string]bool{}
	for _, p := range plans {
		if p.State == PlanApplied && p.HasChanges {
			applied[p.Project.Name] = true
		}
	}
	projects := st.Projects
	if len(projects) == 0 {
		found, _, err := r.affectedProjects(ctx, pr)
		if err != nil {
			return nil, err
		}
		for _, a := range found {
			projects = append(projects, a.Project)
		}
	}
	var out []Project
	for _, p := range projects {
		if !applied[p.Name] {
			out = append(out, p)
		}
	}
	return out, nil
}

// planApplyRun plans commit for each project and applies it.
func (r *Runner) planApplyRun(ctx context.Context, pr vcs.PullRequest, command, user, commit string, projects []Project) error {
	spec := runSpec{Repo: pr.Repo, Number: pr.Number, Command: command, User: user, HeadSHA: commit}
	for _, p := range projects {
		spec.Jobs = append(spec.Jobs, Job{Kind: JobPlanApply, Repo: pr.Repo, Number: pr.Number, Project: p,
			HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA, Commit: commit, User: user, PRAuthor: pr.Author})
	}
	_, err := r.startRun(ctx, spec)
	return err
}

// retryAfterMerge plans the default branch head for the merged PR's
// projects whose apply failed (or never ran) and applies it.
func (r *Runner) retryAfterMerge(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command) error {
	held, err := r.cfg.Store.ListByOwner(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	st, err := r.prState(ctx, pr)
	if err != nil {
		return err
	}
	var projects []Project
	for _, p := range st.Projects {
		for _, l := range held {
			if l.Key.Dir == p.Dir && l.Key.Workspace == p.Workspace {
				projects = append(projects, p)
			}
		}
	}
	projects = filterProjects(projects, cmd.Project, cmd.Dir, cmd.Workspace)
	if len(projects) == 0 {
		return r.notice(ctx, pr.Repo, pr.Number, "This pull request is merged and every project is applied: nothing to retry.")
	}
	head, err := r.host.BranchSHA(ctx, pr.Repo, pr.BaseRef)
	if err != nil {
		return fmt.Errorf("head of %s: %w", pr.BaseRef, err)
	}
	return r.planApplyRun(ctx, pr, "retry-after-merge", user, head, projects)
}
