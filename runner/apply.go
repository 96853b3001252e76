package runner

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// runApply applies a stored plan. The plan was moved to applying for this
// job in one store transaction before the job was queued, so no other job
// applies it.
func (r *Runner) runApply(ctx context.Context, job *Job, log io.Writer) Outcome {
	var plan Plan
	key := records.PlanKey(job.Repo.FullName(), job.Number, job.Project.Name)
	if ok, err := r.rec.Get(ctx, records.Plans, key, &plan); err != nil || !ok {
		return Outcome{Status: string(templates.StatusSkipped), Error: r.text(templates.JobSkipped{Kind: templates.SkipPlanGone})}
	}
	// On a shared store another replica's queue poll (or this one's) may
	// hand the job over between its run being stored and its run binding
	// the claimed plan to it (startRun's beforeQueue): a plan still only
	// claimed is waited for a moment, never taken.
	for wait := 0; wait < 100 && plan.State == PlanApplying && plan.ApplyJob == applyClaimed; wait++ {
		select {
		case <-ctx.Done():
			return Outcome{Status: string(templates.StatusSkipped), Error: r.text(templates.JobSkipped{Kind: templates.SkipApplyTaken})}
		case <-time.After(50 * time.Millisecond):
		}
		if ok, err := r.rec.Get(ctx, records.Plans, key, &plan); err != nil || !ok {
			return Outcome{Status: string(templates.StatusSkipped), Error: r.text(templates.JobSkipped{Kind: templates.SkipPlanGone})}
		}
	}
	if plan.ApplyJob != job.ID || plan.State != PlanApplying {
		return Outcome{Status: string(templates.StatusSkipped), Error: r.text(templates.JobSkipped{Kind: templates.SkipApplyTaken})}
	}
	// The plan's state once the job ends, written once: back to planned
	// where terraform never ran (it may be applied later), applied, or
	// apply_failed. Empty: left as it is (a stale plan is discarded).
	var after struct {
		state PlanState
		job   string
	}
	defer func() {
		if after.state != "" {
			r.setPlanState(ctx, key, after.state, after.job)
		}
	}()
	if out, blocked := r.blockedOutcome(ctx); blocked {
		after.state, after.job = PlanPlanned, ""
		return out
	}
	// repo_locks.mode on_apply: the lock is taken now, not at plan time.
	pr := vcs.PullRequest{Repo: job.Repo, Number: job.Number, Author: job.PRAuthor, HeadSHA: job.HeadSHA}
	if out, locked := r.takeLock(ctx, *job, pr, "apply"); locked {
		after.state, after.job = PlanPlanned, ""
		return out
	}
	sum, err := r.planSHA256(ctx, plan)
	if err != nil || sum != plan.SHA256 {
		after.state, after.job = PlanPlanned, ""
		return Outcome{Status: string(templates.StatusRefused), Unmet: r.renderReasons([]gate.Reason{{Code: gate.CodePlanFile, Project: job.Project.Name}})}
	}
	// Policy approvals are checked once more: one withdrawn, or an owner
	// who left the team, since `atoll apply` checked them no longer counts.
	if d := r.decidePolicies(ctx, gate.Path(job.Path), *job, plan.Policies); len(d.Reasons) > 0 {
		after.state, after.job = PlanPlanned, ""
		return Outcome{Status: string(templates.StatusRefused), Unmet: r.renderReasons(d.Reasons)}
	}
	sp, done := r.newJobSpace(ctx, *job, log, true)
	defer done()
	job.Commit = plan.Commit
	if err := r.checkoutCommit(ctx, job.Repo, job.Number, plan.Commit, plan.BaseSHA, plan.HeadSHA, sp.Dir); err != nil {
		after.state, after.job = PlanApplyFailed, job.ID
		return execute.Failure(templates.StatusApplyFailed, execute.Step("checkout", err), sp.Tail)
	}
	// A sandboxed terraform reads the plan from the job's temp dir.
	planFile, err := r.planFileOf(ctx, plan)
	if err != nil {
		after.state, after.job = PlanApplyFailed, job.ID
		return execute.Failure(templates.StatusApplyFailed, execute.Step("apply", err), sp.Tail)
	}
	local, err := execute.StagePlan(planFile, plan.SHA256, jobTempDir(sp.Dir))
	if err != nil {
		after.state, after.job = PlanApplyFailed, job.ID
		return execute.Failure(templates.StatusApplyFailed, execute.Step("apply", err), sp.Tail)
	}
	started, notRun := false, false
	var stale *staleHeadError
	steps, err := r.applyProject(ctx, job, sp.Dir, sp.W, local, nil, func() error {
		sp.Apply.Reset()
		started = true
		r.noteApplying(ctx, *job, plan.Summary)
		// A push since the apply was asked for makes this plan stale: the
		// last look at the PR's head is taken just before terraform runs.
		// Only an open pull request's head can move: a merged one's is
		// fixed (its applies plan the base branch), and a drift issue has
		// none.
		if job.Path != string(gate.PathComment) {
			return nil
		}
		pr, err := r.host.GetPullRequest(ctx, job.Repo, job.Number)
		if err != nil {
			notRun = true
			return execute.Step("fetch pull request", err)
		}
		if pr.HeadSHA != plan.HeadSHA {
			stale = &staleHeadError{head: pr.HeadSHA}
			return stale
		}
		return nil
	})
	if stale != nil {
		r.discardPlan(ctx, plan)
		return Outcome{Status: string(templates.StatusRefused), Steps: steps,
			Unmet: r.renderReasons([]gate.Reason{{Code: gate.CodeHeadMoved, Project: job.Project.Name, HeadSHA: stale.head}})}
	}
	if err != nil {
		if notRun {
			after.state, after.job = PlanPlanned, "-" // terraform never ran: the plan may be applied later
		} else {
			after.state, after.job = PlanApplyFailed, job.ID
		}
		o := execute.Failure(templates.StatusApplyFailed, err, sp.Tail)
		if started {
			o.ApplyText = terraform.StripANSI(sp.Apply.String())
		}
		o.Steps = steps
		return o
	}
	after.state, after.job = PlanApplied, job.ID
	return Outcome{Status: string(templates.StatusApplied), Summary: plan.Summary, ApplyText: terraform.StripANSI(sp.Apply.String()), Steps: steps}
}

