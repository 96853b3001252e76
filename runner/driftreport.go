package runner

import (
	"context"
	"strings"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// reportDrift turns a finished drift run into issue lifecycles, check runs
// and the API's view of the run, once (see drift.Report).
func (r *Runner) reportDrift(ctx context.Context, run Run, jobs []Job) {
	drift.Report(ctx, r.rec, driftHooks{r}, r.log, run, jobs)
}

// driftHooks are the engine's parts of a drift report.
type driftHooks struct{ r *Runner }

func (h driftHooks) Issue(ctx context.Context, j Job, status string) (int, error) {
	return h.r.driftIssue(ctx, j, status)
}

func (h driftHooks) CheckRun(ctx context.Context, j Job, status string) {
	h.r.driftCheck(ctx, j, status)
}

func (h driftHooks) AutoRemediate(ctx context.Context, j Job, issue int) error {
	return h.r.autoRemediate(ctx, j.Repo, issue, j.Project)
}

func (h driftHooks) Done(repo, id string) { h.r.driftDone(repo, id) }

// driftIssue keeps the project's drift issue in step with a check (see
// drift.Tracker) and returns the issue's number.
func (r *Runner) driftIssue(ctx context.Context, j Job, status string) (int, error) {
	t := drift.Tracker{Host: r.host, Render: r.tmpl, Records: r.rec, Now: r.now, Mask: r.mask, Audit: r.auditDrift}
	return t.Track(ctx, j, status, r.projectResult(ctx, j))
}

// driftCheck writes the `atoll/drift: NAME` check run on the default
// branch head.
func (r *Runner) driftCheck(ctx context.Context, j Job, status string) {
	out, err := r.tmpl.RenderCheckSummary(templates.CheckSummary{Stage: templates.CheckDrift, Project: r.projectResult(ctx, j)})
	if err != nil {
		return
	}
	conclusion := map[string]string{DriftInSync: vcs.ConclusionSuccess, DriftDrifted: vcs.ConclusionNeutral, DriftError: vcs.ConclusionFailure}[status]
	_, err = r.host.CreateCheckRun(ctx, j.Repo, vcs.CheckRun{Name: out.Name, HeadSHA: j.Commit, Status: vcs.CheckCompleted,
		Conclusion: conclusion, Title: out.Title, Summary: r.mask(out.Summary), DetailsURL: r.jobURL(j.ID)})
	if err != nil {
		r.log.Warn("drift check run", "project", j.Project.Name, "err", err)
	}
}

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
