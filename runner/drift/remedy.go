package drift

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/config"
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
// server turns it on for the repository. Every apply goes through the
// gate: gate.Decide makes the clearance Applier.StartApply needs.

// Applier is what remediations ask of the engine to plan and apply.
type Applier interface {
	// StartRun stores a run of spec (never one with an apply job) and
	// queues its jobs.
	StartRun(ctx context.Context, spec records.RunSpec) (records.Run, error)
	// StartApply starts a run of apply jobs, each cleared by the gate
	// (one clearance per job's project); it refuses one not cleared.
	StartApply(ctx context.Context, spec records.RunSpec, cleared []gate.Clearance) (records.Run, error)
	// LockIssue serializes the handling of one issue (by records.PRKey)
	// with its pull-request-like state, across replicas; call the
	// returned function to unlock.
	LockIssue(key string) (unlock func())
	// LockedBy is the number of the pull request holding a project's
	// apply lock (false: none).
	LockedBy(ctx context.Context, repo vcs.Repo, p records.Project) (int, bool)
}

// Plans is what remediations do to the stored plans they apply
// (execute.Jobs).
type Plans interface {
	// SetPlanState moves a stored plan (by records.PlanKey) to st, bound
	// to job jobID ("-" unbinds it).
	SetPlanState(ctx context.Context, key string, st records.PlanState, jobID string)
	// PlanSHA256 is the checksum of a stored plan's file.
	PlanSHA256(ctx context.Context, p records.Plan) (string, error)
}

// Authorizer tells who may run a command (pr.Life).
type Authorizer interface {
	// Authorize returns "" when user may run cmd ("apply") on repo, else
	// the permission needed.
	Authorize(ctx context.Context, repo vcs.Repo, user, cmd string) (need string, err error)
}

// Gate is what remediations ask of the apply gate's facts
// (clearance.Gatherer).
type Gate interface {
	// IsOwner reports whether user is among a policy set's owners.
	IsOwner(ctx context.Context, repo vcs.Repo, user string, owners []string) bool
	// Policies are a plan's policy results as the gate reads them (with
	// the approvals recorded for job).
	Policies(ctx context.Context, job records.Job, results []policy.Result) []gate.Policy
	// RefusedProject is a gate's refusal of a project as users read it.
	RefusedProject(name string, d gate.Decision) templates.RefusedProject
}

// PolicySets are the server's policy sets (policy.Engine).
type PolicySets interface {
	Sets() []policy.SetConfig
}

// Replier posts atoll's answers on an issue (view.View).
type Replier interface {
	// Reply renders template name with data as a comment.
	Reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error
	// Say posts a message as a comment.
	Say(ctx context.Context, repo vcs.Repo, number int, m templates.Message) error
}

// Remediations handles the commands on drift issues (plan, approve,
// apply, approve_policies) and auto-remediation. Every field is
// required but PolicySets (nil: none configured) and Version.
type Remediations struct {
	Records records.Records
	// Repos is the code host: a repository's facts, a branch's head.
	Repos Host
	Apply Applier
	Plans Plans
	Perms Authorizer
	// Teams answers team membership (remediate_alone_teams).
	Teams      facts.TeamAsker
	Gate       Gate
	PolicySets PolicySets
	Reply      Replier
	// Version is what `atoll version` answers.
	Version templates.Version
	// Trigger starts a drift check of one project (Checker.Trigger).
	Trigger func(ctx context.Context, repo, project string) (string, error)
	// Drift is the server's drift settings (remediate_alone_teams,
	// auto_remediate_repos).
	Drift config.Drift
	Log   *slog.Logger
}

