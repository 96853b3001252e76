package pr

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// applyMode is a repo's apply mode: atoll.yaml over the server default.
func (l *Life) applyMode(rc projects.RepoConfig) string {
	if rc.Source.ApplyMode != "" {
		return string(rc.Source.ApplyMode)
	}
	return string(l.d.Settings.ApplyMode)
}

// commandApply checks every requirement of the selected plans and, when
// all are met, claims each plan for one apply job.
func (l *Life) commandApply(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command) error {
	rc, err := l.d.Repos.RepoConfig(ctx, pr.Repo, pr.BaseSHA, pr.BaseRef)
	if err != nil {
		return l.configErrorReply(ctx, pr, err)
	}
	mode := l.applyMode(rc)
	if b := l.d.Engine.ApplyBlocked(ctx); b != nil && (pr.Merged || pr.State == "open") {
		return l.replyApplyBlocked(ctx, pr.Repo, pr.Number, b)
	}
	if pr.Merged {
		return l.retryAfterMerge(ctx, pr, user, cmd)
	}
	if pr.State != "open" {
		return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.ApplyClosed{})
	}
	if mode == "after_merge" {
		return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.ApplyAfterMergeOnly{})
	}
	plans, err := l.d.Records.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	var selected []records.Plan
	for _, p := range plans {
		if len(projects.Filter([]records.Project{p.Project}, cmd.Project, cmd.Dir, cmd.Workspace)) == 1 {
			selected = append(selected, p)
		}
	}
	if len(selected) == 0 {
		return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.NoPlanToApply{Selected: selection(cmd)})
	}
	var pending []records.Plan
	var busy []templates.BusyProject
	var failed []string
	for _, p := range selected {
		switch p.State {
		case records.PlanApplying, records.PlanMerged:
			busy = append(busy, templates.BusyProject{Name: p.Project.Name})
		case records.PlanApplied:
			if p.HasChanges {
				busy = append(busy, templates.BusyProject{Name: p.Project.Name, Applied: true})
			}
		case records.PlanApplyFailed:
			failed = append(failed, p.Project.Name)
		default:
			pending = append(pending, p)
		}
	}
	if len(failed) > 0 {
		// A plan whose apply failed or was cut off may be partly applied:
		// it is never applied again.
		_ = l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.ApplyNotRepeated{Projects: failed})
	}
	if len(pending) == 0 {
		if len(busy) > 0 {
			return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.NothingToApplyBusy{Projects: busy})
		}
		if len(failed) == 0 {
			return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.NothingToApplyNoChanges{Selected: selection(cmd)})
		}
		return nil
	}
	// The rules come from the base branch's atoll.yaml (rc), so a pull
	// request cannot relax its own.
	refused, cleared, err := l.d.Gate.Requirements(ctx, pr, rc, pending)
	if err != nil {
		return err
	}
	if len(refused) > 0 {
		return l.applyWhatPasses(ctx, pr, user, cmd, pending, refused, cleared)
	}
	return l.claimAndApply(ctx, pr, user, pending, runOptions(cmd), cleared)
}

