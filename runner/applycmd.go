package runner

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// applyMode is a repo's apply mode: atoll.yaml over the server default.
func (r *Runner) applyMode(rc RepoConfig) string {
	if rc.Source.ApplyMode != "" {
		return string(rc.Source.ApplyMode)
	}
	return string(r.srv.ApplyMode)
}

// commandApply checks every requirement of the selected plans and, when
// all are met, claims each plan for one apply job.
func (r *Runner) commandApply(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command) error {
	rc, err := r.repoConfig(ctx, pr.Repo, pr.BaseSHA, pr.BaseRef)
	if err != nil {
		if ce, ok := err.(*configError); ok {
			return r.replyConfigError(ctx, pr, ce)
		}
		return err
	}
	mode := r.applyMode(rc)
	if b := r.applyBlocked(ctx); b != nil && (pr.Merged || pr.State == "open") {
		return r.replyApplyBlocked(ctx, pr.Repo, pr.Number, b)
	}
	if pr.Merged {
		return r.retryAfterMerge(ctx, pr, user, cmd)
	}
	if pr.State != "open" {
		return r.say(ctx, pr.Repo, pr.Number, templates.ApplyClosed{})
	}
	if mode == "after_merge" {
		return r.say(ctx, pr.Repo, pr.Number, templates.ApplyAfterMergeOnly{})
	}
	plans, err := r.rec.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
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
		return r.say(ctx, pr.Repo, pr.Number, templates.NoPlanToApply{Selected: selection(cmd)})
	}
	var pending []Plan
	var busy []templates.BusyProject
	var failed []string
	for _, p := range selected {
		switch p.State {
		case PlanApplying, PlanMerged:
			busy = append(busy, templates.BusyProject{Name: p.Project.Name})
		case PlanApplied:
			if p.HasChanges {
				busy = append(busy, templates.BusyProject{Name: p.Project.Name, Applied: true})
			}
		case PlanApplyFailed:
			failed = append(failed, p.Project.Name)
		default:
			pending = append(pending, p)
		}
	}
	if len(failed) > 0 {
		// A plan whose apply failed or was cut off may be partly applied:
		// it is never applied again.
		_ = r.say(ctx, pr.Repo, pr.Number, templates.ApplyNotRepeated{Projects: failed})
	}
	if len(pending) == 0 {
		if len(busy) > 0 {
			return r.say(ctx, pr.Repo, pr.Number, templates.NothingToApplyBusy{Projects: busy})
		}
		if len(failed) == 0 {
			return r.say(ctx, pr.Repo, pr.Number, templates.NothingToApplyNoChanges{Selected: selection(cmd)})
		}
		return nil
	}
	// The rules come from the base branch's atoll.yaml (rc), so a pull
	// request cannot relax its own.
	refused, cleared, err := r.checkRequirements(ctx, pr, rc, pending)
	if err != nil {
		return err
	}
	if len(refused) > 0 {
		return r.applyWhatPasses(ctx, pr, user, cmd, pending, refused, cleared)
	}
	return r.claimAndApply(ctx, pr, user, pending, runOptions(cmd), cleared)
}