// runPlanApply plans job.Commit and applies that plan at once: apply after
// merge, a retry on a merged PR, a drift remediation. Mandatory policy
// failures stop it unless their owners approved.
func (r *Runner) runPlanApply(ctx context.Context, job *Job, log io.Writer) Outcome {
	if out, blocked := r.blockedOutcome(ctx); blocked {
		return out
	}
	sp, done := r.newJobSpace(ctx, *job, log, true)
	defer done()
	if err := r.git.Fetch(ctx, job.Repo); err != nil {
		return execute.Failure(templates.StatusApplyFailed, execute.Step("fetch", err), sp.Tail)
	}
	if err := r.git.Worktree(ctx, job.Repo, job.Commit, sp.Dir); err != nil {
		return execute.Failure(templates.StatusApplyFailed, execute.Step("checkout", err), sp.Tail)
	}
	res, err := r.planProject(ctx, job, sp.Dir, sp.W, false)
	if err != nil {
		return execute.Failure(templates.StatusApplyFailed, err, sp.Tail)
	}
	out := res.outcome
	pr := vcs.PullRequest{Repo: job.Repo, Number: job.Number, Author: job.PRAuthor, HeadSHA: job.HeadSHA}
	out.Policies = r.evaluatePolicies(ctx, *job, pr, res.planJSON)
	if d := r.decidePolicies(ctx, gate.Path(job.Path), *job, out.Policies); len(d.Reasons) > 0 {
		out.Status, out.Unmet = string(templates.StatusRefused), r.renderReasons(d.Reasons)
		return out
	}
	if !res.changes {
		out.Status = string(templates.StatusApplied)
		out.NothingToApply = true
		return out
	}
	started := false
	// The plan's working directory is initialised already: one init a
	// job.
	steps, err := r.applyProject(ctx, job, sp.Dir, sp.W, res.localPlan, res.wd, func() error {
		sp.Apply.Reset()
		started = true
		r.noteApplying(ctx, *job, out.Summary)
		return nil
	})
	out.Steps = append(out.Steps, steps...)
	if err != nil {
		o := execute.Failure(templates.StatusApplyFailed, err, sp.Tail)
		o.Summary, o.Steps = out.Summary, out.Steps
		if started {
			o.ApplyText = terraform.StripANSI(sp.Apply.String())
		}
		return o
	}
	out.Status, out.ApplyText = string(templates.StatusApplied), terraform.StripANSI(sp.Apply.String())
	return out
}