// claimAndApply moves each plan to applying in one store transaction per
// plan; only the plans this call moved are applied, so concurrent apply
// commands and redelivered webhooks apply a plan once.
func (l *Life) claimAndApply(ctx context.Context, pr vcs.PullRequest, user string, plans []records.Plan, opts records.RunOptions, cleared []gate.Clearance) error {
	// Claims of one PR are serialized: of concurrent apply comments, the
	// first claims every plan it was cleared for, in one run.
	defer l.d.Engine.LockPR(records.PRKey(pr.Repo.FullName(), pr.Number))()
	var jobs []records.Job
	var lost []string
	for _, p := range plans {
		key := records.PlanKey(p.Repo, p.Number, p.Project.Name)
		claimed, err := l.d.Records.ClaimPlan(ctx, key, func(cur records.Plan) bool {
			return cur.SHA256 == p.SHA256 && cur.HeadSHA == pr.HeadSHA
		})
		if err != nil {
			return err
		}
		if !claimed {
			lost = append(lost, p.Project.Name)
			continue
		}
		jobs = append(jobs, records.Job{Kind: records.JobApply, Repo: pr.Repo, Number: pr.Number, Project: p.Project,
			HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA, Commit: p.Commit, User: user, PRAuthor: pr.Author})
	}
	if len(lost) > 0 {
		_ = l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.ApplyTaken{Projects: lost})
	}
	if len(jobs) == 0 {
		return nil
	}
	// Each claimed plan names its job before the job can run.
	bind := func(ctx context.Context, jobs []records.Job) {
		for _, j := range jobs {
			l.d.Plans.SetPlanState(ctx, records.PlanKey(j.Repo.FullName(), j.Number, j.Project.Name), records.PlanApplying, j.ID)
		}
	}
	err := l.d.Engine.StartApply(ctx, records.RunSpec{Repo: pr.Repo, Number: pr.Number, Command: "apply", User: user,
		HeadSHA: pr.HeadSHA, Jobs: jobs, Options: opts, BeforeQueue: bind}, cleared)
	if err != nil {
		for _, j := range jobs {
			l.d.Plans.SetPlanState(ctx, records.PlanKey(pr.Repo.FullName(), pr.Number, j.Project.Name), records.PlanPlanned, "-")
		}
	}
	return err
}

// onMerged applies a merged PR's projects when its mode says so, and
// otherwise releases its locks.
func (l *Life) OnMerged(ctx context.Context, pr vcs.PullRequest) error {
	defer l.d.Engine.LockPR(records.PRKey(pr.Repo.FullName(), pr.Number))()
	if pr.Fork() && !l.d.Settings.AllowForkPRs {
		// Nothing of a fork is applied (it was told so when it was opened).
		_, err := l.ReleasePR(ctx, pr.Repo.FullName(), pr.Number)
		return err
	}
	rc, err := l.d.Repos.RepoConfig(ctx, pr.Repo, pr.MergeCommitSHA, pr.BaseRef)
	if err != nil {
		return l.configErrorReply(ctx, pr, err)
	}
	mode := l.applyMode(rc)
	if mode == "comment" {
		plans, err := l.d.Records.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
		if err != nil {
			return err
		}
		var applying []records.Project
		for _, p := range plans {
			if p.State == records.PlanApplying {
				applying = append(applying, p.Project)
			}
		}
		released, err := l.releaseMergedExcept(ctx, pr, applying)
		if err == nil && len(released) > 0 {
			_ = l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.MergedLocksReleased{Projects: released})
		}
		return err
	}
	// Claim the merge once: a redelivered "closed" event must not apply
	// twice. The claim is stored with the apply's run and jobs, in one
	// transaction: a stop before it leaves the merge unclaimed, and the
	// delivery handled again at start-up applies it.
	key := records.PRKey(pr.Repo.FullName(), pr.Number) + "#merged"
	if _, claimed, err := l.d.Records.Store().GetRecord(ctx, records.PRs, key); err != nil || claimed {
		return err
	}
	claim := locks.RecordUpdate{Bucket: records.PRs, Key: key, Fn: func(_ []byte, exists bool) ([]byte, error) {
		if exists {
			return nil, errMergeClaimed
		}
		return []byte(pr.MergeCommitSHA), nil
	}}
	crashpoint.Hit(ctx, crashpoint.MergeClaimed)
	projects, applying, err := l.mergedProjects(ctx, pr, rc)
	if err != nil {
		return err
	}
	// Projects applied before the merge are done: release them now. Those
	// being applied are released by their apply when it ends.
	if _, err := l.releaseMergedExcept(ctx, pr, append(append([]records.Project{}, projects...), applying...)); err != nil {
		return err
	}
	if len(projects) == 0 {
		return l.d.Records.Store().UpdateRecords(ctx, []locks.RecordUpdate{claim})
	}
	// The review requirements still hold after a merge: what the gate
	// refuses is not applied, and its locks stay held for a retry.
	projects, cleared, err := l.d.Gate.Merged(ctx, pr, gate.PathAfterMerge, projects)
	if err != nil {
		return err
	}
	if len(projects) == 0 {
		return l.d.Records.Store().UpdateRecords(ctx, []locks.RecordUpdate{claim})
	}
	err = l.planApplyRun(ctx, pr, "apply-after-merge", "", pr.MergeCommitSHA, projects, cleared, claim)
	if errors.Is(err, errMergeClaimed) {
		return nil
	}
	return err
}

