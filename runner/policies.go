package runner

import (
	"context"

	"sort"
	"strings"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// approvalsFor returns the recorded approvers per set of a job's project
// and head, for display.
func (r *Runner) approvalsFor(ctx context.Context, j Job) map[string][]string {
	out := map[string][]string{}
	recs, err := records.List[PolicyApproval](ctx, r.rec, records.Approvals, records.ApprovalPrefix(j.Repo.FullName(), j.Number, j.HeadSHA)+j.Project.Name+"#")
	if err != nil {
		return out
	}
	for _, a := range recs {
		out[a.Set] = a.Users
	}
	// Where an owner's approving review counts, the approvers are only
	// known by asking: reviews come and go without a command.
	for _, res := range j.Outcome.Policies {
		if res.Failed() && res.Err == "" && r.policySet(res.Set).ReviewApproves {
			out[res.Set] = r.validApprovers(ctx, j, res)
		}
	}
	return out
}

// onReview shows what a review changes for policy sets an owner's approving
// review can lift: the PR's plan comments and `atoll/policy` check runs of
// the current head are brought up to date. Apply requirements read reviews
// afresh anyway.
func (r *Runner) onReview(ctx context.Context, e *vcs.ReviewEvent) error {
	if r.cfg.Policies == nil || !r.srv.RepoAllowed(e.PR.Repo.FullName()) {
		return nil
	}
	plans, err := r.rec.PlansOf(ctx, e.PR.Repo.FullName(), e.PR.Number)
	if err != nil {
		return err
	}
	for _, p := range plans {
		if p.HeadSHA != e.PR.HeadSHA || !r.reviewCanApprove(p.Policies) {
			continue
		}
		var j Job
		if ok, err := r.rec.Get(ctx, records.Jobs, p.PlanJob, &j); err != nil || !ok {
			continue
		}
		r.afterUpdate(ctx, j)
		r.policyCheck(ctx, j, r.projectResult(ctx, j))
	}
	return nil
}

// reviewCanApprove reports whether one of results is a failure that an
// owner's approving review may lift.
func (r *Runner) reviewCanApprove(results []policy.Result) bool {
	for _, res := range results {
		if res.Failed() && res.Err == "" && r.policySet(res.Set).ReviewApproves {
			return true
		}
	}
	return false
}

// validApprovers are the owners whose approval of res counts now: recorded
// approvals and, when the set allows it, approving reviews at the head.
// Each must still be an owner and still be allowed to run
// `atoll approve_policies` (so a reviewer with read permission does not
// count either).
func (r *Runner) validApprovers(ctx context.Context, job Job, res policy.Result) []string {
	set := r.policySet(res.Set)
	var a PolicyApproval
	_, _ = r.rec.Get(ctx, records.Approvals, records.ApprovalKey(job.Repo.FullName(), job.Number, job.HeadSHA, job.Project.Name, res.Set), &a)
	candidates := append([]string{}, a.Users...)
	if set.ReviewApproves && job.Number > 0 {
		if reviews, err := r.host.ListReviews(ctx, job.Repo, job.Number); err == nil {
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
		if !r.isOwner(ctx, job.Repo, u, res.Owners) {
			continue
		}
		if need, err := r.authorize(ctx, job.Repo, u, "approve_policies"); err != nil || need != "" {
			continue
		}
		out = append(out, u)
	}
	return out
}

func (r *Runner) policySet(name string) policy.SetConfig {
	if r.cfg.Policies != nil {
		for _, s := range r.cfg.Policies.Sets() {
			if s.Name == name {
				return s
			}
		}
	}
	return policy.SetConfig{Name: name}
}

// isOwner reports whether user is one of owners: a listed user, or an
// active member of a listed "org/team", asked of the code host now.
func (r *Runner) isOwner(ctx context.Context, repo vcs.Repo, user string, owners []string) bool {
	for _, o := range owners {
		if !strings.Contains(o, "/") && strings.EqualFold(o, user) {
			return true
		}
	}
	yes, _ := facts.MemberOfAny(ctx, r.host, repo, user, owners)
	return yes
}

// commandApprovePolicies records (or with --clear withdraws) an owner's
// approval of failing policy sets on the PR's current plans.
func (r *Runner) commandApprovePolicies(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command) error {
	plans, err := r.rec.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	var approved []templates.PolicyApproval
	var notOwner, authorRefused []string
	var owners []string
	touched := map[string]bool{}
	for _, p := range plans {
		if p.HeadSHA != pr.HeadSHA || len(filterProjects([]Project{p.Project}, cmd.Project, cmd.Dir, cmd.Workspace)) == 0 {
			continue
		}
		for _, res := range p.Policies {
			if !res.Failed() || (cmd.PolicySet != "" && res.Set != cmd.PolicySet) {
				continue
			}
			set := r.policySet(res.Set)
			if !r.isOwner(ctx, pr.Repo, user, res.Owners) {
				notOwner = append(notOwner, res.Set)
				owners = append(owners, res.Owners...)
				continue
			}
			if strings.EqualFold(user, pr.Author) && !set.AllowAuthorApproval {
				authorRefused = append(authorRefused, res.Set)
				continue
			}
			key := records.ApprovalKey(pr.Repo.FullName(), pr.Number, pr.HeadSHA, p.Project.Name, res.Set)
			if err := r.rec.RecordApproval(ctx, key, res.Set, p.Project.Name, user, cmd.Clear); err != nil {
				return err
			}
			approved = append(approved, templates.PolicyApproval{Set: res.Set, Project: p.Project.Name})
			touched[p.PlanJob] = true
		}
	}
	switch {
	case len(approved) > 0:
		for jobID := range touched {
			var j Job
			if ok, _ := r.rec.Get(ctx, records.Jobs, jobID, &j); ok {
				r.afterUpdate(ctx, j)
				// A new check run of the same name replaces the old one, so
				// branch protection that requires it sees the approval.
				r.policyCheck(ctx, j, r.projectResult(ctx, j))
			}
		}
		return r.say(ctx, pr.Repo, pr.Number, templates.PoliciesApproved{Approvals: approved, Commit: pr.HeadSHA, User: user, Withdrawn: cmd.Clear})
	case len(authorRefused) > 0:
		return r.say(ctx, pr.Repo, pr.Number, templates.AuthorCannotApprove{User: user, Sets: authorRefused})
	case len(notOwner) > 0:
		sort.Strings(owners)
		return r.say(ctx, pr.Repo, pr.Number, templates.NotPolicyOwner{User: user, Sets: dedupe(notOwner), Owners: dedupe(owners)})
	}
	return r.say(ctx, pr.Repo, pr.Number, templates.NoFailingPolicy{Selected: selection(cmd)})
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// policyCheck writes the `atoll/policy: NAME` check run of a plan job.
func (r *Runner) policyCheck(ctx context.Context, j Job, pr templates.ProjectResult) {
	out, err := r.tmpl.RenderCheckSummary(templates.CheckSummary{Stage: templates.CheckPolicy, Project: pr})
	if err != nil {
		return
	}
	conclusion := vcs.ConclusionSuccess
	for _, p := range pr.Policies {
		if p.Status == templates.PolicyFailed || p.Status == templates.PolicyError {
			if p.Enforcement == "advisory" {
				conclusion = vcs.ConclusionNeutral
				continue
			}
			conclusion = vcs.ConclusionFailure
			break
		}
	}
	_, err = r.host.CreateCheckRun(ctx, j.Repo, vcs.CheckRun{Name: out.Name, HeadSHA: j.HeadSHA, Status: vcs.CheckCompleted,
		Conclusion: conclusion, Title: out.Title, Summary: r.mask(out.Summary), DetailsURL: r.jobURL(j.ID)})
	if err != nil {
		r.log.Warn("policy check run", "job", j.ID, "err", err)
	}
}