// OnIssueCommand handles a command on a plain issue: on a drift issue
// (found by its labels or atoll's drift records) `atoll plan` shows the
// plan a remediation applies, `atoll approve` signs it off, `atoll apply`
// remediates, `atoll approve_policies` approves its policy failures;
// help and version answer anywhere; any other command on a drift issue
// is answered with the commands it takes, and issues not atoll's are left
// alone.
func (m *Remediations) OnIssueCommand(ctx context.Context, repo vcs.Repo, number int, labels []string, user string, cmd *command.Command) error {
	rec, ok := m.recordOfIssue(ctx, repo, number, labels)
	if !ok {
		if cmd.Name == "help" {
			return m.Reply.Reply(ctx, repo, number, "help.tmpl", templates.Help{})
		}
		return nil // not an issue of atoll's
	}
	switch cmd.Name {
	case "plan":
		return m.planOnIssue(ctx, repo, number, rec.Project, user)
	case "approve":
		return m.approveRemediation(ctx, repo, number, rec.Project, user, cmd.Clear)
	case "apply":
		return m.Remediate(ctx, repo, number, rec.Project, user)
	case "approve_policies":
		return m.approveOnIssue(ctx, repo, number, rec.Project, user, cmd)
	case "help":
		return m.Reply.Reply(ctx, repo, number, "help.tmpl", templates.Help{})
	case "version":
		return m.Reply.Reply(ctx, repo, number, "version.tmpl", m.Version)
	}
	return m.Reply.Say(ctx, repo, number, templates.DriftIssueCommands{})
}

// recordOfIssue finds the drift record an issue belongs to.
func (m *Remediations) recordOfIssue(ctx context.Context, repo vcs.Repo, number int, labels []string) (records.DriftRecord, bool) {
	for _, l := range labels {
		project, ok := strings.CutPrefix(l, LabelDrift+":")
		if !ok {
			continue
		}
		var rec records.DriftRecord
		if found, err := m.Records.Get(ctx, records.Drift, records.DriftKey(repo.FullName(), project), &rec); err == nil && found {
			return rec, true
		}
	}
	recs, err := records.List[records.DriftRecord](ctx, m.Records, records.Drift, repo.FullName()+"#")
	if err != nil {
		return records.DriftRecord{}, false
	}
	for _, rec := range recs {
		if rec.Issue == number {
			return rec, true
		}
	}
	return records.DriftRecord{}, false
}

// AfterRemediation checks each project a remediation applied again,
// which closes its issue once it is in sync.
func (m *Remediations) AfterRemediation(ctx context.Context, run records.Run, jobs []records.Job) {
	for _, j := range jobs {
		if j.Outcome.Status == string(templates.StatusApplied) {
			if _, err := m.Trigger(ctx, run.Repo.FullName(), j.Project.Name); err != nil {
				m.Log.Error("drift check after remediation", "err", err)
			}
		}
	}
}

// approveOnIssue records an owner's approval of policy failures for the
// remediation of a drift issue at the default branch head.
func (m *Remediations) approveOnIssue(ctx context.Context, repo vcs.Repo, number int, p records.Project, user string, cmd *command.Command) error {
	var sets []policy.SetConfig
	if m.PolicySets != nil {
		sets = m.PolicySets.Sets()
	}
	if sets == nil {
		return m.Reply.Say(ctx, repo, number, templates.NoPolicySets{})
	}
	full, head, err := m.repoHead(ctx, repo)
	if err != nil {
		return err
	}
	var approved []string
	for _, set := range sets {
		if cmd.PolicySet != "" && set.Name != cmd.PolicySet {
			continue
		}
		if !m.Gate.IsOwner(ctx, full, user, set.Owners) {
			continue
		}
		key := records.ApprovalKey(full.FullName(), number, head, p.Name, set.Name)
		if err := m.Records.RecordApproval(ctx, key, set.Name, p.Name, user, cmd.Clear); err != nil {
			return err
		}
		approved = append(approved, set.Name)
	}
	if len(approved) == 0 {
		return m.Reply.Say(ctx, full, number, templates.NoPolicySetOwned{User: user})
	}
	return m.Reply.Say(ctx, full, number, templates.RemediationPoliciesApproved{Sets: approved, Project: p.Name, Commit: head, User: user})
}

// repoHead is the full repository of a drift issue and its default
// branch head.
func (m *Remediations) repoHead(ctx context.Context, repo vcs.Repo) (vcs.Repo, string, error) {
	full, err := facts.RepoFacts(ctx, m.Repos, repo)
	if err != nil {
		return vcs.Repo{}, "", err
	}
	head, err := m.Repos.BranchSHA(ctx, full, full.DefaultBranch)
	if err != nil {
		return vcs.Repo{}, "", fmt.Errorf("head of %s: %w", full.DefaultBranch, err)
	}
	return full, head, nil
}