// releaseMergedExcept releases the locks a merged PR holds, but those of
// keep (projects still to apply, or being applied), and discards the plans
// of the released projects. It returns the released projects' names.
func (l *Life) releaseMergedExcept(ctx context.Context, pr vcs.PullRequest, keep []records.Project) ([]string, error) {
	repo := pr.Repo.FullName()
	if len(keep) == 0 {
		return l.ReleasePR(ctx, repo, pr.Number)
	}
	held, err := l.d.Locks.ListByOwner(ctx, repo, pr.Number)
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
	for _, lk := range held {
		if kept(lk.Key.Dir, lk.Key.Workspace) {
			continue
		}
		if err := l.d.Locks.Unlock(ctx, lk.Key); err != nil {
			return names, fmt.Errorf("release lock of %s: %w", lk.Key.Dir, err)
		}
		names = append(names, path.Join(lk.Key.Dir)+" ("+lk.Key.Workspace+")")
	}
	if len(names) > 0 {
		l.d.Queue.Released()
	}
	plans, err := l.d.Records.PlansOf(ctx, repo, pr.Number)
	if err != nil {
		return names, err
	}
	for _, p := range plans {
		if p.State != records.PlanApplying && !kept(p.Project.Dir, p.Project.Workspace) {
			l.DiscardPlan(ctx, p)
		}
	}
	return names, nil
}

