package runner

import (
	"context"
	"fmt"

	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// A drift remediation applies only a plan shown on its issue (`atoll plan`
// there), once a second person with the apply permission signed it off
// (`atoll approve`), or the applier belongs to a team the server lets
// remediate alone. auto_remediate applies without a comment only where the
// server turns it on for the repository.

// driftRepo is the full repository of a drift issue and its default
// branch head.
func (r *Runner) driftRepo(ctx context.Context, repo vcs.Repo) (vcs.Repo, string, error) {
	full, err := facts.RepoFacts(ctx, r.host, repo)
	if err != nil {
		return vcs.Repo{}, "", err
	}
	head, err := r.host.BranchSHA(ctx, full, full.DefaultBranch)
	if err != nil {
		return vcs.Repo{}, "", fmt.Errorf("head of %s: %w", full.DefaultBranch, err)
	}
	return full, head, nil
}

// planOnIssue plans the default branch head for a drift issue's project
// and shows the plan on the issue: the plan a remediation applies.
func (r *Runner) planOnIssue(ctx context.Context, repo vcs.Repo, issue int, p Project, user string) error {
	full, head, err := r.driftRepo(ctx, repo)
	if err != nil {
		return err
	}
	if l, ok, err := r.cfg.Store.Get(ctx, lockKey(Job{Repo: full, Project: p})); err == nil && ok {
		return r.reply(ctx, full, issue, "remediation.tmpl", templates.Remediation{Kind: templates.RemediationLocked, Project: p.Name, LockedBy: l.Owner.Number})
	}
	_, err = r.startRun(ctx, runSpec{Repo: full, Number: issue, Command: "remediation-plan", User: user, HeadSHA: head,
		Jobs: []Job{{Kind: JobDrift, Repo: full, Number: issue, Project: p, HeadSHA: head, Commit: head, User: user}}})
	return err
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

// approveRemediation records (or with clear withdraws) user's sign-off of
// the plan shown on a drift issue. Only users with the apply permission
// may sign off.
func (r *Runner) approveRemediation(ctx context.Context, repo vcs.Repo, issue int, p Project, user string, clear bool) error {
	var plan Plan
	found, err := r.rec.Get(ctx, records.Plans, records.PlanKey(repo.FullName(), issue, p.Name), &plan)
	if err != nil {
		return err
	}
	if !found || plan.State != PlanPlanned {
		return r.reply(ctx, repo, issue, "remediation.tmpl", templates.Remediation{Kind: templates.RemediationNoPlan, Project: p.Name})
	}
	if need, err := r.authorize(ctx, repo, user, "apply"); err != nil {
		return err
	} else if need != "" {
		return r.reply(ctx, repo, issue, "permission_denied.tmpl", templates.PermissionDenied{User: user, Command: "approve", Need: need})
	}
	if err := r.rec.RecordRemediationApproval(ctx, repo.FullName(), issue, p.Name, plan.PlanJob, user, clear); err != nil {
		return err
	}
	kind := templates.RemediationApproved
	if clear {
		kind = templates.RemediationWithdrawn
	}
	return r.reply(ctx, repo, issue, "remediation.tmpl", templates.Remediation{Kind: kind, Project: p.Name, User: user, Commit: plan.HeadSHA})
}

// remediate applies the plan shown on a drift issue when the gate clears
// it (path remediation).
func (r *Runner) remediate(ctx context.Context, repo vcs.Repo, issue int, p Project, user string) error {
	full, head, err := r.driftRepo(ctx, repo)
	if err != nil {
		return err
	}
	if l, ok, err := r.cfg.Store.Get(ctx, lockKey(Job{Repo: full, Project: p})); err == nil && ok {
		return r.reply(ctx, full, issue, "remediation.tmpl", templates.Remediation{Kind: templates.RemediationLocked, Project: p.Name, LockedBy: l.Owner.Number})
	}
	key := records.PlanKey(full.FullName(), issue, p.Name)
	var plan Plan
	shown, err := r.rec.Get(ctx, records.Plans, key, &plan)
	if err != nil {
		return err
	}
	if shown && plan.State == PlanApplied && !plan.HasChanges {
		return r.reply(ctx, full, issue, "remediation.tmpl", templates.Remediation{Kind: templates.RemediationNoChanges, Project: p.Name})
	}
	shown = shown && plan.State == PlanPlanned
	rem := &gate.Remediation{PlanShown: shown, PlanHead: plan.HeadSHA, Head: head, Applier: user}
	need, err := r.authorize(ctx, full, user, "apply")
	if err != nil {
		return err
	}
	rem.ApplierPermitted = need == ""
	rem.ApplierAlone, _ = facts.MemberOfAny(ctx, r.host, full, user, r.srv.Drift.RemediateAloneTeams)
	var a RemediationApproval
	if _, err := r.rec.Get(ctx, records.Approvals, records.RemediationApprovalKey(full.FullName(), issue, p.Name), &a); err != nil {
		return err
	}
	if shown && a.PlanJob == plan.PlanJob {
		for _, u := range a.Users {
			if need, err := r.authorize(ctx, full, u, "apply"); err == nil && need == "" {
				rem.Approvers = append(rem.Approvers, u)
			}
		}
	}
	in := gate.Input{Path: gate.PathRemediation, Project: p.Name, Remediation: rem}
	if shown {
		sum, err := r.planSHA256(ctx, plan)
		in.Plan = &gate.Plan{HeadSHA: plan.HeadSHA, FileMatches: err == nil && sum == plan.SHA256, Created: plan.Created}
		in.Policies = r.gatePolicies(ctx, Job{Repo: full, Number: issue, Project: p, HeadSHA: plan.HeadSHA}, plan.Policies)
	}
	d := gate.Decide(in)
	c, ok := d.Clearance()
	if !ok {
		return r.reply(ctx, full, issue, "apply_refused.tmpl", templates.ApplyRefused{Path: string(gate.PathRemediation),
			Projects: []templates.RefusedProject{r.refusedProject(p.Name, d)}})
	}
	// The claim and the run it starts are made under the issue's mutex,
	// as a PR's are: a claim left without its run is then known to be
	// left (releaseStaleClaims).
	defer r.prMu.lock(records.PRKey(full.FullName(), issue))()
	claimed, err := r.rec.ClaimPlan(ctx, key, func(cur Plan) bool { return cur.PlanJob == plan.PlanJob })
	if err != nil {
		return err
	}
	if !claimed {
		return r.reply(ctx, full, issue, "remediation.tmpl", templates.Remediation{Kind: templates.RemediationBusy, Project: p.Name})
	}
	bind := func(ctx context.Context, jobs []Job) {
		for _, j := range jobs {
			r.setPlanState(ctx, key, PlanApplying, j.ID)
		}
	}
	_, err = r.startApply(ctx, runSpec{Repo: full, Number: issue, Command: "remediate", User: user, HeadSHA: plan.HeadSHA,
		Jobs:        []Job{{Kind: JobApply, Repo: full, Number: issue, Project: p, HeadSHA: plan.HeadSHA, Commit: plan.Commit, User: user}},
		BeforeQueue: bind}, []gate.Clearance{c})
	if err != nil {
		r.setPlanState(ctx, key, PlanPlanned, "-")
	}
	return err
}

// autoRemediate plans and applies a drifted project without a comment,
// when the server turns auto_remediate on for the repository (path
// auto_remediate); the run is recorded as "auto-remediate" by atoll.
// A refusal is said once per issue.
func (r *Runner) autoRemediate(ctx context.Context, repo vcs.Repo, issue int, p Project) error {
	full, head, err := r.driftRepo(ctx, repo)
	if err != nil {
		return err
	}
	if _, ok, err := r.cfg.Store.Get(ctx, lockKey(Job{Repo: full, Project: p})); err == nil && ok {
		return nil // a pull request holds it: its apply comes first
	}
	d := gate.Decide(gate.Input{Path: gate.PathAutoRemediate, Project: p.Name,
		Remediation: &gate.Remediation{AutoAllowed: drift.AutoRemediateAllowed(r.srv.Drift.AutoRemediateRepos, full.FullName())}})
	c, ok := d.Clearance()
	if !ok {
		first, err := r.rec.Once(ctx, full.FullName(), issue, "auto-refused", []byte("1"))
		if err != nil {
			return err
		}
		if !first {
			return nil
		}
		return r.reply(ctx, full, issue, "apply_refused.tmpl", templates.ApplyRefused{Path: string(gate.PathAutoRemediate),
			Projects: []templates.RefusedProject{r.refusedProject(p.Name, d)}})
	}
	_, err = r.startApply(ctx, runSpec{Repo: full, Number: issue, Command: "auto-remediate", User: "atoll", HeadSHA: head,
		Jobs: []Job{{Kind: JobPlanApply, Repo: full, Number: issue, Project: p, HeadSHA: head, Commit: head, User: "atoll"}}},
		[]gate.Clearance{c})
	return err
}
