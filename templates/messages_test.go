package templates

import (
	"strings"
	"testing"
	"time"
)

func TestReplies(t *testing.T) {
	r := newTestRenderer(t)
	must := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	helpWords := []string{"`atoll plan`", "`atoll apply`", "`atoll unlock`", "`atoll approve_policies`", "`--policy-set S`",
		"`--clear`", "`atoll help`", "`atoll version`", "`-p NAME`", "`-d DIR`", "`-w WORKSPACE`", "`-- EXTRA ARGS`"}
	tests := []struct {
		name string
		out  string
		want []string
	}{
		{"help", must(r.RenderHelp(Help{DocsURL: "https://docs.example"})), append(helpWords, "https://docs.example")},
		{"command error", must(r.RenderCommandError(CommandError{Problem: CommandProblem{Kind: "unknown_flag", Flag: "-x", Usage: "atoll plan"}})),
			append(helpWords, `**That atoll command is not valid:** unknown flag "-x"`)},
		{"permission denied", must(r.RenderPermissionDenied(PermissionDenied{User: "eve", Command: "apply",
			Need: "write permission on this repository"})),
			[]string{"@eve", "`atoll apply`", "it needs write permission on this repository"}},
		{"config error", must(r.RenderConfigError(ConfigError{File: "atoll.yaml", Commit: "abcdef0123",
			Errors: []FieldError{{Line: 4, Column: 7, Key: "projects[1].dir", Message: "must be relative"},
				{Line: 9, Message: "unknown key"}, {Key: "version", Message: "unsupported: 9"}}})),
			[]string{"`atoll.yaml` is not valid at `abcdef0`: no plan ran.",
				"- line 4, column 7, `projects[1].dir`: must be relative", "- line 9: unknown key",
				"- `version`: unsupported: 9"}},
		{"apply refused", must(r.RenderApplyRefused(ApplyRefused{Projects: []RefusedProject{
			{Name: "app", Unmet: []string{"`approved`: 0 of 1 approving reviews", "`policies_passed`: security failed"}},
			{Name: "db", Unmet: []string{"`mergeable`: the PR has conflicts"}}}})),
			[]string{"⛔ **Apply refused.**", "These projects do not meet", "- `app`\n  - `approved`: 0 of 1 approving reviews\n  - `policies_passed`: security failed",
				"- `db`\n  - `mergeable`: the PR has conflicts", "Nothing was applied."}},
		{"apply refused, reason", must(r.RenderApplyRefused(ApplyRefused{Reason: "apply_mode is after_merge: merge the PR to apply."})),
			[]string{"**Apply refused.** apply_mode is after_merge: merge the PR to apply."}},
		{"notice", must(r.RenderMessage(NothingToApplyBusy{Projects: []BusyProject{{Name: "app"}, {Name: "db", Applied: true}}})),
			[]string{"ℹ️ Nothing to apply: the apply of `app (applying)`, `db (applied)` is already running or done."}},
		{"selector", must(r.RenderMessage(NoPlanToApply{Selected: Selector{Project: "app", Workspace: "prod"}})),
			[]string{"There is no plan to apply (`-p app -w prod`). Comment `atoll plan` first."}},
		{"no selector", must(r.RenderMessage(NoPlanToApply{})), []string{"There is no plan to apply. Comment"}},
		{"policies approved", must(r.RenderMessage(PoliciesApproved{Approvals: []PolicyApproval{{Set: "sec", Project: "app"}},
			Commit: "0123456789", User: "alice", Withdrawn: true})),
			[]string{"Withdrew the approval of the failing policy sets `sec on app` for 0123456, by @alice."}},
		{"version", must(r.RenderVersion(Version{Version: "v1.2.3", Commit: "0123456789abc", GoVersion: "go1.26.8"})),
			[]string{"atoll v1.2.3 (commit `0123456`), built with go1.26.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertContains(t, tt.out, tt.want...)
			assertNotContains(t, tt.out, "<no value>")
		})
	}
}

func driftFixture() DriftIssue {
	first := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
	return DriftIssue{ID: "drift:acme/infra:infra/app:default", Repo: "acme/infra", Branch: "main", Commit: "fedcba9876543210",
		FirstSeen: first, LastSeen: first.Add(6 * time.Hour),
		Project: ProjectResult{Name: "app", Dir: "infra/app", Workspace: "default", Status: StatusPlanned,
			Add: 1, Change: 1, Destroy: 1, Creates: []string{"local_file.g"}, Updates: []string{"terraform_data.d"},
			Deletes: []string{"terraform_data.gone"}, PlanText: createPlan, JobURL: "https://atoll.example/jobs/5"}}
}