// claimAndApply moves each plan to applying in one store transaction per
// plan; only the plans this call moved are applied, so concurrent apply
// commands and redelivered webhooks apply a plan once.
func (r *Runner) claimAndApply(ctx context.Context, pr vcs.PullRequest, user string, plans []Plan, opts RunOptions, cleared []gate.Clearance) error {
	// Claims of one PR are serialized: of concurrent apply comments, the
	// first claims every plan it was cleared for, in one run.
	defer r.prMu.lock(records.PRKey(pr.Repo.FullName(), pr.Number))()
	var jobs []Job
	var lost []string
	for _, p := range plans {
		key := records.PlanKey(p.Repo, p.Number, p.Project.Name)
		claimed, err := r.rec.ClaimPlan(ctx, key, func(cur Plan) bool {
			return cur.SHA256 == p.SHA256 && cur.HeadSHA == pr.HeadSHA
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
		_ = r.say(ctx, pr.Repo, pr.Number, templates.ApplyTaken{Projects: lost})
	}
	if len(jobs) == 0 {
		return nil
	}
	// Each claimed plan names its job before the job can run.
	bind := func(ctx context.Context, jobs []Job) {
		for _, j := range jobs {
			r.setPlanState(ctx, records.PlanKey(j.Repo.FullName(), j.Number, j.Project.Name), PlanApplying, j.ID)
		}
	}
	_, err := r.startApply(ctx, runSpec{Repo: pr.Repo, Number: pr.Number, Command: "apply", User: user,
		HeadSHA: pr.HeadSHA, Jobs: jobs, Options: opts, BeforeQueue: bind}, cleared)
	if err != nil {
		for _, j := range jobs {
			r.setPlanState(ctx, records.PlanKey(pr.Repo.FullName(), pr.Number, j.Project.Name), PlanPlanned, "-")
		}
	}
	return err
}

// onMerged applies a merged PR's projects when its mode says so, and
// otherwise releases its locks.
func (r *Runner) onMerged(ctx context.Context, pr vcs.PullRequest) error {
	defer r.prMu.lock(records.PRKey(pr.Repo.FullName(), pr.Number))()
	if pr.Fork() && !r.srv.AllowForkPRs {
		// Nothing of a fork is applied (it was told so when it was opened).
		_, err := r.releasePR(ctx, pr.Repo.FullName(), pr.Number)
		return err
	}
	rc, err := r.repoConfig(ctx, pr.Repo, pr.MergeCommitSHA, pr.BaseRef)
	if err != nil {
		if ce, ok := err.(*configError); ok {
			return r.replyConfigError(ctx, pr, ce)
		}
		return err
	}
	mode := r.applyMode(rc)
	if mode == "comment" {
		plans, err := r.rec.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
		if err != nil {
			return err
		}
		var applying []Project
		for _, p := range plans {
			if p.State == PlanApplying {
				applying = append(applying, p.Project)
			}
		}
		released, err := r.releaseMergedExcept(ctx, pr, applying)
		if err == nil && len(released) > 0 {
			_ = r.say(ctx, pr.Repo, pr.Number, templates.MergedLocksReleased{Projects: released})
		}
		return err
	}
	// Claim the merge once: a redelivered "closed" event must not apply
	// twice. The claim is stored with the apply's run and jobs, in one
	// transaction: a stop before it leaves the merge unclaimed, and the
	// delivery handled again at start-up applies it.
	key := records.PRKey(pr.Repo.FullName(), pr.Number) + "#merged"
	if _, claimed, err := r.cfg.Store.GetRecord(ctx, records.PRs, key); err != nil || claimed {
		return err
	}
	claim := locks.RecordUpdate{Bucket: records.PRs, Key: key, Fn: func(_ []byte, exists bool) ([]byte, error) {
		if exists {
			return nil, errMergeClaimed
		}
		return []byte(pr.MergeCommitSHA), nil
	}}
	crashpoint.Hit(ctx, crashpoint.MergeClaimed)
	projects, applying, err := r.mergedProjects(ctx, pr, rc)
	if err != nil {
		return err
	}
	// Projects applied before the merge are done: release them now. Those
	// being applied are released by their apply when it ends.
	if _, err := r.releaseMergedExcept(ctx, pr, append(append([]Project{}, projects...), applying...)); err != nil {
		return err
	}
	if len(projects) == 0 {
		return r.cfg.Store.UpdateRecords(ctx, []locks.RecordUpdate{claim})
	}
	// The review requirements still hold after a merge: what the gate
	// refuses is not applied, and its locks stay held for a retry.
	projects, cleared, err := r.gateMerged(ctx, pr, gate.PathAfterMerge, projects)
	if err != nil {
		return err
	}
	if len(projects) == 0 {
		return r.cfg.Store.UpdateRecords(ctx, []locks.RecordUpdate{claim})
	}
	err = r.planApplyRun(ctx, pr, "apply-after-merge", "", pr.MergeCommitSHA, projects, cleared, claim)
	if errors.Is(err, errMergeClaimed) {
		return nil
	}
	return err
}

// releaseMergedExcept releases the locks a merged PR holds, but those of
// keep (projects still to apply, or being applied), and discards the plans
// of the released projects. It returns the released projects' names.
func (r *Runner) releaseMergedExcept(ctx context.Context, pr vcs.PullRequest, keep []Project) ([]string, error) {
	repo := pr.Repo.FullName()
	if len(keep) == 0 {
		return r.releasePR(ctx, repo, pr.Number)
	}
	held, err := r.cfg.Store.ListByOwner(ctx, repo, pr.Number)
	if err != nil {
		return nil, err
	}
	kept := func(dir, ws string) bool {
		for _, p := range keep {
			if p.Dir == dir && p.Workspace == ws {
				return true
			}
		}
		return false
	}
	var names []string
	for _, l := range held {
		if kept(l.Key.Dir, l.Key.Workspace) {
			continue
		}
		if err := r.cfg.Store.Unlock(ctx, l.Key); err != nil {
			return names, fmt.Errorf("release lock of %s: %w", l.Key.Dir, err)
		}
		names = append(names, path.Join(l.Key.Dir)+" ("+l.Key.Workspace+")")
	}
	if len(names) > 0 {
		r.lockReleased()
	}
	plans, err := r.rec.PlansOf(ctx, repo, pr.Number)
	if err != nil {
		return names, err
	}
	for _, p := range plans {
		if p.State != PlanApplying && !kept(p.Project.Dir, p.Project.Workspace) {
			r.discardPlan(ctx, p)
		}
	}
	return names, nil
}

// mergedProjects are the projects a merged PR planned, with changes that
// are not applied yet; without stored plans, what its change touches.
// Each plan not applied is moved to merged in one store update, so an
// `atoll apply` racing the merge can no longer claim it; a plan an apply
// comment already claimed is left to that apply.
func (r *Runner) mergedProjects(ctx context.Context, pr vcs.PullRequest, rc RepoConfig) (toApply, applying []Project, err error) {
	st, err := r.prState(ctx, pr)
	if err != nil {
		return nil, nil, err
	}
	applied, applying, err := r.rec.MarkPlansMerged(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return nil, nil, err
	}
	projects := st.Projects
	if len(projects) == 0 {
		found, _, err := r.affectedProjects(ctx, pr)
		if err != nil {
			return nil, nil, err
		}
		for _, a := range found {
			projects = append(projects, a.Project)
		}
	}
	for _, p := range projects {
		if !applied[p.Name] {
			toApply = append(toApply, p)
		}
	}
	return toApply, applying, nil
}

// errMergeClaimed: another handler claimed the merge's apply first.
var errMergeClaimed = errors.New("the merge is claimed")

// planApplyRun plans commit for each project and applies it; each project
// needs the gate's clearance; also are stored with the run, in one
// transaction.
func (r *Runner) planApplyRun(ctx context.Context, pr vcs.PullRequest, command, user, commit string, projects []Project, cleared []gate.Clearance, also ...locks.RecordUpdate) error {
	spec := runSpec{Repo: pr.Repo, Number: pr.Number, Command: command, User: user, HeadSHA: commit}
	if len(also) > 0 {
		spec.Also = func(string) []locks.RecordUpdate { return also }
	}
	for _, p := range projects {
		spec.Jobs = append(spec.Jobs, Job{Kind: JobPlanApply, Repo: pr.Repo, Number: pr.Number, Project: p,
			HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA, Commit: commit, User: user, PRAuthor: pr.Author})
	}
	_, err := r.startApply(ctx, spec, cleared)
	return err
}

// retryAfterMerge plans the default branch head for the merged PR's
// projects whose apply failed (or never ran) and applies it. It holds the
// PR's lock, as onMerged does, and skips projects with an apply queued or
// running, so a retry never runs beside the merge's apply or another retry.
func (r *Runner) retryAfterMerge(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command) error {
	defer r.prMu.lock(records.PRKey(pr.Repo.FullName(), pr.Number))()
	// A merge whose webhook was not handled yet is handled by this retry:
	// it applies the merge commit, as the merge would have.
	mergeUnhandled, err := r.rec.Once(ctx, pr.Repo.FullName(), pr.Number, "merged", []byte(pr.MergeCommitSHA))
	if err != nil {
		return err
	}
	held, err := r.cfg.Store.ListByOwner(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	st, err := r.prState(ctx, pr)
	if err != nil {
		return err
	}
	running, err := r.applyingProjects(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	var projects []Project
	var busy []string
	var appliedAfter map[string]bool
	for _, p := range st.Projects {
		if !p.LocksOn("plan") {
			// repo_locks.mode on_apply or disabled: no lock marks what is
			// left to apply; the merge's (or a retry's) apply jobs do.
			if appliedAfter == nil {
				if appliedAfter, err = r.appliedAfterMerge(ctx, pr.Repo.FullName(), pr.Number); err != nil {
					return err
				}
			}
			if !appliedAfter[p.Name] {
				projects = append(projects, p)
			}
			continue
		}
		for _, l := range held {
			if l.Key.Dir == p.Dir && l.Key.Workspace == p.Workspace {
				projects = append(projects, p)
			}
		}
	}
	projects = filterProjects(projects, cmd.Project, cmd.Dir, cmd.Workspace)
	if len(projects) == 0 {
		return r.say(ctx, pr.Repo, pr.Number, templates.NothingToRetry{})
	}
	plans, err := r.rec.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	applied := map[string]bool{}
	for _, p := range plans {
		applied[p.Project.Name] = p.State == PlanApplied && p.HasChanges
	}
	var retry []Project
	for _, p := range projects {
		switch {
		case running[p.Name]:
			busy = append(busy, p.Name)
		case !applied[p.Name]: // applied by comment before the merge: nothing to retry
			retry = append(retry, p)
		}
	}
	if len(busy) > 0 {
		_ = r.say(ctx, pr.Repo, pr.Number, templates.ApplyAlreadyRunning{Projects: busy})
	}
	if projects = retry; len(projects) == 0 {
		if len(busy) == 0 {
			return r.say(ctx, pr.Repo, pr.Number, templates.NothingToRetry{})
		}
		return nil
	}
	projects, cleared, err := r.gateMerged(ctx, pr, gate.PathRetry, projects)
	if err != nil || len(projects) == 0 {
		return err
	}
	head := pr.MergeCommitSHA
	if !mergeUnhandled || head == "" {
		if head, err = r.host.BranchSHA(ctx, pr.Repo, pr.BaseRef); err != nil {
			return fmt.Errorf("head of %s: %w", pr.BaseRef, err)
		}
	}
	return r.planApplyRun(ctx, pr, "retry-after-merge", user, head, projects, cleared)
}

// appliedAfterMerge are the projects of a merged PR that an apply after
// the merge (or a retry) applied.
func (r *Runner) appliedAfterMerge(ctx context.Context, repo string, number int) (map[string]bool, error) {
	jobs, err := records.List[Job](ctx, r.rec, records.Jobs, "")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, j := range jobs {
		if j.Number == number && j.Repo.FullName() == repo && j.Kind == JobPlanApply && j.State.Final() &&
			j.Outcome.Status == string(templates.StatusApplied) {
			out[j.Project.Name] = true
		}
	}
	return out, nil
}

// applyingProjects are the projects of a PR with an apply (or plan and
// apply) queued or running.
func (r *Runner) applyingProjects(ctx context.Context, repo string, number int) (map[string]bool, error) {
	jobs, err := records.List[Job](ctx, r.rec, records.Jobs, "")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, j := range jobs {
		if j.Number == number && j.Repo.FullName() == repo && (j.Kind == JobApply || j.Kind == JobPlanApply) && !j.State.Final() {
			out[j.Project.Name] = true
		}
	}
	return out, nil
}