// unlockedHead is the repository and its default branch head for a
// remediation of p on issue. done is true when that ends the remediation:
// err says why, or p's lock is held by a pull request, which the issue is
// told (err is then the reply's).
func (m *Remediations) unlockedHead(ctx context.Context, repo vcs.Repo, issue int, p records.Project) (full vcs.Repo, head string, done bool, err error) {
	if full, head, err = m.repoHead(ctx, repo); err != nil {
		return vcs.Repo{}, "", true, err
	}
	if n, ok := m.Apply.LockedBy(ctx, full, p); ok {
		return full, head, true, m.Reply.Reply(ctx, full, issue, "remediation.tmpl",
			templates.Remediation{Kind: templates.RemediationLocked, Project: p.Name, LockedBy: n})
	}
	return full, head, false, nil
}

// planOnIssue plans the default branch head for a drift issue's project
// and shows the plan on the issue: the plan a remediation applies.
func (m *Remediations) planOnIssue(ctx context.Context, repo vcs.Repo, issue int, p records.Project, user string) error {
	full, head, done, err := m.unlockedHead(ctx, repo, issue, p)
	if done {
		return err
	}
	_, err = m.Apply.StartRun(ctx, records.RunSpec{Repo: full, Number: issue, Command: "remediation-plan", User: user, HeadSHA: head,
		Jobs: []records.Job{{Kind: records.JobDrift, Repo: full, Number: issue, Project: p, HeadSHA: head, Commit: head, User: user}}})
	return err
}

// approveRemediation records (or with clear withdraws) user's sign-off of
// the plan shown on a drift issue. Only users with the apply permission
// may sign off.
func (m *Remediations) approveRemediation(ctx context.Context, repo vcs.Repo, issue int, p records.Project, user string, clear bool) error {
	var plan records.Plan
	found, err := m.Records.Get(ctx, records.Plans, records.PlanKey(repo.FullName(), issue, p.Name), &plan)
	if err != nil {
		return err
	}
	if !found || plan.State != records.PlanPlanned {
		return m.Reply.Reply(ctx, repo, issue, "remediation.tmpl", templates.Remediation{Kind: templates.RemediationNoPlan, Project: p.Name})
	}
	if need, err := m.Perms.Authorize(ctx, repo, user, "apply"); err != nil {
		return err
	} else if need != "" {
		return m.Reply.Reply(ctx, repo, issue, "permission_denied.tmpl", templates.PermissionDenied{User: user, Command: "approve", Need: need})
	}
	if err := m.Records.RecordRemediationApproval(ctx, repo.FullName(), issue, p.Name, plan.PlanJob, user, clear); err != nil {
		return err
	}
	kind := templates.RemediationApproved
	if clear {
		kind = templates.RemediationWithdrawn
	}
	return m.Reply.Reply(ctx, repo, issue, "remediation.tmpl", templates.Remediation{Kind: kind, Project: p.Name, User: user, Commit: plan.HeadSHA})
}