// afterRunDone finishes what a run leaves behind once every job is final:
// a merged PR's locks are released for applied projects, and automerge.
func (r *Runner) afterRunDone(ctx context.Context, runID string) {
	var run Run
	if ok, err := r.rec.Get(ctx, records.Runs, runID, &run); err != nil || !ok {
		return
	}
	jobs, err := r.runJobs(ctx, run)
	if err != nil {
		return
	}
	for _, j := range jobs {
		if !j.State.Final() {
			return
		}
	}
	switch run.Command {
	case "autoplan", "plan", "queued-plan":
		r.labelPlanRun(ctx, run, jobs)
	case "apply-after-merge", "apply", "retry-after-merge":
		r.afterApplyRun(ctx, run, jobs)
	case "drift":
		r.reportDrift(ctx, run, jobs)
	case "remediate", "auto-remediate":
		r.afterRemediation(ctx, run, jobs)
	}
}

// afterApplyRun releases the locks of applied projects of a merged PR and
// merges an open PR whose projects are all applied when automerge is on.
func (r *Runner) afterApplyRun(ctx context.Context, run Run, jobs []Job) {
	pr, err := r.host.GetPullRequest(ctx, run.Repo, run.Number)
	if err != nil {
		r.log.Error("after apply: get PR", "pr", run.Number, "err", err)
		return
	}
	if pr.Merged {
		var failed, refused []string
		for _, j := range jobs {
			switch j.Outcome.Status {
			case string(templates.StatusApplied):
				if err := r.cfg.Store.Unlock(ctx, lockKey(j)); err != nil {
					r.log.Error("release lock", "project", j.Project.Name, "err", err)
				}
				crashpoint.Hit(ctx, crashpoint.LockReleased)
				r.lockReleased()
				r.discardPlanOf(ctx, j)
			case string(templates.StatusRefused):
				refused = append(refused, j.Project.Name)
			default:
				failed = append(failed, j.Project.Name)
			}
		}
		if len(failed) > 0 {
			_ = r.say(ctx, run.Repo, run.Number, templates.MergedApplyFailed{Projects: failed})
		}
		if len(refused) > 0 {
			_ = r.say(ctx, run.Repo, run.Number, templates.MergedApplyRefused{Projects: refused})
		}
		return
	}
	if run.Options.NoAutomerge || !r.automerge(ctx, run.Repo) {
		return
	}
	plans, err := r.rec.PlansOf(ctx, run.Repo.FullName(), run.Number)
	if err != nil || len(plans) == 0 {
		return
	}
	for _, p := range plans {
		if p.State != PlanApplied || p.HeadSHA != pr.HeadSHA {
			return
		}
	}
	method := r.srv.Automerge.Method
	if run.Options.MergeMethod != "" {
		method = run.Options.MergeMethod
	}
	if _, err := r.host.MergePullRequest(ctx, run.Repo, run.Number, method, pr.HeadSHA); err != nil {
		_ = r.say(ctx, run.Repo, run.Number, templates.AutomergeFailed{Error: err.Error()})
		return
	}
	if pr.HeadRef != "" && !pr.Fork() && r.deleteSourceBranch(ctx, pr, plans) {
		if err := r.host.DeleteBranch(ctx, run.Repo, pr.HeadRef); err != nil {
			_ = r.say(ctx, run.Repo, run.Number, templates.BranchDeleteFailed{Branch: pr.HeadRef, Error: err.Error()})
		}
	}
}

