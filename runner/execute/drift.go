package execute

import (
	"context"
	"io"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// LockReader finds the lock held on a project, if any (the runner's
// Store): a drift check names the pull request holding it.
type LockReader interface {
	Get(ctx context.Context, k locks.Key) (locks.Lock, bool, error)
}

// Drift plans job's project of the default branch at job.Commit; the
// plan changes nothing. A project locked by an open pull request is still
// checked, and its outcome names the lock's holder. On a drift issue
// (job.Number > 0, `atoll plan` there) the plan is stored, with its
// policy results, as the plan `atoll apply` on that issue applies. The
// outcome's Hash identifies the drifted resources' changes.
func (x *Jobs) Drift(ctx context.Context, job *records.Job, log io.Writer) records.Outcome {
	sp, done := x.NewJobSpace(ctx, *job, log, false)
	defer done()
	var holder *records.LockHolder
	if l, ok, err := x.cfg.Locks.Get(ctx, LockKey(*job)); err == nil && ok {
		holder = &records.LockHolder{Repo: l.Owner.Repo, Number: l.Owner.Number, Author: l.Owner.Author}
	}
	if err := x.CheckoutCommit(ctx, job.Repo, 0, job.Commit, "", "", sp.Dir); err != nil {
		o := Failure(templates.StatusPlanError, Step("checkout", err), sp.Tail)
		o.LockedBy = holder
		return o
	}
	res, err := x.PlanProject(ctx, job, sp.Dir, sp.W, job.RefreshOnly)
	if err != nil {
		o := Failure(templates.StatusPlanError, err, sp.Tail)
		o.LockedBy = holder
		return o
	}
	out := res.Outcome
	out.LockedBy = holder
	if job.Number > 0 { // `atoll plan` on a drift issue: the plan a remediation applies
		x.storeIssuePlan(ctx, job, res, &out)
	}
	if res.Changes {
		if h, err := terraform.ResourceChangesHash(res.PlanJSON); err == nil {
			out.Hash = h
		}
	}
	return out
}

// storeIssuePlan stores the plan a drift job made on an issue, with its
// policy results, as the plan `atoll apply` on that issue applies.
func (x *Jobs) storeIssuePlan(ctx context.Context, job *records.Job, res PlanResult, out *records.Outcome) {
	out.Policies = x.EvaluatePolicies(ctx, *job, vcs.PullRequest{Repo: job.Repo}, res.PlanJSON)
	plan := records.Plan{Repo: job.Repo.FullName(), Number: job.Number, Project: job.Project, HeadSHA: job.Commit,
		BaseSHA: job.Commit, Commit: job.Commit, File: res.File, SHA256: res.SHA256, HasChanges: res.Changes,
		Summary: out.Summary, Policies: out.Policies, PlanJob: job.ID, State: records.PlanPlanned, Created: x.now()}
	if !res.Changes {
		plan.State = records.PlanApplied
	}
	if err := x.rec.Put(ctx, records.Plans, records.PlanKey(plan.Repo, plan.Number, job.Project.Name), plan); err != nil {
		x.log.Error("store remediation plan", "issue", job.Number, "err", err)
	}
}
