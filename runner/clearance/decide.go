package clearance

import (
	"context"
	"slices"
	"strings"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/order"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Policies are a plan's policy results (of job's project and head) as the
// gate takes them, with the owners whose approval counts now.
func (g *Gatherer) Policies(ctx context.Context, job records.Job, results []policy.Result) []gate.Policy {
	var out []gate.Policy
	for _, res := range results {
		p := gate.Policy{Set: res.Set, Failed: res.Failed(), Advisory: res.Enforcement == "advisory", Err: res.Err,
			Owners: res.Owners, Need: res.Approvals}
		for _, m := range res.Deny {
			if m.More > 0 {
				p.DenyMore = m.More
				continue
			}
			p.Deny = append(p.Deny, m.Msg)
		}
		if p.Failed && !p.Advisory && p.Err == "" {
			p.Approvers = g.ValidApprovers(ctx, job, res)
		}
		out = append(out, p)
	}
	return out
}

// ForPR asks the gate about one project p of a pull request, with the
// facts f gathered for it and its base branch's rules. plan is nil for
// paths that plan and apply at once; results are the policy results to
// judge (the stored plan's); pendingDeps the projects of its depends_on to
// apply first.
func (g *Gatherer) ForPR(ctx context.Context, path gate.Path, pr vcs.PullRequest, f *Facts, p records.Project, rules gate.Rules, plan *records.Plan, results []policy.Result, pendingDeps []string) gate.Decision {
	in := gate.Input{Path: path, Project: p.Name, Rules: rules, PR: &f.pr, Reviews: f.reviews, PendingDeps: pendingDeps, AllowForks: g.d.Server.AllowForkPRs,
		Approvals: f.approvals, DismissStale: f.dismissStale, Members: f.members, ChangedFiles: f.changed,
		Match: discovery.Match, CodeOwners: f.owned, CodeOwnersOn: f.ownersOn, CodeOwnersErr: f.ownersErr}
	if plan != nil {
		sum, err := g.d.Engine.PlanSHA256(ctx, *plan)
		in.Plan = &gate.Plan{HeadSHA: plan.HeadSHA, BaseSHA: plan.BaseSHA, FileMatches: err == nil && sum == plan.SHA256,
			ExtraArgs: plan.ExtraArgs, Created: plan.Created}
	}
	job := records.Job{Repo: pr.Repo, Number: pr.Number, Project: p, HeadSHA: pr.HeadSHA, PRAuthor: pr.Author}
	in.Policies = g.Policies(ctx, job, results)
	return gate.Decide(in)
}

// DecidePolicies asks the gate about a plan's policies alone, as a job
// does once more before it applies.
func (g *Gatherer) DecidePolicies(ctx context.Context, path gate.Path, job records.Job, results []policy.Result) gate.Decision {
	return gate.Decide(gate.Input{Path: path, Project: job.Project.Name, Policies: g.Policies(ctx, job, results)})
}

// RenderReasons renders each reason through its template; a reason whose
// template fails shows as its code.
func (g *Gatherer) RenderReasons(rs []gate.Reason) []string {
	out := make([]string, 0, len(rs))
	for _, reason := range rs {
		text, err := g.d.Templates.Render(reason.Template(), reason)
		if err != nil {
			g.d.Log.Error("render reason", "code", reason.Code, "err", err)
			text = "`" + string(reason.Code) + "`"
		}
		out = append(out, strings.TrimSpace(text))
	}
	return out
}

// RefusedProject is a refused project as apply_refused.tmpl lists it.
func (g *Gatherer) RefusedProject(name string, d gate.Decision) templates.RefusedProject {
	return templates.RefusedProject{Name: name, Unmet: g.RenderReasons(d.Reasons)}
}

// Merged asks the gate about the projects of a merged pull request (after
// merge, or a retry): its reviews, with the rules of the base branch it
// merged into, and the policy results of its stored plans. It replies
// with what is unmet, and returns the projects cleared with their
// clearances.
func (g *Gatherer) Merged(ctx context.Context, pr vcs.PullRequest, path gate.Path, ps []records.Project) ([]records.Project, []gate.Clearance, error) {
	rc, err := g.d.Loader.RepoConfig(ctx, pr.Repo, pr.BaseSHA, pr.BaseRef)
	if err != nil {
		rc = projects.RepoConfig{} // the server's rules, never looser than a repository's
	}
	base := g.BaseConfig(pr.Repo.FullName(), pr.BaseRef, rc)
	rules := make([]gate.Rules, len(ps))
	for i, p := range ps {
		rules[i] = gate.BaseRules(base, p.Dir, p.Workspace, p.Name)
	}
	f, err := g.Gather(ctx, pr, rules)
	if err != nil {
		return nil, nil, err
	}
	plans, err := g.d.Records.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return nil, nil, err
	}
	var ok []records.Project
	var cleared []gate.Clearance
	var refused []templates.RefusedProject
	for i, p := range ps {
		var results []policy.Result
		for _, pl := range plans {
			if pl.Project.Name == p.Name && pl.HeadSHA == pr.HeadSHA {
				results = pl.Policies
			}
		}
		d := g.ForPR(ctx, path, pr, f, p, rules[i], nil, results, nil)
		if c, good := d.Clearance(); good {
			ok, cleared = append(ok, p), append(cleared, c)
			continue
		}
		refused = append(refused, g.RefusedProject(p.Name, d))
	}
	if len(refused) > 0 {
		if err := g.d.View.Reply(ctx, pr.Repo, pr.Number, "apply_refused.tmpl", templates.ApplyRefused{Projects: refused, Path: string(path)}); err != nil {
			g.d.Log.Error("reply refusal", "pr", pr.Number, "err", err)
		}
	}
	return ok, cleared, nil
}

