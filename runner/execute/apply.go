package execute

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Apply applies a stored plan. The plan was moved to applying for this
// job in one store transaction before the job was queued, so no other job
// applies it; a plan another job owns is skipped. The plan file must
// still have its recorded SHA-256 and its policy approvals must still
// hold, and on a comment's apply the pull request's head must not have
// moved (the plan is then discarded). The plan's state afterwards is
// written once: applied, apply_failed, or planned again where terraform
// never ran.
func (x *Jobs) Apply(ctx context.Context, job *records.Job, log io.Writer) records.Outcome {
	var plan records.Plan
	key := records.PlanKey(job.Repo.FullName(), job.Number, job.Project.Name)
	if ok, err := x.rec.Get(ctx, records.Plans, key, &plan); err != nil || !ok {
		return records.Outcome{Status: string(templates.StatusSkipped), Error: x.text(templates.JobSkipped{Kind: templates.SkipPlanGone})}
	}
	// On a shared store another replica's queue poll (or this one's) may
	// hand the job over between its run being stored and its run binding
	// the claimed plan to it (startRun's beforeQueue): a plan still only
	// claimed is waited for a moment, never taken.
	for wait := 0; wait < 100 && plan.State == records.PlanApplying && plan.ApplyJob == records.ApplyClaimed; wait++ {
		select {
		case <-ctx.Done():
			return records.Outcome{Status: string(templates.StatusSkipped), Error: x.text(templates.JobSkipped{Kind: templates.SkipApplyTaken})}
		case <-time.After(50 * time.Millisecond):
		}
		if ok, err := x.rec.Get(ctx, records.Plans, key, &plan); err != nil || !ok {
			return records.Outcome{Status: string(templates.StatusSkipped), Error: x.text(templates.JobSkipped{Kind: templates.SkipPlanGone})}
		}
	}
	if plan.ApplyJob != job.ID || plan.State != records.PlanApplying {
		return records.Outcome{Status: string(templates.StatusSkipped), Error: x.text(templates.JobSkipped{Kind: templates.SkipApplyTaken})}
	}
	// The plan's state once the job ends, written once: back to planned
	// where terraform never ran (it may be applied later), applied, or
	// apply_failed. Empty: left as it is (a stale plan is discarded).
	var after struct {
		state records.PlanState
		job   string
	}
	defer func() {
		if after.state != "" {
			x.SetPlanState(ctx, key, after.state, after.job)
		}
	}()
	if out, blocked := x.blockedOutcome(ctx); blocked {
		after.state, after.job = records.PlanPlanned, ""
		return out
	}
	// repo_locks.mode on_apply: the lock is taken now, not at plan time.
	pr := vcs.PullRequest{Repo: job.Repo, Number: job.Number, Author: job.PRAuthor, HeadSHA: job.HeadSHA}
	if out, locked := x.takeLock(ctx, *job, pr, "apply"); locked {
		after.state, after.job = records.PlanPlanned, ""
		return out
	}
	sum, err := x.PlanSHA256(ctx, plan)
	if err != nil || sum != plan.SHA256 {
		after.state, after.job = records.PlanPlanned, ""
		return records.Outcome{Status: string(templates.StatusRefused), Unmet: x.renderReasons([]gate.Reason{{Code: gate.CodePlanFile, Project: job.Project.Name}})}
	}
	// Policy approvals are checked once more: one withdrawn, or an owner
	// who left the team, since `atoll apply` checked them no longer counts.
	if d := x.decidePolicies(ctx, gate.Path(job.Path), *job, plan.Policies); len(d.Reasons) > 0 {
		after.state, after.job = records.PlanPlanned, ""
		return records.Outcome{Status: string(templates.StatusRefused), Unmet: x.renderReasons(d.Reasons)}
	}
	sp, done := x.NewJobSpace(ctx, *job, log, true)
	defer done()
	job.Commit = plan.Commit
	if err := x.CheckoutCommit(ctx, job.Repo, job.Number, plan.Commit, plan.BaseSHA, plan.HeadSHA, sp.Dir); err != nil {
		after.state, after.job = records.PlanApplyFailed, job.ID
		return Failure(templates.StatusApplyFailed, Step("checkout", err), sp.Tail)
	}
	// A sandboxed terraform reads the plan from the job's temp dir.
	planFile, err := x.PlanFileOf(ctx, plan)
	if err != nil {
		after.state, after.job = records.PlanApplyFailed, job.ID
		return Failure(templates.StatusApplyFailed, Step("apply", err), sp.Tail)
	}
	local, err := StagePlan(planFile, plan.SHA256, jobTempDir(sp.Dir))
	if errors.Is(err, ErrPlanMismatch) {
		err = x.explain(templates.JobError{Kind: templates.JobErrStagedPlanMismatch})
	}
	if err != nil {
		after.state, after.job = records.PlanApplyFailed, job.ID
		return Failure(templates.StatusApplyFailed, Step("apply", err), sp.Tail)
	}
	started, notRun := false, false
	var stale *staleHeadError
	steps, err := x.applyProject(ctx, job, sp.Dir, sp.W, local, nil, func() error {
		sp.Apply.Reset()
		started = true
		x.noteApplying(ctx, *job, plan.Summary)
		// A push since the apply was asked for makes this plan stale: the
		// last look at the PR's head is taken just before terraform runs.
		// Only an open pull request's head can move: a merged one's is
		// fixed (its applies plan the base branch), and a drift issue has
		// none.
		if job.Path != string(gate.PathComment) {
			return nil
		}
		pr, err := x.host.GetPullRequest(ctx, job.Repo, job.Number)
		if err != nil {
			notRun = true
			return Step("fetch pull request", err)
		}
		if pr.HeadSHA != plan.HeadSHA {
			stale = &staleHeadError{head: pr.HeadSHA}
			return stale
		}
		return nil
	})
	if stale != nil {
		x.discardPlan(ctx, plan)
		return records.Outcome{Status: string(templates.StatusRefused), Steps: steps,
			Unmet: x.renderReasons([]gate.Reason{{Code: gate.CodeHeadMoved, Project: job.Project.Name, HeadSHA: stale.head}})}
	}
	if err != nil {
		if notRun {
			after.state, after.job = records.PlanPlanned, "-" // terraform never ran: the plan may be applied later
		} else {
			after.state, after.job = records.PlanApplyFailed, job.ID
		}
		o := Failure(templates.StatusApplyFailed, err, sp.Tail)
		if started {
			o.ApplyText = terraform.StripANSI(sp.Apply.String())
		}
		o.Steps = steps
		return o
	}
	after.state, after.job = records.PlanApplied, job.ID
	return records.Outcome{Status: string(templates.StatusApplied), Summary: plan.Summary, ApplyText: terraform.StripANSI(sp.Apply.String()), Steps: steps}
}