// Remediate applies the plan shown on a drift issue when the gate clears
// it (path remediation): the plan must be the one shown at the default
// branch head, signed off as the server requires; a refusal is answered
// on the issue with the gate's reasons.
func (m *Remediations) Remediate(ctx context.Context, repo vcs.Repo, issue int, p records.Project, user string) error {
	full, head, done, err := m.unlockedHead(ctx, repo, issue, p)
	if done {
		return err
	}
	key := records.PlanKey(full.FullName(), issue, p.Name)
	var plan records.Plan
	shown, err := m.Records.Get(ctx, records.Plans, key, &plan)
	if err != nil {
		return err
	}
	if shown && plan.State == records.PlanApplied && !plan.HasChanges {
		return m.Reply.Reply(ctx, full, issue, "remediation.tmpl", templates.Remediation{Kind: templates.RemediationNoChanges, Project: p.Name})
	}
	shown = shown && plan.State == records.PlanPlanned
	rem := &gate.Remediation{PlanShown: shown, PlanHead: plan.HeadSHA, Head: head, Applier: user}
	need, err := m.Perms.Authorize(ctx, full, user, "apply")
	if err != nil {
		return err
	}
	rem.ApplierPermitted = need == ""
	rem.ApplierAlone, _ = facts.MemberOfAny(ctx, m.Teams, full, user, m.Drift.RemediateAloneTeams)
	var a records.RemediationApproval
	if _, err := m.Records.Get(ctx, records.Approvals, records.RemediationApprovalKey(full.FullName(), issue, p.Name), &a); err != nil {
		return err
	}
	if shown && a.PlanJob == plan.PlanJob {
		for _, u := range a.Users {
			if need, err := m.Perms.Authorize(ctx, full, u, "apply"); err == nil && need == "" {
				rem.Approvers = append(rem.Approvers, u)
			}
		}
	}
	in := gate.Input{Path: gate.PathRemediation, Project: p.Name, Remediation: rem}
	if shown {
		sum, err := m.Plans.PlanSHA256(ctx, plan)
		in.Plan = &gate.Plan{HeadSHA: plan.HeadSHA, FileMatches: err == nil && sum == plan.SHA256, Created: plan.Created}
		in.Policies = m.Gate.Policies(ctx, records.Job{Repo: full, Number: issue, Project: p, HeadSHA: plan.HeadSHA}, plan.Policies)
	}
	d := gate.Decide(in)
	c, ok := d.Clearance()
	if !ok {
		return m.Reply.Reply(ctx, full, issue, "apply_refused.tmpl", templates.ApplyRefused{Path: string(gate.PathRemediation),
			Projects: []templates.RefusedProject{m.Gate.RefusedProject(p.Name, d)}})
	}
	// The claim and the run it starts are made under the issue's mutex,
	// as a PR's are: a claim left without its run is then known to be
	// left (the engine's releaseStaleClaims).
	defer m.Apply.LockIssue(records.PRKey(full.FullName(), issue))()
	claimed, err := m.Records.ClaimPlan(ctx, key, func(cur records.Plan) bool { return cur.PlanJob == plan.PlanJob })
	if err != nil {
		return err
	}
	if !claimed {
		return m.Reply.Reply(ctx, full, issue, "remediation.tmpl", templates.Remediation{Kind: templates.RemediationBusy, Project: p.Name})
	}
	bind := func(ctx context.Context, jobs []records.Job) {
		for _, j := range jobs {
			m.Plans.SetPlanState(ctx, key, records.PlanApplying, j.ID)
		}
	}
	_, err = m.Apply.StartApply(ctx, records.RunSpec{Repo: full, Number: issue, Command: "remediate", User: user, HeadSHA: plan.HeadSHA,
		Jobs:        []records.Job{{Kind: records.JobApply, Repo: full, Number: issue, Project: p, HeadSHA: plan.HeadSHA, Commit: plan.Commit, User: user}},
		BeforeQueue: bind}, []gate.Clearance{c})
	if err != nil {
		m.Plans.SetPlanState(ctx, key, records.PlanPlanned, "-")
	}
	return err
}

// AutoRemediate plans and applies a drifted project without a comment,
// when the server turns auto_remediate on for the repository (path
// auto_remediate); the run is recorded as "auto-remediate" by atoll. A
// project locked by a pull request is left to it. A refusal is said once
// per issue.
func (m *Remediations) AutoRemediate(ctx context.Context, repo vcs.Repo, issue int, p records.Project) error {
	full, head, err := m.repoHead(ctx, repo)
	if err != nil {
		return err
	}
	if _, ok := m.Apply.LockedBy(ctx, full, p); ok {
		return nil // a pull request holds it: its apply comes first
	}
	d := gate.Decide(gate.Input{Path: gate.PathAutoRemediate, Project: p.Name,
		Remediation: &gate.Remediation{AutoAllowed: AutoRemediateAllowed(m.Drift.AutoRemediateRepos, full.FullName())}})
	c, ok := d.Clearance()
	if !ok {
		first, err := m.Records.Once(ctx, full.FullName(), issue, "auto-refused", []byte("1"))
		if err != nil {
			return err
		}
		if !first {
			return nil
		}
		return m.Reply.Reply(ctx, full, issue, "apply_refused.tmpl", templates.ApplyRefused{Path: string(gate.PathAutoRemediate),
			Projects: []templates.RefusedProject{m.Gate.RefusedProject(p.Name, d)}})
	}
	_, err = m.Apply.StartApply(ctx, records.RunSpec{Repo: full, Number: issue, Command: "auto-remediate", User: "atoll", HeadSHA: head,
		Jobs: []records.Job{{Kind: records.JobPlanApply, Repo: full, Number: issue, Project: p, HeadSHA: head, Commit: head, User: "atoll"}}},
		[]gate.Clearance{c})
	return err
}
