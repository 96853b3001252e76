package clearance

import (
	"context"
	"strings"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// PolicySet is the server's policy set called name; a set it does not
// know has only its name.
func (g *Gatherer) PolicySet(name string) policy.SetConfig {
	if g.d.Policies != nil {
		for _, s := range g.d.Policies.Sets() {
			if s.Name == name {
				return s
			}
		}
	}
	return policy.SetConfig{Name: name}
}

// ReviewCanApprove reports whether one of results is a failure that an
// owner's approving review may lift.
func (g *Gatherer) ReviewCanApprove(results []policy.Result) bool {
	for _, res := range results {
		if g.reviewApproves(res) {
			return true
		}
	}
	return false
}

// reviewApproves reports whether res is a failure an owner's approving
// review may lift.
func (g *Gatherer) reviewApproves(res policy.Result) bool {
	return res.Failed() && res.Err == "" && g.PolicySet(res.Set).ReviewApproves
}

// ApprovalsFor returns the approvers per set of job j's project and head
// that count, for display: the recorded ones, and where an owner's
// approving review counts, the owners whose approval counts now.
func (g *Gatherer) ApprovalsFor(ctx context.Context, j records.Job) map[string][]string {
	out := map[string][]string{}
	recs, err := records.List[records.PolicyApproval](ctx, g.d.Records, records.Approvals, records.ApprovalPrefix(j.Repo.FullName(), j.Number, j.HeadSHA)+j.Project.Name+"#")
	if err != nil {
		return out
	}
	for _, a := range recs {
		out[a.Set] = a.Users
	}
	// Where an owner's approving review counts, the approvers are only
	// known by asking: reviews come and go without a command.
	for _, res := range j.Outcome.Policies {
		if g.reviewApproves(res) {
			out[res.Set] = g.ValidApprovers(ctx, j, res)
		}
	}
	return out
}

// ValidApprovers are the owners whose approval of res counts now: recorded
// approvals and, when the set allows it, approving reviews at the head.
// Each must still be an owner and still be allowed to run
// `atoll approve_policies` (so a reviewer with read permission does not
// count either); the PR's author counts only where the set allows it.
func (g *Gatherer) ValidApprovers(ctx context.Context, job records.Job, res policy.Result) []string {
	set := g.PolicySet(res.Set)
	var a records.PolicyApproval
	_, _ = g.d.Records.Get(ctx, records.Approvals, records.ApprovalKey(job.Repo.FullName(), job.Number, job.HeadSHA, job.Project.Name, res.Set), &a)
	candidates := append([]string{}, a.Users...)
	if set.ReviewApproves && job.Number > 0 {
		if reviews, err := g.d.Host.ListReviews(ctx, job.Repo, job.Number); err == nil {
			for _, rv := range facts.LatestReviews(reviews) {
				if rv.State == vcs.ReviewApproved && rv.CommitID == job.HeadSHA {
					candidates = append(candidates, rv.User)
				}
			}
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, u := range candidates {
		key := strings.ToLower(u)
		if seen[key] {
			continue
		}
		seen[key] = true
		if strings.EqualFold(u, job.PRAuthor) && !set.AllowAuthorApproval {
			continue
		}
		if !g.IsOwner(ctx, job.Repo, u, res.Owners) {
			continue
		}
		if need, err := g.d.Engine.Authorize(ctx, job.Repo, u, "approve_policies"); err != nil || need != "" {
			continue
		}
		out = append(out, u)
	}
	return out
}

// IsOwner reports whether user is one of owners: a listed user, or an
// active member of a listed "org/team", asked of the code host now.
func (g *Gatherer) IsOwner(ctx context.Context, repo vcs.Repo, user string, owners []string) bool {
	for _, o := range owners {
		if !strings.Contains(o, "/") && strings.EqualFold(o, user) {
			return true
		}
	}
	yes, _ := facts.MemberOfAny(ctx, g.d.Host, repo, user, owners)
	return yes
}

// PolicyChecksOff reports whether policy checks are turned off for job's
// project: by the server's repo_rules (policy_check: false), or by the
// repository file's policy_check: false where those rules list
// policy_check in allowed_overrides. The file alone never turns them off.
func (g *Gatherer) PolicyChecksOff(ctx context.Context, job records.Job) bool {
	rs := config.RepoSettings{PolicyCheck: true}
	if len(g.d.Server.RepoRules) > 0 {
		rs = g.d.Server.RepoSettings(job.Repo.FullName(), g.d.Engine.BaseRefOf(ctx, job))
	}
	if !rs.PolicyCheck {
		return true
	}
	p := job.Project.PolicyCheck
	return p != nil && !*p && rs.MayOverride(config.OverridePolicyCheck)
}

// ScopedMandatory keeps the results of the mandatory sets the server
// scopes to the repository by name (their `repos`): with policy checks
// off, those still run, since the server asked for them for this
// repository in particular.
func (g *Gatherer) ScopedMandatory(results []policy.Result) []policy.Result {
	var out []policy.Result
	for _, res := range results {
		set := g.PolicySet(res.Set)
		if set.Enforcement != policy.Advisory && len(set.Repos) > 0 {
			out = append(out, res)
		}
	}
	return out
}
