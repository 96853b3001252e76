package runner

import (
	"context"
	"io"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// The engine's side of a drift check: the body of a drift job, run by a
// worker. Scheduling, starting, recovering and reporting drift checks
// live in runner/drift (bridge_drift.go).

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

// storeIssuePlan stores the plan a drift job made on an issue, with its
// policy results, as the plan `atoll apply` on that issue applies.
func (r *Runner) storeIssuePlan(ctx context.Context, job *Job, res planResult, out *Outcome) {
	out.Policies = r.evaluatePolicies(ctx, *job, vcs.PullRequest{Repo: job.Repo}, res.planJSON)
	plan := Plan{Repo: job.Repo.FullName(), Number: job.Number, Project: job.Project, HeadSHA: job.Commit,
		BaseSHA: job.Commit, Commit: job.Commit, File: res.planFile, SHA256: res.sha256, HasChanges: res.changes,
		Summary: out.Summary, Policies: out.Policies, PlanJob: job.ID, State: PlanPlanned, Created: r.now()}
	if !res.changes {
		plan.State = PlanApplied
	}
	if err := r.rec.Put(ctx, records.Plans, records.PlanKey(plan.Repo, plan.Number, job.Project.Name), plan); err != nil {
		r.log.Error("store remediation plan", "issue", job.Number, "err", err)
	}
}