// PlanApply plans job.Commit and applies that plan at once: apply after
// merge, a retry on a merged PR, a drift remediation. Mandatory policy
// failures stop it unless their owners approved.
func (x *Jobs) PlanApply(ctx context.Context, job *records.Job, log io.Writer) records.Outcome {
	if out, blocked := x.blockedOutcome(ctx); blocked {
		return out
	}
	sp, done := x.NewJobSpace(ctx, *job, log, true)
	defer done()
	if err := x.git.Fetch(ctx, job.Repo); err != nil {
		return Failure(templates.StatusApplyFailed, Step("fetch", err), sp.Tail)
	}
	if err := x.git.Worktree(ctx, job.Repo, job.Commit, sp.Dir); err != nil {
		return Failure(templates.StatusApplyFailed, Step("checkout", err), sp.Tail)
	}
	res, err := x.PlanProject(ctx, job, sp.Dir, sp.W, false)
	if err != nil {
		return Failure(templates.StatusApplyFailed, err, sp.Tail)
	}
	out := res.Outcome
	pr := vcs.PullRequest{Repo: job.Repo, Number: job.Number, Author: job.PRAuthor, HeadSHA: job.HeadSHA}
	out.Policies = x.EvaluatePolicies(ctx, *job, pr, res.PlanJSON)
	if d := x.decidePolicies(ctx, gate.Path(job.Path), *job, out.Policies); len(d.Reasons) > 0 {
		out.Status, out.Unmet = string(templates.StatusRefused), x.renderReasons(d.Reasons)
		return out
	}
	if !res.Changes {
		out.Status = string(templates.StatusApplied)
		out.NothingToApply = true
		return out
	}
	started := false
	// The plan's working directory is initialised already: one init a
	// job.
	steps, err := x.applyProject(ctx, job, sp.Dir, sp.W, res.LocalPlan, res.Workdir, func() error {
		sp.Apply.Reset()
		started = true
		x.noteApplying(ctx, *job, out.Summary)
		return nil
	})
	out.Steps = append(out.Steps, steps...)
	if err != nil {
		o := Failure(templates.StatusApplyFailed, err, sp.Tail)
		o.Summary, o.Steps = out.Summary, out.Steps
		if started {
			o.ApplyText = terraform.StripANSI(sp.Apply.String())
		}
		return o
	}
	out.Status, out.ApplyText = string(templates.StatusApplied), terraform.StripANSI(sp.Apply.String())
	return out
}