func TestDriftIssue(t *testing.T) {
	r := newTestRenderer(t)
	d := driftFixture()
	got, err := r.RenderDriftIssue(d)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Drift detected: app (infra/app, workspace default)" {
		t.Errorf("title = %q", got.Title)
	}
	if !strings.HasPrefix(got.Body, Marker(d.ID)+"\n") {
		t.Errorf("body does not start with the marker")
	}
	assertContains(t, got.Body, "| Repository | `acme/infra` |", "| Directory | `infra/app` |", "| Workspace | `default` |",
		"| Commit | `fedcba9` on `main` |", "| First seen | 2025-03-01 06:00 UTC |", "| Last seen | 2025-03-01 12:00 UTC |",
		"**Plan: 1 to add, 0 to change, 0 to destroy.**", "- ➕ **create** (1): `local_file.g`",
		"- ✏️ **update** (1): `terraform_data.d`", "- 🗑️ **delete** (1): `terraform_data.gone`",
		"<details><summary>Show plan</summary>", "comment `atoll plan` on this issue", "`atoll approve`", "then comment `atoll apply`", "[Full log](https://atoll.example/jobs/5)")
	assertOutsideFolds(t, got.Body, "> [!CAUTION]")
	assertNotContains(t, got.Body, "The drift changed", "holds the lock")

	d.Changed = true
	d.Project.LockedBy = &LockHolder{Number: 12, URL: "https://github.com/acme/infra/pull/12"}
	got, err = r.RenderDriftIssue(d)
	if err != nil {
		t.Fatal(err)
	}
	assertContains(t, got.Body, "🔄 **The drift changed** since this issue was last updated",
		"🔒 [#12](https://github.com/acme/infra/pull/12) holds the lock on this project")
}

func TestDriftIssueFitsInAnIssue(t *testing.T) {
	r := newTestRenderer(t)
	d := driftFixture()
	d.Project.PlanText, _ = bigPlan(3000)
	got, err := r.RenderDriftIssue(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Body) >= CommentLimit {
		t.Fatalf("body is %d characters", len(got.Body))
	}
	assertContains(t, got.Body, "more lines not shown here: [the full plan is on the job page](https://atoll.example/jobs/5)")
	if !fencesBalanced(got.Body) || !detailsBalanced(got.Body) {
		t.Errorf("body not balanced")
	}
}

func TestDriftComments(t *testing.T) {
	r := newTestRenderer(t)
	at := time.Date(2025, 3, 2, 8, 30, 0, 0, time.UTC)
	p := driftFixture().Project
	tests := []struct {
		c    DriftComment
		want []string
	}{
		{DriftComment{Kind: DriftResolved, Commit: "0123456789", At: at},
			[]string{"✅ **Drift resolved.**", "`0123456`", "2025-03-02 08:30 UTC", "closing this issue"}},
		{DriftComment{Kind: DriftChanged, At: at, Project: p},
			[]string{"🔄 **The drift changed** (2025-03-02 08:30 UTC): now 1 to add, 1 to change, 1 to destroy",
				"Undoing this drift destroys 1 resource: `terraform_data.gone`."}},
		{DriftComment{Kind: DriftError, Project: ProjectResult{FailedStep: "init", Error: "exit status 1", LogTail: "Error: backend"}},
			[]string{"❌ **The drift check failed**.", "❌ **`init` failed**: exit status 1", "Error: backend"}},
		{DriftComment{Kind: DriftRemediated, By: "alice", Project: ProjectResult{Status: StatusApplied,
			ApplyOutput: "x: Creating...\nApply complete! Resources: 1 added, 0 changed, 1 destroyed.\n"}},
			[]string{"✅ **Remediated** by @alice. **Apply complete! Resources: 1 added, 0 changed, 1 destroyed.**", "<summary>Show apply output</summary>"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.c.Kind), func(t *testing.T) {
			out, err := r.RenderDriftComment(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			assertContains(t, out, tt.want...)
			assertNotContains(t, out, "unknown")
		})
	}
}

func TestCheckSummaries(t *testing.T) {
	r := newTestRenderer(t)
	planned := ProjectResult{Name: "app", Dir: "infra/app", Status: StatusPlanned, Add: 1, Destroy: 1, Deletes: []string{"a.b"}, PlanText: createPlan,
		Policies: []PolicyResult{{Set: "security", Status: PolicyFailed, Owners: []string{"alice"}, Deny: []PolicyMessage{{Msg: "no"}}}}}
	tests := []struct {
		name      string
		c         CheckSummary
		wantName  string
		wantTitle string
		want      []string
	}{
		{"plan", CheckSummary{Stage: CheckPlan, Project: planned, CommentURL: "https://github.com/acme/infra/pull/3#issuecomment-7"},
			"atoll/plan: app", "⚠️ 1 to add, 0 to change, 1 to destroy",
			[]string{"**Plan: 1 to add, 0 to change, 0 to destroy.**", "[!CAUTION]", "Show plan", "[Details in the pull request](https://github.com/acme/infra/pull/3#issuecomment-7)"}},
		{"policy", CheckSummary{Stage: CheckPolicy, Project: planned}, "atoll/policy: app", "Policy failed: security",
			[]string{"- `security`: ❌ failed", "`atoll approve_policies --policy-set security`"}},
		{"apply", CheckSummary{Stage: CheckApply, Project: ProjectResult{Name: "app", Status: StatusApplied,
			ApplyOutput: "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n"}},
			"atoll/apply: app", "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.", []string{"✅ **Apply complete!"}},
		{"drift", CheckSummary{Stage: CheckDrift, Project: ProjectResult{Name: "app", Status: StatusNoChanges}},
			"atoll/drift: app", "No drift", []string{"No changes."}},
		{"plan error", CheckSummary{Stage: CheckPlan, Project: ProjectResult{Dir: "x", Status: StatusPlanError, FailedStep: "init"}},
			"atoll/plan: x", "Plan failed at init", []string{"❌ **`init` failed**"}},
		{"locked", CheckSummary{Stage: CheckPlan, Project: ProjectResult{Name: "db", Status: StatusLocked, LockedBy: &LockHolder{Number: 4}}},
			"atoll/plan: db", "Locked by #4", []string{"comment `atoll unlock` on #4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.RenderCheckSummary(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tt.wantName || got.Title != tt.wantTitle {
				t.Errorf("name, title = %q, %q; want %q, %q", got.Name, got.Title, tt.wantName, tt.wantTitle)
			}
			assertContains(t, got.Summary, tt.want...)
		})
	}
}

