package drift_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// remedyHost is the engine and code host of a remediation: it records
// the runs started and the answers posted, and knows who may apply.
type remedyHost struct {
	rec      records.Records
	appliers map[string]bool // users with the apply permission
	locked   int             // PR holding the project's lock (0: none)
	runs     []records.RunSpec
	applies  []records.RunSpec
	answers  []string // template names posted
	sets     []policy.SetConfig
}

func (h *remedyHost) GetRepo(_ context.Context, r vcs.Repo) (vcs.Repo, error) {
	r.DefaultBranch = "main"
	return r, nil
}
func (h *remedyHost) BranchSHA(context.Context, vcs.Repo, string) (string, error) {
	return "head1", nil
}

func (h *remedyHost) StartRun(_ context.Context, spec records.RunSpec) (records.Run, error) {
	h.runs = append(h.runs, spec)
	return records.Run{ID: "r1"}, nil
}
func (h *remedyHost) StartApply(ctx context.Context, spec records.RunSpec, cleared []gate.Clearance) (records.Run, error) {
	if len(cleared) != len(spec.Jobs) {
		return records.Run{}, fmt.Errorf("%d clearances for %d jobs", len(cleared), len(spec.Jobs))
	}
	spec.Jobs[0].ID = "a1"
	if spec.BeforeQueue != nil {
		spec.BeforeQueue(ctx, spec.Jobs)
	}
	h.applies = append(h.applies, spec)
	return records.Run{ID: "r2"}, nil
}
func (h *remedyHost) SetPlanState(ctx context.Context, key string, st records.PlanState, jobID string) {
	_ = h.rec.SetPlanState(ctx, key, st, jobID)
}
func (h *remedyHost) LockIssue(string) func() { return func() {} }
func (h *remedyHost) LockedBy(context.Context, vcs.Repo, records.Project) (int, bool) {
	return h.locked, h.locked > 0
}

func (h *remedyHost) Authorize(_ context.Context, _ vcs.Repo, user, _ string) (string, error) {
	if h.appliers[user] {
		return "", nil
	}
	return "write", nil
}
func (h *remedyHost) IsTeamMember(context.Context, vcs.Repo, string, string, string) (bool, error) {
	return false, nil
}
func (h *remedyHost) IsOwner(_ context.Context, _ vcs.Repo, user string, owners []string) bool {
	return slices.Contains(owners, user)
}
func (h *remedyHost) PlanSHA256(_ context.Context, p records.Plan) (string, error) {
	return p.SHA256, nil
}
func (h *remedyHost) Policies(context.Context, records.Job, []policy.Result) []gate.Policy {
	return nil
}
func (h *remedyHost) RefusedProject(name string, d gate.Decision) templates.RefusedProject {
	return templates.RefusedProject{Name: name}
}
func (h *remedyHost) Sets() []policy.SetConfig { return h.sets }

func (h *remedyHost) Reply(_ context.Context, _ vcs.Repo, _ int, name string, data any) error {
	if r, ok := data.(templates.Remediation); ok {
		name += ":" + string(r.Kind)
	}
	h.answers = append(h.answers, name)
	return nil
}
func (h *remedyHost) Say(_ context.Context, _ vcs.Repo, _ int, m templates.Message) error {
	h.answers = append(h.answers, m.Template())
	return nil
}

func (h *remedyHost) last() string {
	if len(h.answers) == 0 {
		return ""
	}
	return h.answers[len(h.answers)-1]
}

var infra = vcs.Repo{Owner: "acme", Name: "infra"}

// newRemedies serves acme/infra, whose project app has drift issue #7.
func newRemedies(t *testing.T) (*drift.Remediations, *remedyHost, *[]string) {
	t.Helper()
	rec := openStore(t)
	h := &remedyHost{rec: rec, appliers: map[string]bool{"alice": true, "bob": true}}
	app := records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default"}}
	if err := rec.Put(context.Background(), records.Drift, records.DriftKey("acme/infra", "app"),
		records.DriftRecord{Repo: "acme/infra", Project: app, Issue: 7}); err != nil {
		t.Fatal(err)
	}
	var triggered []string
	m := &drift.Remediations{Records: rec, Repos: h, Apply: h, Plans: h, Perms: h, Teams: h, Gate: h, PolicySets: h, Reply: h, Log: quiet,
		Drift: config.Drift{AutoRemediateRepos: []string{"acme/infra"}},
		Trigger: func(_ context.Context, repo, project string) (string, error) {
			triggered = append(triggered, repo+" "+project)
			return "d1", nil
		}}
	return m, h, &triggered
}