// staleHeadError: the PR's head moved after the plan an apply was about to
// apply.
type staleHeadError struct{ head string }

func (e *staleHeadError) Error() string { return "the pull request's head moved to " + e.head }

// SetPlanState is records' SetPlanState, logging a failure: the job's
// outcome stands whether or not the plan's state could be written.
func (x *Jobs) SetPlanState(ctx context.Context, key string, st records.PlanState, jobID string) {
	if err := x.rec.SetPlanState(ctx, key, st, jobID); err != nil {
		x.log.Error("set plan state", "plan", key, "err", err)
	}
}

// CheckoutCommit puts commit sha of repo in dir, for a job that did not
// fetch it itself: an apply of a stored plan (head and base are the
// plan's, number its pull request's) or a drift check (head and base
// empty: a commit of a branch). Another replica may have made the plan or
// fetched the branch, and this replica's mirror may then lack the
// commits and the merge commit made for the plan: the commits are
// fetched and the merge made again, which gives the same commit on every
// replica (vcs/git fixes a merge's date), and must: a merge that comes
// out differently (another git version merging otherwise) is refused
// rather than applied.
func (x *Jobs) CheckoutCommit(ctx context.Context, repo vcs.Repo, number int, sha, base, head, dir string) error {
	err := x.git.Worktree(ctx, repo, sha, dir)
	if err == nil {
		return nil
	}
	x.DropWorktree(ctx, repo, dir)
	if head == "" {
		if ferr := x.git.Fetch(ctx, repo); ferr != nil {
			return fmt.Errorf("%w (then %w)", err, ferr)
		}
		return x.git.Worktree(ctx, repo, sha, dir)
	}
	pr := vcs.PullRequest{Repo: repo, Number: number, HeadSHA: head, BaseSHA: base}
	if ferr := x.fetchPR(ctx, pr); ferr != nil {
		return fmt.Errorf("%w (then %w)", err, ferr)
	}
	if sha == head || base == "" {
		return x.git.Worktree(ctx, repo, sha, dir)
	}
	made, merr := x.git.MergeWorktree(ctx, repo, base, head, dir)
	if merr != nil {
		return merr
	}
	if made != sha {
		return x.explain(templates.JobError{Kind: templates.JobErrMergeDiffers, Head: head, Base: base, Made: made, Planned: sha})
	}
	x.log.Info("made a plan's merge commit again on this replica", "repo", repo.FullName(), "base", base, "head", head)
	return nil
}