func TestCheckSummaryFits(t *testing.T) {
	r := newTestRenderer(t)
	plan, _ := bigPlan(3000)
	got, err := r.RenderCheckSummary(CheckSummary{Stage: CheckPlan, Project: ProjectResult{Name: "big", Status: StatusPlanned,
		Add: 1500, PlanText: plan, JobURL: "https://atoll.example/jobs/8"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Summary) >= CheckSummaryLimit {
		t.Fatalf("summary is %d characters", len(got.Summary))
	}
	assertContains(t, got.Summary, "**Plan: 1500 to add, 750 to change, 1500 to destroy.**", "[the full plan is on the job page]")
}

func TestFitLastResort(t *testing.T) {
	r := newTestRenderer(t)
	var addrs []string
	for i := range 5000 {
		addrs = append(addrs, strings.Repeat("x", 20)+string(rune('a'+i%26)))
	}
	got, err := r.RenderCheckSummary(CheckSummary{Stage: CheckPlan, Project: ProjectResult{Name: "huge", Status: StatusPlanned,
		Add: 5000, Creates: addrs}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Summary) >= CheckSummaryLimit {
		t.Fatalf("summary is %d characters", len(got.Summary))
	}
	assertContains(t, got.Summary, "cut to fit GitHub's size limit")
	if !fencesBalanced(got.Summary) || !detailsBalanced(got.Summary) {
		t.Errorf("summary not balanced")
	}
}

// TestCountsWithoutTerraformsLine: terraform's "Plan:" line is quoted as
// it is; without one the counts are atoll's own sentence, not an
// imitation of terraform's.
func TestCountsWithoutTerraformsLine(t *testing.T) {
	r := newTestRenderer(t)
	p := ProjectResult{Name: "app", Status: StatusPlanned, Add: 2, Change: 1, Destroy: 0, Import: 1}
	out, err := r.Render("counts.tmpl", p)
	if err != nil {
		t.Fatal(err)
	}
	assertContains(t, out, "**Changes counted by atoll: 2 to add, 1 to change, 0 to destroy, 1 to import.**")
	assertNotContains(t, out, "Plan: ")
	p.PlanText = "Terraform will perform the following actions:\n\nPlan: 1 to import, 2 to add, 1 to change, 0 to destroy.\n"
	if out, err = r.Render("counts.tmpl", p); err != nil {
		t.Fatal(err)
	}
	assertContains(t, out, "**Plan: 1 to import, 2 to add, 1 to change, 0 to destroy.**")
}