// mergedProjects are the projects a merged PR planned, with changes that
// are not applied yet; without stored plans, what its change touches.
// Each plan not applied is moved to merged in one store update, so an
// `atoll apply` racing the merge can no longer claim it; a plan an apply
// comment already claimed is left to that apply.
func (l *Life) mergedProjects(ctx context.Context, pr vcs.PullRequest, rc projects.RepoConfig) (toApply, applying []records.Project, err error) {
	st, err := l.State(ctx, pr)
	if err != nil {
		return nil, nil, err
	}
	applied, applying, err := l.d.Records.MarkPlansMerged(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return nil, nil, err
	}
	projects := st.Projects
	if len(projects) == 0 {
		found, _, err := l.d.Repos.Affected(ctx, pr)
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
func (l *Life) planApplyRun(ctx context.Context, pr vcs.PullRequest, command, user, commit string, projects []records.Project, cleared []gate.Clearance, also ...locks.RecordUpdate) error {
	spec := records.RunSpec{Repo: pr.Repo, Number: pr.Number, Command: command, User: user, HeadSHA: commit}
	if len(also) > 0 {
		spec.Also = func(string) []locks.RecordUpdate { return also }
	}
	for _, p := range projects {
		spec.Jobs = append(spec.Jobs, records.Job{Kind: records.JobPlanApply, Repo: pr.Repo, Number: pr.Number, Project: p,
			HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA, Commit: commit, User: user, PRAuthor: pr.Author})
	}
	err := l.d.Engine.StartApply(ctx, spec, cleared)
	return err
}

// retryAfterMerge plans the default branch head for the merged PR's
// projects whose apply failed (or never ran) and applies it. It holds the
// PR's lock, as onMerged does, and skips projects with an apply queued or
// running, so a retry never runs beside the merge's apply or another retry.
func (l *Life) retryAfterMerge(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command) error {
	defer l.d.Engine.LockPR(records.PRKey(pr.Repo.FullName(), pr.Number))()
	// A merge whose webhook was not handled yet is handled by this retry:
	// it applies the merge commit, as the merge would have.
	mergeUnhandled, err := l.d.Records.Once(ctx, pr.Repo.FullName(), pr.Number, "merged", []byte(pr.MergeCommitSHA))
	if err != nil {
		return err
	}
	held, err := l.d.Locks.ListByOwner(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	st, err := l.State(ctx, pr)
	if err != nil {
		return err
	}
	running, err := l.applyingProjects(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	var left []records.Project
	var busy []string
	var appliedAfter map[string]bool
	for _, p := range st.Projects {
		if !p.LocksOn("plan") {
			// repo_locks.mode on_apply or disabled: no lock marks what is
			// left to apply; the merge's (or a retry's) apply jobs do.
			if appliedAfter == nil {
				if appliedAfter, err = l.appliedAfterMerge(ctx, pr.Repo.FullName(), pr.Number); err != nil {
					return err
				}
			}
			if !appliedAfter[p.Name] {
				left = append(left, p)
			}
			continue
		}
		for _, lk := range held {
			if lk.Key.Dir == p.Dir && lk.Key.Workspace == p.Workspace {
				left = append(left, p)
			}
		}
	}
	left = projects.Filter(left, cmd.Project, cmd.Dir, cmd.Workspace)
	if len(left) == 0 {
		return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.NothingToRetry{})
	}
	plans, err := l.d.Records.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	applied := map[string]bool{}
	for _, p := range plans {
		applied[p.Project.Name] = p.State == records.PlanApplied && p.HasChanges
	}
	var retry []records.Project
	for _, p := range left {
		switch {
		case running[p.Name]:
			busy = append(busy, p.Name)
		case !applied[p.Name]: // applied by comment before the merge: nothing to retry
			retry = append(retry, p)
		}
	}
	if len(busy) > 0 {
		_ = l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.ApplyAlreadyRunning{Projects: busy})
	}
	if left = retry; len(left) == 0 {
		if len(busy) == 0 {
			return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.NothingToRetry{})
		}
		return nil
	}
	left, cleared, err := l.d.Gate.Merged(ctx, pr, gate.PathRetry, left)
	if err != nil || len(left) == 0 {
		return err
	}
	head := pr.MergeCommitSHA
	if !mergeUnhandled || head == "" {
		if head, err = l.d.Host.BranchSHA(ctx, pr.Repo, pr.BaseRef); err != nil {
			return fmt.Errorf("head of %s: %w", pr.BaseRef, err)
		}
	}
	return l.planApplyRun(ctx, pr, "retry-after-merge", user, head, left, cleared)
}

// appliedAfterMerge are the projects of a merged PR that an apply after
// the merge (or a retry) applied.
func (l *Life) appliedAfterMerge(ctx context.Context, repo string, number int) (map[string]bool, error) {
	return l.jobProjects(ctx, repo, number, func(j records.Job) bool {
		return j.Kind == records.JobPlanApply && j.State.Final() && j.Outcome.Status == string(templates.StatusApplied)
	})
}

// applyingProjects are the projects of a PR with an apply (or plan and
// apply) queued or running.
func (l *Life) applyingProjects(ctx context.Context, repo string, number int) (map[string]bool, error) {
	return l.jobProjects(ctx, repo, number, func(j records.Job) bool {
		return (j.Kind == records.JobApply || j.Kind == records.JobPlanApply) && !j.State.Final()
	})
}

// jobProjects are the names of the projects of pull request number's jobs
// (in repo) that accepts keeps.
func (l *Life) jobProjects(ctx context.Context, repo string, number int, accepts func(records.Job) bool) (map[string]bool, error) {
	jobs, err := records.List[records.Job](ctx, l.d.Records, records.Jobs, "")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, j := range jobs {
		if j.Number == number && j.Repo.FullName() == repo && accepts(j) {
			out[j.Project.Name] = true
		}
	}
	return out, nil
}
