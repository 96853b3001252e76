package clearance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atollhq/atoll/runner/codeowners"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// BaseConfig is the base branch's atoll.yaml (rc, of repository repo and
// base branch base) as the gate reads it. A project the file does not list
// has the server's requirements for that repository and branch (repo
// rules included) with the file's top-level changes.
func (g *Gatherer) BaseConfig(repo, base string, rc projects.RepoConfig) gate.BaseConfig {
	defaults := g.d.DefaultRequirements
	if rc.Defaults != nil {
		defaults = rc.Defaults
	} else if reqs := projects.EffectiveRequirements(g.d.Server, repo, base, rc.Source.DefaultProject(".")); reqs != nil {
		defaults = reqs
	}
	bc := gate.BaseConfig{
		Requirements:    defaults,
		Reviewers:       gateRules(rc.Source.RequiredReviewers, "file", ""),
		ServerReviewers: gateRules(g.d.Server.RequiredReviewers, "server", ""),
		DefaultName:     func(dir, _ string) string { return dir },
	}
	for _, p := range rc.Projects {
		reqs := p.ApplyRequirements
		if reqs == nil {
			reqs = g.d.DefaultRequirements
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
		out = append(out, gate.ReviewerRule{ReviewerRule: rule,
			Origin: origin, File: projects.RepoConfigFile, Project: project})
	}
	return out
}

// BaseRules are the rules of project p as the base branch (branch
// baseRef at commit baseSHA) defines them; a base configuration that
// cannot be read gives the server's defaults, which are never looser than
// a repository's.
func (g *Gatherer) BaseRules(ctx context.Context, repo vcs.Repo, baseSHA, baseRef string, p records.Project) gate.Rules {
	rc, err := g.d.Loader.RepoConfig(ctx, repo, baseSHA, baseRef)
	if err != nil {
		g.d.Log.Warn("base configuration unreadable: server rules apply", "repo", repo.FullName(), "ref", baseRef, "err", err)
		rc = projects.RepoConfig{}
	}
	return gate.BaseRules(g.BaseConfig(repo.FullName(), baseRef, rc), p.Dir, p.Workspace, p.Name)
}

// Facts are a pull request's facts the gate reads, gathered once per
// decision round by Gather.
type Facts struct {
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

// Gather reads what the gate needs of a pull request to decide rules:
// reviews with their authors' permissions, team memberships for every
// team the rules (and CODEOWNERS) name, changed files, CODEOWNERS of the
// base branch, checks and the branch protection's required checks.
func (g *Gatherer) Gather(ctx context.Context, pr vcs.PullRequest, rules []gate.Rules) (*Facts, error) {
	host, srv := g.d.Host, g.d.Server
	if pr.Mergeable == nil && !pr.Merged { // GitHub is still computing it: ask once more
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
		if again, err := host.GetPullRequest(ctx, pr.Repo, pr.Number); err == nil {
			again.Repo.InstallationID = pr.Repo.InstallationID
			pr = again
		}
	}
	f := &Facts{approvals: srv.Approvals, dismissStale: srv.DismissStaleApprovals, ownersOn: srv.CodeOwners,
		members: map[string]map[string]bool{}}
	f.pr = gate.PR{Author: pr.Author, HeadSHA: pr.HeadSHA, BaseRef: pr.BaseRef, Merged: pr.Merged,
		Mergeable: pr.Mergeable, MergeableState: pr.MergeableState, OwnChecks: "atoll/", Fork: pr.Fork(), HeadRepo: pr.HeadRepo,
		CheckBase: srv.CheckoutStrategy != "branch"}
	if !pr.Merged {
		if err := g.mergeFacts(ctx, pr, rules, &f.pr); err != nil {
			return nil, err
		}
	}
	reviews, err := host.ListReviews(ctx, pr.Repo, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("reviews of #%d: %w", pr.Number, err)
	}
	var approvers []string
	for _, rv := range facts.LatestReviews(reviews) {
		r := gate.Review{User: rv.User, Approved: rv.State == vcs.ReviewApproved, CommitID: rv.CommitID, SubmittedAt: rv.SubmittedAt}
		if r.Approved {
			perm, err := host.UserPermission(ctx, pr.Repo, rv.User)
			if err != nil {
				return nil, fmt.Errorf("permission of %s: %w", rv.User, err)
			}
			g.d.Trail.Review(ctx, pr, rv.User, perm)
			r.Permission = string(perm)
			approvers = append(approvers, rv.User)
		}
		f.reviews = append(f.reviews, r)
	}
	teams := map[string]bool{}
	needFiles := srv.CodeOwners
	for _, rs := range rules {
		for _, rule := range rs.Reviewers {
			needFiles = true
			for _, t := range rule.Teams {
				teams[t] = true
			}
		}
	}
	if needFiles {
		if f.changed, err = facts.ChangedFiles(ctx, host, g.d.Git, pr); err != nil {
			return nil, err
		}
	}
	if srv.CodeOwners {
		// CODEOWNERS of the base branch as the pull request found it: a
		// pull request's own edits to it change nothing.
		co, err := codeowners.Read(ctx, host, pr.Repo, pr.BaseSHA)
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
			if yes, _ := facts.MemberOfAny(ctx, host, pr.Repo, u, []string{t}); yes {
				m[strings.ToLower(u)] = true
			}
		}
		f.members[strings.ToLower(t)] = m
	}
	return f, nil
}

// mergeFacts fills in what an open pull request's merge would meet: the
// base's head, whether the PR contains it, and (where a rule requires
// mergeable and GitHub reports the PR blocked or unstable) its checks and
// the base branch's required checks.
func (g *Gatherer) mergeFacts(ctx context.Context, pr vcs.PullRequest, rules []gate.Rules, out *gate.PR) error {
	head, err := g.d.Host.BranchSHA(ctx, pr.Repo, pr.BaseRef)
	if err != nil {
		return fmt.Errorf("head of %s: %w", pr.BaseRef, err)
	}
	out.BaseHead = head
	if ok, err := g.d.Git.IsAncestor(ctx, pr.Repo, head, pr.HeadSHA); err == nil && ok {
		out.Undiverged = true
	}
	if !needsMergeable(rules) || (pr.MergeableState != "blocked" && pr.MergeableState != "unstable") {
		return nil
	}
	runs, err := g.d.Host.ListCheckRuns(ctx, pr.Repo, pr.HeadSHA)
	if err != nil {
		return fmt.Errorf("checks of %s: %w", pr.HeadSHA[:min(len(pr.HeadSHA), 7)], err)
	}
	for _, c := range runs {
		out.Checks = append(out.Checks, gate.Check{Name: c.Name, Passing: c.Status == vcs.CheckCompleted &&
			(c.Conclusion == vcs.ConclusionSuccess || c.Conclusion == vcs.ConclusionNeutral || c.Conclusion == vcs.ConclusionSkipped)})
	}
	if out.RequiredChecks, err = g.d.Host.RequiredStatusChecks(ctx, pr.Repo, pr.BaseRef); err != nil {
		return fmt.Errorf("required checks of %s: %w", pr.BaseRef, err)
	}
	return nil
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