// deleteSourceBranch reports whether automerge deletes the merged pull
// request's branch (delete_source_branch_on_merge): when every merged
// project says so, by its own setting or else the file's top-level one,
// as read from the pull request's head.
func (r *Runner) deleteSourceBranch(ctx context.Context, pr vcs.PullRequest, plans []Plan) bool {
	rc, err := r.repoConfig(ctx, pr.Repo, pr.HeadSHA, pr.BaseRef)
	if err != nil {
		return false
	}
	for _, p := range plans {
		if v := firstBool(p.Project.DeleteSourceBranch, &rc.DeleteSourceBranch); !*v {
			return false
		}
	}
	return true
}

func (r *Runner) discardPlanOf(ctx context.Context, j Job) {
	var p Plan
	key := records.PlanKey(j.Repo.FullName(), j.Number, j.Project.Name)
	if ok, _ := r.rec.Get(ctx, records.Plans, key, &p); ok {
		r.discardPlan(ctx, p)
	}
}

// automerge reports whether a repo merges PRs once applied.
func (r *Runner) automerge(ctx context.Context, repo vcs.Repo) bool {
	rc, err := r.repoConfig(ctx, repo, repo.DefaultBranch, repo.DefaultBranch)
	if err == nil && rc.Source.Automerge != nil {
		return *rc.Source.Automerge
	}
	return r.srv.Automerge.Enabled
}

// staleHeadError: the PR's head moved after the plan an apply was about to
// apply.
type staleHeadError struct{ head string }

func (e *staleHeadError) Error() string { return "the pull request's head moved to " + e.head }

// setPlanState is records' SetPlanState, logging a failure: the job's
// outcome stands whether or not the plan's state could be written.
func (r *Runner) setPlanState(ctx context.Context, key string, st PlanState, jobID string) {
	if err := r.rec.SetPlanState(ctx, key, st, jobID); err != nil {
		r.log.Error("set plan state", "plan", key, "err", err)
	}
}

// checkoutCommit puts commit sha of repo in dir, for a job that did not
// fetch it itself: an apply of a stored plan (head and base are the
// plan's, number its pull request's) or a drift check (head and base
// empty: a commit of a branch). Another replica may have made the plan or
// fetched the branch, and this replica's mirror may then lack the
// commits and the merge commit made for the plan: the commits are
// fetched and the merge made again, which gives the same commit on every
// replica (vcs/git fixes a merge's date), and must: a merge that comes
// out differently (another git version merging otherwise) is refused
// rather than applied.
func (r *Runner) checkoutCommit(ctx context.Context, repo vcs.Repo, number int, sha, base, head, dir string) error {
	err := r.git.Worktree(ctx, repo, sha, dir)
	if err == nil {
		return nil
	}
	r.dropWorktree(ctx, repo, dir)
	if head == "" {
		if ferr := r.git.Fetch(ctx, repo); ferr != nil {
			return fmt.Errorf("%w (then %w)", err, ferr)
		}
		return r.git.Worktree(ctx, repo, sha, dir)
	}
	pr := vcs.PullRequest{Repo: repo, Number: number, HeadSHA: head, BaseSHA: base}
	if ferr := r.fetchPR(ctx, pr); ferr != nil {
		return fmt.Errorf("%w (then %w)", err, ferr)
	}
	if sha == head || base == "" {
		return r.git.Worktree(ctx, repo, sha, dir)
	}
	made, merr := r.git.MergeWorktree(ctx, repo, base, head, dir)
	if merr != nil {
		return merr
	}
	if made != sha {
		return fmt.Errorf("merging %s into %s again made %s, not the planned %s", head, base, made, sha)
	}
	r.log.Info("made a plan's merge commit again on this replica", "repo", repo.FullName(), "base", base, "head", head)
	return nil
}