// Requirements asks the gate about each plan of an open pull request
// (path comment). It returns every refused project with every unmet
// requirement, and a clearance for each plan that may be applied. Rules
// come from the base branch (rc), attached to each plan's dir and
// workspace.
func (g *Gatherer) Requirements(ctx context.Context, pr vcs.PullRequest, rc projects.RepoConfig, plans []records.Plan) ([]templates.RefusedProject, []gate.Clearance, error) {
	base := g.BaseConfig(pr.Repo.FullName(), pr.BaseRef, rc)
	rules := make([]gate.Rules, len(plans))
	for i, p := range plans {
		rules[i] = gate.BaseRules(base, p.Project.Dir, p.Project.Workspace, p.Project.Name)
	}
	f, err := g.Gather(ctx, pr, rules)
	if err != nil {
		return nil, nil, err
	}
	// depends_on: a project waits for the projects it depends on, unless
	// this apply applies them in an earlier execution order group.
	applying := map[string]int{}
	for _, p := range plans {
		applying[p.Project.Name] = p.Project.OrderGroup
	}
	var prPlans map[string]records.Plan
	var refused []templates.RefusedProject
	var cleared []gate.Clearance
	for i, p := range plans {
		var pending []string
		if len(p.Project.DependsOn) > 0 && p.Number > 0 {
			if prPlans == nil {
				prPlans = map[string]records.Plan{}
				all, err := g.d.Records.PlansOf(ctx, p.Repo, p.Number)
				if err != nil {
					return nil, nil, err
				}
				for _, q := range all {
					if q.State != records.PlanMerged {
						prPlans[q.Project.Name] = q
					}
				}
			}
			pending = order.PendingDependencies(p, prPlans, applying)
		}
		d := g.ForPR(ctx, gate.PathComment, pr, f, p.Project, rules[i], &p, p.Policies, pending)
		if c, ok := d.Clearance(); ok {
			cleared = append(cleared, c)
			continue
		}
		refused = append(refused, g.RefusedProject(p.Project.Name, d))
	}
	return refused, cleared, nil
}

// UnmetPlanRequirements lists the project's plan_requirements (approved,
// mergeable, undiverged) the pull request does not meet, rendered. They
// are judged by the gate, as the apply requirements are.
func (g *Gatherer) UnmetPlanRequirements(ctx context.Context, pr vcs.PullRequest, reqs []string) ([]string, error) {
	if slices.Contains(reqs, gate.ReqUndiverged) {
		if err := g.d.Loader.FetchPR(ctx, pr); err != nil { // the base head, to compare with
			return nil, err
		}
	}
	rules := gate.Rules{Requirements: reqs}
	f, err := g.Gather(ctx, pr, []gate.Rules{rules})
	if err != nil {
		return nil, err
	}
	d := gate.Decide(gate.Input{Path: gate.PathComment, Rules: rules, PR: &f.pr, Reviews: f.reviews,
		Approvals: f.approvals, DismissStale: f.dismissStale, AllowForks: g.d.Server.AllowForkPRs})
	return g.RenderReasons(d.Reasons), nil
}
