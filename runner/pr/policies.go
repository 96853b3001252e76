package pr

import (
	"context"
	"sort"
	"strings"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// OnReview shows what a review changes for policy sets an owner's approving
// review can lift: the PR's plan comments and `atoll/policy` check runs of
// the current head are brought up to date. Apply requirements read reviews
// afresh anyway.
func (l *Life) OnReview(ctx context.Context, e *vcs.ReviewEvent) error {
	if !l.d.PoliciesConfigured || !l.d.Settings.RepoAllowed(e.PR.Repo.FullName()) {
		return nil
	}
	plans, err := l.d.Records.PlansOf(ctx, e.PR.Repo.FullName(), e.PR.Number)
	if err != nil {
		return err
	}
	for _, p := range plans {
		if p.HeadSHA != e.PR.HeadSHA || !l.d.Gate.ReviewCanApprove(p.Policies) {
			continue
		}
		var j records.Job
		if ok, err := l.d.Records.Get(ctx, records.Jobs, p.PlanJob, &j); err != nil || !ok {
			continue
		}
		l.d.Engine.RefreshPolicies(ctx, j)
	}
	return nil
}

// commandApprovePolicies records (or with --clear withdraws) an owner's
// approval of failing policy sets on the PR's current plans.
func (l *Life) commandApprovePolicies(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command) error {
	plans, err := l.d.Records.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	var approved []templates.PolicyApproval
	var notOwner, authorRefused []string
	var owners []string
	touched := map[string]bool{}
	for _, p := range plans {
		if p.HeadSHA != pr.HeadSHA || len(projects.Filter([]records.Project{p.Project}, cmd.Project, cmd.Dir, cmd.Workspace)) == 0 {
			continue
		}
		for _, res := range p.Policies {
			if !res.Failed() || (cmd.PolicySet != "" && res.Set != cmd.PolicySet) {
				continue
			}
			set := l.d.Gate.PolicySet(res.Set)
			if !l.d.Gate.IsOwner(ctx, pr.Repo, user, res.Owners) {
				notOwner = append(notOwner, res.Set)
				owners = append(owners, res.Owners...)
				continue
			}
			if strings.EqualFold(user, pr.Author) && !set.AllowAuthorApproval {
				authorRefused = append(authorRefused, res.Set)
				continue
			}
			key := records.ApprovalKey(pr.Repo.FullName(), pr.Number, pr.HeadSHA, p.Project.Name, res.Set)
			if err := l.d.Records.RecordApproval(ctx, key, res.Set, p.Project.Name, user, cmd.Clear); err != nil {
				return err
			}
			approved = append(approved, templates.PolicyApproval{Set: res.Set, Project: p.Project.Name})
			touched[p.PlanJob] = true
		}
	}
	switch {
	case len(approved) > 0:
		for jobID := range touched {
			var j records.Job
			if ok, _ := l.d.Records.Get(ctx, records.Jobs, jobID, &j); ok {
				// A new check run of the same name replaces the old one, so
				// branch protection that requires it sees the approval.
				l.d.Engine.RefreshPolicies(ctx, j)
			}
		}
		return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.PoliciesApproved{Approvals: approved, Commit: pr.HeadSHA, User: user, Withdrawn: cmd.Clear})
	case len(authorRefused) > 0:
		return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.AuthorCannotApprove{User: user, Sets: authorRefused})
	case len(notOwner) > 0:
		sort.Strings(owners)
		return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.NotPolicyOwner{User: user, Sets: dedupe(notOwner), Owners: dedupe(owners)})
	}
	return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.NoFailingPolicy{Selected: selection(cmd)})
}