func cmd(t *testing.T, name string) *command.Command {
	t.Helper()
	return &command.Command{Name: name}
}

// A remediation applies only the plan shown on the issue, at the default
// branch head, once a second person with the apply permission signed it
// off; the apply goes through the gate and binds the plan to its job.
func TestRemediationNeedsAShownPlanAndASecondPerson(t *testing.T) {
	m, h, _ := newRemedies(t)
	ctx := context.Background()
	labels := []string{drift.LabelDrift, drift.IssueLabel("app")}
	issue := func(user, name string) {
		t.Helper()
		if err := m.OnIssueCommand(ctx, infra, 7, labels, user, cmd(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	issue("alice", "apply")
	if h.last() != "apply_refused.tmpl" || len(h.applies) != 0 {
		t.Fatalf("apply with no plan shown: answered %v, applies %d; want a refusal", h.answers, len(h.applies))
	}
	issue("alice", "plan")
	if len(h.runs) != 1 || h.runs[0].Jobs[0].Kind != records.JobDrift || h.runs[0].Jobs[0].Number != 7 || h.runs[0].Command != "remediation-plan" {
		t.Fatalf("`atoll plan` on the issue started %+v; want one drift plan of issue #7", h.runs)
	}
	// The plan job stored its plan (as the engine's drift job does).
	key := records.PlanKey("acme/infra", 7, "app")
	plan := records.Plan{Repo: "acme/infra", Number: 7, Project: records.Project{ProjectCore: config.ProjectCore{Name: "app"}},
		HeadSHA: "head1", Commit: "head1",
		SHA256: "sum", HasChanges: true, PlanJob: "p1", State: records.PlanPlanned, Created: time.Now()}
	if err := m.Records.Put(ctx, records.Plans, key, plan); err != nil {
		t.Fatal(err)
	}
	issue("mallory", "approve")
	if h.last() != "permission_denied.tmpl" {
		t.Fatalf("sign-off by a user without apply: %v", h.answers)
	}
	issue("alice", "apply")
	if h.last() != "apply_refused.tmpl" || len(h.applies) != 0 {
		t.Fatalf("apply with no second person: %v, applies %d", h.answers, len(h.applies))
	}
	issue("bob", "approve")
	if h.last() != "remediation.tmpl:"+string(templates.RemediationApproved) {
		t.Fatalf("bob's sign-off answered %v", h.answers)
	}
	issue("alice", "apply")
	if len(h.applies) != 1 {
		t.Fatalf("apply after a sign-off: answered %v; want one apply", h.answers)
	}
	a := h.applies[0]
	if a.Command != "remediate" || a.Jobs[0].Kind != records.JobApply || a.Jobs[0].Commit != "head1" || a.User != "alice" {
		t.Fatalf("remediation run: %+v", a)
	}
	var got records.Plan
	if _, err := m.Records.Get(ctx, records.Plans, key, &got); err != nil || got.State != records.PlanApplying {
		t.Fatalf("plan after the apply started: %s (%v); want applying", got.State, err)
	}
	issue("alice", "apply")
	if len(h.applies) != 1 {
		t.Fatal("a plan being applied was applied again")
	}
}

// A project locked by a pull request is neither planned nor remediated
// from its issue (nor auto-remediated); commands on issues that are not
// atoll's are ignored, except help.
func TestRemediationRespectsLocksAndForeignIssues(t *testing.T) {
	m, h, _ := newRemedies(t)
	ctx := context.Background()
	h.locked = 12
	for _, name := range []string{"plan", "apply"} {
		if err := m.OnIssueCommand(ctx, infra, 7, nil, "alice", cmd(t, name)); err != nil {
			t.Fatal(err)
		}
		if want := "remediation.tmpl:" + string(templates.RemediationLocked); h.last() != want {
			t.Fatalf("%s on a locked project answered %v, want %s", name, h.answers, want)
		}
	}
	if err := m.AutoRemediate(ctx, infra, 7, records.Project{ProjectCore: config.ProjectCore{Name: "app"}}); err != nil {
		t.Fatal(err)
	}
	if len(h.runs)+len(h.applies) != 0 {
		t.Fatalf("runs started on a locked project: %v %v", h.runs, h.applies)
	}
	n := len(h.answers)
	if err := m.OnIssueCommand(ctx, infra, 99, []string{"bug"}, "alice", cmd(t, "apply")); err != nil || len(h.answers) != n {
		t.Fatalf("apply on a foreign issue answered %v (%v)", h.answers[n:], err)
	}
	if err := m.OnIssueCommand(ctx, infra, 99, nil, "alice", cmd(t, "help")); err != nil || h.last() != "help.tmpl" {
		t.Fatalf("help on a foreign issue answered %v (%v)", h.answers, err)
	}
	if err := m.OnIssueCommand(ctx, infra, 7, nil, "alice", cmd(t, "unlock")); err != nil || h.last() != (templates.DriftIssueCommands{}).Template() {
		t.Fatalf("unlock on a drift issue answered %v (%v)", h.answers, err)
	}
}

// auto_remediate plans and applies through the gate where the server
// allows it for the repository; elsewhere the refusal is said once per
// issue. After a remediation applied a project, it is checked again.
func TestAutoRemediation(t *testing.T) {
	m, h, triggered := newRemedies(t)
	ctx := context.Background()
	app := records.Project{ProjectCore: config.ProjectCore{Name: "app"}}
	if err := m.AutoRemediate(ctx, infra, 7, app); err != nil {
		t.Fatal(err)
	}
	if len(h.applies) != 1 || h.applies[0].Jobs[0].Kind != records.JobPlanApply || h.applies[0].User != "atoll" || h.applies[0].Command != "auto-remediate" {
		t.Fatalf("auto-remediation: %+v", h.applies)
	}
	other := vcs.Repo{Owner: "acme", Name: "other"}
	for range 2 {
		if err := m.AutoRemediate(ctx, other, 8, app); err != nil {
			t.Fatal(err)
		}
	}
	if len(h.applies) != 1 || len(h.answers) != 1 || h.answers[0] != "apply_refused.tmpl" {
		t.Fatalf("auto-remediation where not allowed: applies %d, answered %v; want one refusal", len(h.applies), h.answers)
	}
	m.AfterRemediation(ctx, records.Run{Repo: infra}, []records.Job{
		{Project: app, Outcome: records.Outcome{Status: string(templates.StatusApplied)}},
		{Project: records.Project{ProjectCore: config.ProjectCore{Name: "db"}}, Outcome: records.Outcome{Status: string(templates.StatusApplyFailed)}}})
	if !slices.Equal(*triggered, []string{"acme/infra app"}) {
		t.Fatalf("checks after a remediation: %v, want app's", *triggered)
	}
}

// approve_policies on a drift issue records the approval of the sets the
// commenter owns, at the default branch head; with no policy sets
// configured it says so.
func TestApprovePoliciesOnIssue(t *testing.T) {
	m, h, _ := newRemedies(t)
	ctx := context.Background()
	if err := m.OnIssueCommand(ctx, infra, 7, nil, "alice", cmd(t, "approve_policies")); err != nil {
		t.Fatal(err)
	}
	if h.last() != (templates.NoPolicySets{}).Template() {
		t.Fatalf("no policy sets: answered %v", h.answers)
	}
	h.sets = []policy.SetConfig{{Name: "sec", Owners: []string{"carol"}}}
	if err := m.OnIssueCommand(ctx, infra, 7, nil, "alice", cmd(t, "approve_policies")); err != nil {
		t.Fatal(err)
	}
	if h.last() != (templates.NoPolicySetOwned{}).Template() {
		t.Fatalf("approval by a non-owner answered %v", h.answers)
	}
	if err := m.OnIssueCommand(ctx, infra, 7, nil, "carol", cmd(t, "approve_policies")); err != nil {
		t.Fatal(err)
	}
	if h.last() != (templates.RemediationPoliciesApproved{}).Template() {
		t.Fatalf("the owner's approval answered %v", h.answers)
	}
	var a records.PolicyApproval
	if ok, err := m.Records.Get(ctx, records.Approvals, records.ApprovalKey("acme/infra", 7, "head1", "app", "sec"), &a); err != nil || !ok {
		t.Fatalf("approval not recorded at the head: %v %v", ok, err)
	}
}
