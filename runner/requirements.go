package runner

import (
	"context"
	"slices"

	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Apply requirements a project may name.
const (
	ReqApproved       = gate.ReqApproved
	ReqMergeable      = gate.ReqMergeable
	ReqUndiverged     = gate.ReqUndiverged
	ReqPoliciesPassed = gate.ReqPoliciesPassed
)

// checkRequirements asks the gate about each plan of an open pull request
// (path comment). It returns every refused project with every unmet
// requirement, and a clearance for each plan that may be applied.
// Rules come from the base branch (rc), attached to each plan's dir and
// workspace.
func (r *Runner) checkRequirements(ctx context.Context, pr vcs.PullRequest, rc RepoConfig, plans []Plan) ([]templates.RefusedProject, []gate.Clearance, error) {
	base := r.baseConfig(pr.Repo.FullName(), pr.BaseRef, rc)
	rules := make([]gate.Rules, len(plans))
	for i, p := range plans {
		rules[i] = gate.BaseRules(base, p.Project.Dir, p.Project.Workspace, p.Project.Name)
	}
	facts, err := r.gatherGateFacts(ctx, pr, rules)
	if err != nil {
		return nil, nil, err
	}
	// depends_on: a project waits for the projects it depends on, unless
	// this apply applies them in an earlier execution order group.
	applying := map[string]int{}
	for _, p := range plans {
		applying[p.Project.Name] = p.Project.OrderGroup
	}
	var prPlans map[string]Plan
	var refused []templates.RefusedProject
	var cleared []gate.Clearance
	for i, p := range plans {
		var pending []string
		if len(p.Project.DependsOn) > 0 && p.Number > 0 {
			if prPlans == nil {
				prPlans = map[string]Plan{}
				all, err := r.rec.PlansOf(ctx, p.Repo, p.Number)
				if err != nil {
					return nil, nil, err
				}
				for _, q := range all {
					if q.State != PlanMerged {
						prPlans[q.Project.Name] = q
					}
				}
			}
			pending = pendingDependencies(p, prPlans, applying)
		}
		d := r.decideForPR(ctx, gate.PathComment, pr, facts, p.Project, rules[i], &p, p.Policies, pending)
		if c, ok := d.Clearance(); ok {
			cleared = append(cleared, c)
			continue
		}
		refused = append(refused, r.refusedProject(p.Project.Name, d))
	}
	return refused, cleared, nil
}

// unmetPlanRequirements lists the project's plan_requirements (approved,
// mergeable, undiverged) the pull request does not meet, rendered. They
// are judged by the gate, as the apply requirements are.
func (r *Runner) unmetPlanRequirements(ctx context.Context, pr vcs.PullRequest, reqs []string) ([]string, error) {
	if slices.Contains(reqs, ReqUndiverged) {
		if err := r.fetchPR(ctx, pr); err != nil { // the base head, to compare with
			return nil, err
		}
	}
	rules := gate.Rules{Requirements: reqs}
	f, err := r.gatherGateFacts(ctx, pr, []gate.Rules{rules})
	if err != nil {
		return nil, err
	}
	d := gate.Decide(gate.Input{Path: gate.PathComment, Rules: rules, PR: &f.pr, Reviews: f.reviews,
		Approvals: f.approvals, DismissStale: f.dismissStale, AllowForks: r.srv.AllowForkPRs})
	return r.renderReasons(d.Reasons), nil
}
