package runner

import (
	"context"
	"strings"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// onIssueCommand handles commands on plain issues: `atoll apply` and
// `atoll approve_policies` on a drift issue remediate it.
func (r *Runner) onIssueCommand(ctx context.Context, repo vcs.Repo, number int, labels []string, user string, cmd *command.Command) error {
	rec, ok := r.driftRecordOfIssue(ctx, repo, number, labels)
	if !ok {
		if cmd.Name == "help" {
			return r.reply(ctx, repo, number, "help.tmpl", templates.Help{})
		}
		return nil // not an issue of atoll's
	}
	switch cmd.Name {
	case "plan":
		return r.planOnIssue(ctx, repo, number, rec.Project, user)
	case "approve":
		return r.approveRemediation(ctx, repo, number, rec.Project, user, cmd.Clear)
	case "apply":
		return r.remediate(ctx, repo, number, rec.Project, user)
	case "approve_policies":
		return r.approveOnIssue(ctx, repo, number, rec.Project, user, cmd)
	case "help":
		return r.reply(ctx, repo, number, "help.tmpl", templates.Help{})
	case "version":
		return r.reply(ctx, repo, number, "version.tmpl", r.versionData())
	}
	return r.say(ctx, repo, number, templates.DriftIssueCommands{})
}

// driftRecordOfIssue finds the drift record an issue belongs to.
func (r *Runner) driftRecordOfIssue(ctx context.Context, repo vcs.Repo, number int, labels []string) (DriftRecord, bool) {
	for _, l := range labels {
		project, ok := strings.CutPrefix(l, "atoll:drift:")
		if !ok {
			continue
		}
		var rec DriftRecord
		if found, err := r.rec.Get(ctx, records.Drift, records.DriftKey(repo.FullName(), project), &rec); err == nil && found {
			return rec, true
		}
	}
	recs, err := records.List[DriftRecord](ctx, r.rec, records.Drift, repo.FullName()+"#")
	if err != nil {
		return DriftRecord{}, false
	}
	for _, rec := range recs {
		if rec.Issue == number {
			return rec, true
		}
	}
	return DriftRecord{}, false
}

// afterRemediation checks the project again, which closes the issue once
// it is in sync.
func (r *Runner) afterRemediation(ctx context.Context, run Run, jobs []Job) {
	for _, j := range jobs {
		if j.Outcome.Status == string(templates.StatusApplied) {
			if _, err := r.TriggerDrift(ctx, run.Repo.FullName(), j.Project.Name); err != nil {
				r.log.Error("drift check after remediation", "err", err)
			}
		}
	}
}

// approveOnIssue records an owner's approval of policy failures for the
// remediation of a drift issue at the default branch head.
func (r *Runner) approveOnIssue(ctx context.Context, repo vcs.Repo, number int, p Project, user string, cmd *command.Command) error {
	if r.cfg.Policies == nil {
		return r.say(ctx, repo, number, templates.NoPolicySets{})
	}
	full, head, err := r.driftRepo(ctx, repo)
	if err != nil {
		return err
	}
	var approved []string
	for _, set := range r.cfg.Policies.Sets() {
		if cmd.PolicySet != "" && set.Name != cmd.PolicySet {
			continue
		}
		if !r.isOwner(ctx, full, user, set.Owners) {
			continue
		}
		key := records.ApprovalKey(full.FullName(), number, head, p.Name, set.Name)
		if err := r.rec.RecordApproval(ctx, key, set.Name, p.Name, user, cmd.Clear); err != nil {
			return err
		}
		approved = append(approved, set.Name)
	}
	if len(approved) == 0 {
		return r.say(ctx, full, number, templates.NoPolicySetOwned{User: user})
	}
	return r.say(ctx, full, number, templates.RemediationPoliciesApproved{Sets: approved, Project: p.Name, Commit: head, User: user})
}
