package runner

import (
	"context"
	"errors"
	"fmt"
	"github.com/atollhq/atoll/runner/codeowners"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/facts"
	"slices"
	"strings"
	"time"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// This file gathers the facts runner/gate decides from, and renders its
// reasons. The decision itself lives in runner/gate.

// baseConfig is the base branch's atoll.yaml (rc, of repository repo and
// base branch base) as the gate reads it. A project the file does not list
// has the server's requirements for that repository and branch (repo
// rules included) with the file's top-level changes.
func (r *Runner) baseConfig(repo, base string, rc RepoConfig) gate.BaseConfig {
	defaults := requirementNames(r.srv.ApplyRequirements)
	if rc.Defaults != nil {
		defaults = rc.Defaults
	} else if reqs := r.effectiveRequirements(repo, base, rc.Source.DefaultProject(".")); reqs != nil {
		defaults = reqs
	}
	bc := gate.BaseConfig{
		Requirements:    defaults,
		Reviewers:       gateRules(rc.Source.RequiredReviewers, "file", ""),
		ServerReviewers: gateRules(r.srv.RequiredReviewers, "server", ""),
		DefaultName:     func(dir, _ string) string { return dir },
	}
	for _, p := range rc.Projects {
		reqs := p.ApplyRequirements
		if reqs == nil {
			reqs = requirementNames(r.srv.ApplyRequirements)
		}
		bc.Projects = append(bc.Projects, gate.BaseProject{Name: p.Name, Dir: p.Dir, Workspace: p.Workspace,
			Requirements: reqs, Reviewers: gateRules(p.RequiredReviewers, "project", p.Name)})
	}
	return bc
}

// gateRules are reviewer rules of origin ("server", "file" or "project",
// with the project's name) as the gate takes them.
func gateRules(rules []config.ReviewerRule, origin, project string) []gate.ReviewerRule {
	var out []gate.ReviewerRule
	for _, rule := range rules {
		out = append(out, gate.ReviewerRule{Paths: rule.Paths, Teams: rule.Teams, Count: rule.Count,
			Origin: origin, File: RepoConfigFile, Project: project})
	}
	return out
}

// baseRules are the rules of project p as the base branch (branch
// baseRef at commit baseSHA) defines them; a base configuration that
// cannot be read gives the server's defaults, which are never looser than
// a repository's.
func (r *Runner) baseRules(ctx context.Context, repo vcs.Repo, baseSHA, baseRef string, p Project) gate.Rules {
	rc, err := r.repoConfig(ctx, repo, baseSHA, baseRef)
	if err != nil {
		r.log.Warn("base configuration unreadable: server rules apply", "repo", repo.FullName(), "ref", baseRef, "err", err)
		rc = RepoConfig{}
	}
	return gate.BaseRules(r.baseConfig(repo.FullName(), baseRef, rc), p.Dir, p.Workspace, p.Name)
}

// gateFacts are a pull request's facts the gate reads, gathered once per
// decision round.
type gateFacts struct {
	pr           gate.PR
	reviews      []gate.Review
	members      map[string]map[string]bool
	changed      []string
	owned        []gate.OwnedFiles
	ownersOn     bool
	ownersErr    string
	approvals    int
	dismissStale bool
}

// gatherGateFacts reads what the gate needs of a pull request: reviews
// with their authors' permissions, team memberships for every team the
// rules name, changed files, CODEOWNERS of the base branch, checks and the
// branch protection's required checks.
func (r *Runner) gatherGateFacts(ctx context.Context, pr vcs.PullRequest, rules []gate.Rules) (*gateFacts, error) {
	if pr.Mergeable == nil && !pr.Merged { // GitHub is still computing it: ask once more
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
		if again, err := r.host.GetPullRequest(ctx, pr.Repo, pr.Number); err == nil {
			again.Repo.InstallationID = pr.Repo.InstallationID
			pr = again
		}
	}
	f := &gateFacts{approvals: r.srv.Approvals, dismissStale: r.srv.DismissStaleApprovals, ownersOn: r.srv.CodeOwners,
		members: map[string]map[string]bool{}}
	f.pr = gate.PR{Author: pr.Author, HeadSHA: pr.HeadSHA, BaseRef: pr.BaseRef, Merged: pr.Merged,
		Mergeable: pr.Mergeable, MergeableState: pr.MergeableState, OwnChecks: "atoll/", Fork: pr.Fork(), HeadRepo: pr.HeadRepo,
		CheckBase: r.srv.CheckoutStrategy != "branch"}
	if !pr.Merged {
		head, err := r.host.BranchSHA(ctx, pr.Repo, pr.BaseRef)
		if err != nil {
			return nil, fmt.Errorf("head of %s: %w", pr.BaseRef, err)
		}
		f.pr.BaseHead = head
		if ok, err := r.git.IsAncestor(ctx, pr.Repo, head, pr.HeadSHA); err == nil && ok {
			f.pr.Undiverged = true
		}
		if needsMergeable(rules) && (pr.MergeableState == "blocked" || pr.MergeableState == "unstable") {
			runs, err := r.host.ListCheckRuns(ctx, pr.Repo, pr.HeadSHA)
			if err != nil {
				return nil, fmt.Errorf("checks of %s: %w", short(pr.HeadSHA), err)
			}
			for _, c := range runs {
				f.pr.Checks = append(f.pr.Checks, gate.Check{Name: c.Name, Passing: c.Status == vcs.CheckCompleted &&
					(c.Conclusion == vcs.ConclusionSuccess || c.Conclusion == vcs.ConclusionNeutral || c.Conclusion == vcs.ConclusionSkipped)})
			}
			if f.pr.RequiredChecks, err = r.host.RequiredStatusChecks(ctx, pr.Repo, pr.BaseRef); err != nil {
				return nil, fmt.Errorf("required checks of %s: %w", pr.BaseRef, err)
			}
		}
	}
	reviews, err := r.host.ListReviews(ctx, pr.Repo, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("reviews of #%d: %w", pr.Number, err)
	}
	var approvers []string
	for _, rv := range facts.LatestReviews(reviews) {
		g := gate.Review{User: rv.User, Approved: rv.State == vcs.ReviewApproved, CommitID: rv.CommitID, SubmittedAt: rv.SubmittedAt}
		if g.Approved {
			perm, err := r.host.UserPermission(ctx, pr.Repo, rv.User)
			if err != nil {
				return nil, fmt.Errorf("permission of %s: %w", rv.User, err)
			}
			r.auditReview(ctx, pr, rv.User, perm)
			g.Permission = string(perm)
			approvers = append(approvers, rv.User)
		}
		f.reviews = append(f.reviews, g)
	}
	teams := map[string]bool{}
	needFiles := r.srv.CodeOwners
	for _, rs := range rules {
		for _, rule := range rs.Reviewers {
			needFiles = true
			for _, t := range rule.Teams {
				teams[t] = true
			}
		}
	}
	if needFiles {
		files, err := facts.ChangedFiles(ctx, r.host, r.git, pr)
		if err != nil {
			return nil, err
		}
		f.changed = files
	}
	if r.srv.CodeOwners {
		// CODEOWNERS of the base branch as the pull request found it: a
		// pull request's own edits to it change nothing.
		co, err := codeowners.Read(ctx, r.host, pr.Repo, pr.BaseSHA)
		switch {
		case err != nil:
			f.ownersErr = err.Error()
		case co != nil:
			f.owned = ownedFiles(*co, f.changed)
			for _, o := range f.owned {
				for _, owner := range o.Owners {
					if strings.Contains(owner, "/") && !strings.Contains(owner, "@") {
						teams[owner] = true
					}
				}
			}
		}
	}
	for t := range teams {
		if !strings.Contains(t, "/") {
			continue
		}
		m := map[string]bool{}
		for _, u := range approvers {
			if yes, _ := facts.MemberOfAny(ctx, r.host, pr.Repo, u, []string{t}); yes {
				m[strings.ToLower(u)] = true
			}
		}
		f.members[strings.ToLower(t)] = m
	}
	return f, nil
}

func needsMergeable(rules []gate.Rules) bool {
	for _, rs := range rules {
		if slices.Contains(rs.Requirements, gate.ReqMergeable) {
			return true
		}
	}
	return false
}

// ownedFiles groups changed files by the CODEOWNERS rule deciding them.
func ownedFiles(co codeowners.File, changed []string) []gate.OwnedFiles {
	var out []gate.OwnedFiles
	byLine := map[int]int{}
	for _, file := range changed {
		rule, ok := co.Match(file)
		if !ok || len(rule.Owners) == 0 {
			continue
		}
		i, seen := byLine[rule.Line]
		if !seen {
			i = len(out)
			byLine[rule.Line] = i
			out = append(out, gate.OwnedFiles{Pattern: rule.Pattern, Owners: rule.Owners, File: co.File, Line: rule.Line})
		}
		out[i].Files = append(out[i].Files, file)
	}
	slices.SortFunc(out, func(a, b gate.OwnedFiles) int { return a.Line - b.Line })
	return out
}

// gatePolicies are a plan's policy results with the owners whose approval
// counts now.
func (r *Runner) gatePolicies(ctx context.Context, job Job, results []policy.Result) []gate.Policy {
	var out []gate.Policy
	for _, res := range results {
		g := gate.Policy{Set: res.Set, Failed: res.Failed(), Advisory: res.Enforcement == "advisory", Err: res.Err,
			Owners: res.Owners, Need: res.Approvals}
		for _, m := range res.Deny {
			if m.More > 0 {
				g.DenyMore = m.More
				continue
			}
			g.Deny = append(g.Deny, m.Msg)
		}
		if g.Failed && !g.Advisory && g.Err == "" {
			g.Approvers = r.validApprovers(ctx, job, res)
		}
		out = append(out, g)
	}
	return out
}

// decideForPR asks the gate about one project of a pull request. plan is
// nil for paths that plan and apply at once; results are the policy
// results to judge (the stored plan's); pendingDeps the projects of its
// depends_on to apply first.
func (r *Runner) decideForPR(ctx context.Context, path gate.Path, pr vcs.PullRequest, f *gateFacts, p Project, rules gate.Rules, plan *Plan, results []policy.Result, pendingDeps []string) gate.Decision {
	in := gate.Input{Path: path, Project: p.Name, Rules: rules, PR: &f.pr, Reviews: f.reviews, PendingDeps: pendingDeps, AllowForks: r.srv.AllowForkPRs,
		Approvals: f.approvals, DismissStale: f.dismissStale, Members: f.members, ChangedFiles: f.changed,
		Match: discovery.Match, CodeOwners: f.owned, CodeOwnersOn: f.ownersOn, CodeOwnersErr: f.ownersErr}
	if plan != nil {
		sum, err := r.planSHA256(ctx, *plan)
		in.Plan = &gate.Plan{HeadSHA: plan.HeadSHA, BaseSHA: plan.BaseSHA, FileMatches: err == nil && sum == plan.SHA256,
			ExtraArgs: plan.ExtraArgs, Created: plan.Created}
	}
	job := Job{Repo: pr.Repo, Number: pr.Number, Project: p, HeadSHA: pr.HeadSHA, PRAuthor: pr.Author}
	in.Policies = r.gatePolicies(ctx, job, results)
	return gate.Decide(in)
}

// decidePolicies asks the gate about a plan's policies alone, as a job
// does once more before it applies.
func (r *Runner) decidePolicies(ctx context.Context, path gate.Path, job Job, results []policy.Result) gate.Decision {
	return gate.Decide(gate.Input{Path: path, Project: job.Project.Name, Policies: r.gatePolicies(ctx, job, results)})
}

// renderReasons renders each reason through its template.
func (r *Runner) renderReasons(rs []gate.Reason) []string {
	out := make([]string, 0, len(rs))
	for _, reason := range rs {
		text, err := r.tmpl.Render(reason.Template(), reason)
		if err != nil {
			r.log.Error("render reason", "code", reason.Code, "err", err)
			text = "`" + string(reason.Code) + "`"
		}
		out = append(out, strings.TrimSpace(text))
	}
	return out
}

// refusedProject is a refused project as apply_refused.tmpl lists it.
func (r *Runner) refusedProject(name string, d gate.Decision) templates.RefusedProject {
	return templates.RefusedProject{Name: name, Unmet: r.renderReasons(d.Reasons)}
}

// errNotCleared: an apply job was about to start without the gate's
// clearance. It is a bug, never a user's doing.
var errNotCleared = errors.New("no clearance from the gate")

// startApply starts a run of apply jobs, each of whose projects needs a
// valid clearance in cleared, which only gate.Decide makes.
func (r *Runner) startApply(ctx context.Context, spec runSpec, cleared []gate.Clearance) (Run, error) {
	spec.Clearances = cleared
	return r.startRun(ctx, spec)
}

// clearApplies checks that every apply job has a valid clearance for its
// project among cleared, and gives each the path it was cleared on;
// startRun refuses a run otherwise.
func clearApplies(jobs []Job, cleared []gate.Clearance) error {
	for i, j := range jobs {
		if j.Kind != JobApply && j.Kind != JobPlanApply {
			continue
		}
		found := false
		for _, c := range cleared {
			if c.Valid() && c.Project() == j.Project.Name {
				jobs[i].Path, found = string(c.Path()), true
				break
			}
		}
		if !found {
			return fmt.Errorf("apply of %s: %w", j.Project.Name, errNotCleared)
		}
	}
	return nil
}

// gateMerged asks the gate about the projects of a merged pull request
// (after merge, or a retry): its reviews, with the rules of the base
// branch it merged into, and the policy results of its stored plans. It
// replies with what is unmet, and returns the projects cleared.
func (r *Runner) gateMerged(ctx context.Context, pr vcs.PullRequest, path gate.Path, projects []Project) ([]Project, []gate.Clearance, error) {
	rc, err := r.repoConfig(ctx, pr.Repo, pr.BaseSHA, pr.BaseRef)
	if err != nil {
		rc = RepoConfig{} // the server's rules, never looser than a repository's
	}
	base := r.baseConfig(pr.Repo.FullName(), pr.BaseRef, rc)
	rules := make([]gate.Rules, len(projects))
	for i, p := range projects {
		rules[i] = gate.BaseRules(base, p.Dir, p.Workspace, p.Name)
	}
	facts, err := r.gatherGateFacts(ctx, pr, rules)
	if err != nil {
		return nil, nil, err
	}
	plans, err := r.rec.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return nil, nil, err
	}
	var ok []Project
	var cleared []gate.Clearance
	var refused []templates.RefusedProject
	for i, p := range projects {
		var results []policy.Result
		for _, pl := range plans {
			if pl.Project.Name == p.Name && pl.HeadSHA == pr.HeadSHA {
				results = pl.Policies
			}
		}
		d := r.decideForPR(ctx, path, pr, facts, p, rules[i], nil, results, nil)
		if c, good := d.Clearance(); good {
			ok, cleared = append(ok, p), append(cleared, c)
			continue
		}
		refused = append(refused, r.refusedProject(p.Name, d))
	}
	if len(refused) > 0 {
		if err := r.reply(ctx, pr.Repo, pr.Number, "apply_refused.tmpl", templates.ApplyRefused{Projects: refused, Path: string(path)}); err != nil {
			r.log.Error("reply refusal", "pr", pr.Number, "err", err)
		}
	}
	return ok, cleared, nil
}
