package templates

import (
	"fmt"
	"strings"
	"testing"
)

// foldDepth returns how many <details> blocks enclose the first line of
// body containing s, and whether that line is inside a code block; it
// fails the test when s is absent.
func foldDepth(t *testing.T, body, s string) (depth int, inCode bool) {
	t.Helper()
	var st mdState
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, s) {
			return st.depth(), st.fence.open()
		}
		st = st.next(line)
	}
	t.Fatalf("%q not found in:\n%s", s, body)
	return 0, false
}

// assertOutsideFolds fails unless s appears outside every <details> and
// code block.
func assertOutsideFolds(t *testing.T, body, s string) {
	t.Helper()
	if d, code := foldDepth(t, body, s); d != 0 || code {
		t.Errorf("%q is inside a fold (depth %d, code %v):\n%s", s, d, code, body)
	}
}

func assertContains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("missing %q in:\n%s", w, body)
		}
	}
}

func assertNotContains(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("unexpected %q in:\n%s", w, body)
		}
	}
}

const createPlan = `Terraform will perform the following actions:

  # terraform_data.web will be created
  + resource "terraform_data" "web" {
      + id = (known after apply)
    }

Plan: 1 to add, 0 to change, 0 to destroy.
`

func renderComment(t *testing.T, c CommandComment) string {
	t.Helper()
	if c.ID == "" {
		c.ID = "run-1"
	}
	if c.Command == "" {
		c.Command = "plan"
	}
	if c.Status == "" {
		c.Status = RunDone
	}
	body, err := newTestRenderer(t).RenderCommandComment(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(body, Marker(c.ID)+"\n") {
		t.Errorf("body does not start with the marker:\n%s", body)
	}
	if !fencesBalanced(body) || !detailsBalanced(body) {
		t.Errorf("body not balanced:\n%s", body)
	}
	return body
}

func TestCommentSingleCreate(t *testing.T) {
	body := renderComment(t, CommandComment{User: "alice", HeadSHA: "0123456789abcdef", Projects: []ProjectResult{{
		Name: "app", Dir: "infra/app", Workspace: "default", Status: StatusPlanned, Add: 1,
		Creates: []string{"terraform_data.web"}, PlanText: createPlan, JobURL: "https://atoll.example/jobs/9"}}})
	assertOutsideFolds(t, body, "**Plan: 1 to add, 0 to change, 0 to destroy.**")
	if strings.Count(body, "Plan: 1 to add, 0 to change, 0 to destroy.") != 2 {
		t.Errorf("the plan line should appear once outside the fold and once in the plan:\n%s", body)
	}
	if d, code := foldDepth(t, body, "+   resource \"terraform_data\" \"web\""); d != 1 || !code {
		t.Errorf("the plan is not folded in a code block (depth %d, code %v)", d, code)
	}
	assertContains(t, body, "@alice", "`0123456`", "#### app · `infra/app` · `default`",
		"<details><summary>Show plan</summary>", "```diff\n",
		"- ➕ **create** (1): `terraform_data.web`",
		"Apply this plan: `atoll apply`", "`atoll unlock`", "[Full log](https://atoll.example/jobs/9)")
	assertNotContains(t, body, "[!CAUTION]", "| Project |")
}

func TestCommentDestroyIsLoud(t *testing.T) {
	plan := strings.Replace(createPlan, "Plan: 1 to add, 0 to change, 0 to destroy.", "Plan: 1 to add, 0 to change, 2 to destroy.", 1)
	body := renderComment(t, CommandComment{Projects: []ProjectResult{{
		Name: "db", Dir: "db", Status: StatusPlanned, Add: 1, Destroy: 2, Replace: 1,
		Deletes: []string{"aws_db_instance.main"}, Replaces: []string{"aws_instance.web"}, PlanText: plan}}})
	assertOutsideFolds(t, body, "> [!CAUTION]")
	assertOutsideFolds(t, body, "**This plan destroys 2 resources** (1 by replacement): `aws_db_instance.main`, `aws_instance.web`")
	assertOutsideFolds(t, body, "🔁 **1 resource is replaced** (destroyed, then created again).")
	if strings.Index(body, "[!CAUTION]") > strings.Index(body, "<details>") {
		t.Errorf("the destroy banner comes after the fold:\n%s", body)
	}
	assertContains(t, body, "- 🗑️ **delete** (1): `aws_db_instance.main`", "- 🔁 **replace** (1): `aws_instance.web`")
}

func TestCommentSeveralProjects(t *testing.T) {
	body := renderComment(t, CommandComment{ID: "plan-42", Projects: []ProjectResult{
		{Name: "app", Dir: "infra/app", Status: StatusPlanned, Add: 1, Destroy: 1, Deletes: []string{"x.y"}, PlanText: createPlan},
		{Name: "net", Dir: "infra/net", Status: StatusNoChanges},
		{Name: "dns", Dir: "infra/dns", Workspace: "staging", Status: StatusNoChanges},
		{Dir: "infra/edge", Workspace: "prod", Status: StatusPlanError, FailedStep: "plan", Error: "exit status 1"},
	}})
	assertContains(t, body,
		"| Project | Dir | Workspace | Add | Change | Destroy | Result |",
		"| [app](#atoll-plan-42-app) | `infra/app` | `default` | 1 | 0 | **1** | ⚠️ planned, destroys |",
		"| [infra/edge (prod)](#atoll-plan-42-infra-edge-prod) | `infra/edge` | `prod` | – | – | – | ❌ plan failed |",
		`<a id="atoll-plan-42-app"></a>`, `<a id="atoll-plan-42-infra-edge-prod"></a>`,
		"➖ **No changes:** `net` (`infra/net`), `dns` (`infra/dns`, workspace `staging`)",
		"**1 project destroys resources:** `app` (1)",
		"- Apply only `app`: `atoll apply -p app`", "To apply: `atoll apply -p app`",
		"- Fix the errors above and plan again: `atoll plan`",
		"**done**: 1 planned, 2 with no changes, 1 failed")
	if strings.Index(body, "| Project |") > strings.Index(body, "#### app") {
		t.Errorf("the summary table does not come first")
	}
	assertNotContains(t, body, "#### net", "#### dns")
	assertOutsideFolds(t, body, "| [app]")
}

func TestCommentRunning(t *testing.T) {
	body := renderComment(t, CommandComment{Status: RunRunning,
		Message: "This run was interrupted by a server restart; comment `atoll plan` to retry.",
		Projects: []ProjectResult{
			{Name: "a", Dir: "a", Status: StatusPlanned, Add: 1, PlanText: createPlan},
			{Name: "b", Dir: "b", Status: StatusRunning},
			{Name: "c", Dir: "c", Status: StatusQueued},
		}})
	assertContains(t, body, "🔄 **running**: 1 of 3 projects finished",
		"> [!NOTE]\n> This run was interrupted by a server restart; comment `atoll plan` to retry.",
		"| 🔄 running |", "| ⏳ queued |", "#### a")
	assertNotContains(t, body, "#### b", "#### c", "Next steps")
	if strings.Index(body, "[!NOTE]") > strings.Index(body, "| Project |") {
		t.Errorf("the message is not at the top")
	}
}

func TestCommentDrift(t *testing.T) {
	drift := `
Note: Objects have changed outside of Terraform

Terraform detected the following changes made outside of Terraform since the
last "terraform apply" which may have affected this plan:

  # local_file.g has been deleted
  - resource "local_file" "g" {
      - content = "hello" -> null
    }


Unless you have made equivalent changes to your configuration, or ignored the
relevant attributes using ignore_changes, the following plan may include
actions to undo or respond to these changes.

─────────────────────────────────────────────────────────────────────────────
`
	for _, tt := range []struct {
		name string
		p    ProjectResult
	}{
		{"inside the plan text", ProjectResult{PlanText: drift + createPlan}},
		{"separate", ProjectResult{PlanText: createPlan, DriftText: drift}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			p.Name, p.Status, p.Add = "app", StatusPlanned, 1
			body := renderComment(t, CommandComment{Projects: []ProjectResult{p}})
			assertContains(t, body, "<details><summary>⚠️ Objects have changed outside of Terraform</summary>")
			if d, code := foldDepth(t, body, "# local_file.g has been deleted"); d != 1 || !code {
				t.Errorf("drift not in its own fold")
			}
			plan := body[strings.Index(body, "Show plan"):]
			assertNotContains(t, plan, "has been deleted", "─────")
		})
	}
}

func TestCommentPlanError(t *testing.T) {
	var tail strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&tail, "output line %d\n", i)
	}
	body := renderComment(t, CommandComment{Projects: []ProjectResult{{Name: "app", Status: StatusPlanError,
		FailedStep: "init", Error: "exit status 1", LogTail: tail.String()}}})
	assertOutsideFolds(t, body, "❌ **`init` failed**: exit status 1")
	assertContains(t, body, "… (60 earlier lines)\noutput line 61\n", "output line 100\n```")
	assertNotContains(t, body, "output line 60\n", "Apply this plan")
}

func TestCommentLocked(t *testing.T) {
	body := renderComment(t, CommandComment{Projects: []ProjectResult{{Name: "db", Dir: "infra/db", Status: StatusLocked,
		LockedBy: &LockHolder{Number: 12, URL: "https://github.com/acme/infra/pull/12", Author: "carol"}}}})
	assertContains(t, body, "🔒 **Locked by [#12](https://github.com/acme/infra/pull/12)** (@carol)",
		"comment `atoll unlock` on #12, or merge or close it", "`atoll plan -p db`")
	// repo_locks.mode on_apply: the apply is what finds the lock.
	body = renderComment(t, CommandComment{Command: "apply", Projects: []ProjectResult{{Name: "db", Dir: "infra/db", Status: StatusLocked,
		LockedBy: &LockHolder{Number: 12}}}})
	assertContains(t, body, "so this project was not applied", "`atoll apply -p db`")
}

// A plan refused for a lock says it waits in the plan queue, and behind
// which pull requests; with the lock free but another PR first in line, it
// names no holder.
func TestCommentLockedQueued(t *testing.T) {
	body := renderComment(t, CommandComment{Projects: []ProjectResult{{Name: "db", Dir: "infra/db", Status: StatusLocked,
		LockedBy: &LockHolder{Number: 12, URL: "https://github.com/acme/infra/pull/12", Author: "carol"},
		Behind:   []LockHolder{{Number: 12, URL: "https://github.com/acme/infra/pull/12"}, {Number: 14}}}}})
	assertContains(t, body, "🔒 **Locked by [#12](https://github.com/acme/infra/pull/12)** (@carol)",
		"⏳ **Waiting** in the plan queue, behind [#12](https://github.com/acme/infra/pull/12), #14: atoll plans this project by itself", "comment `atoll unlock` on #12")
	assertNotContains(t, body, "Then comment `atoll plan")

	body = renderComment(t, CommandComment{Projects: []ProjectResult{{Name: "db", Dir: "infra/db", Status: StatusLocked,
		Behind: []LockHolder{{Number: 14}}}}})
	assertContains(t, body, "other pull requests wait for its lock first", "behind #14")
	assertNotContains(t, body, "Locked by")
}

func TestCommentPolicies(t *testing.T) {
	body := renderComment(t, CommandComment{Projects: []ProjectResult{{Name: "app", Status: StatusPlanned, Add: 1,
		Unmet: []string{"`approved`: 0 of 1 approving reviews", "`policies_passed`: security failed"},
		Policies: []PolicyResult{
			{Set: "security", Enforcement: "mandatory", Status: PolicyFailed, Owners: []string{"alice", "@acme/sec"}, Needed: 1,
				Deny: []PolicyMessage{{Msg: "buckets must be private", Resource: "aws_s3_bucket.logs"}, {More: 4}}},
			{Set: "tags", Enforcement: "advisory", Status: PolicyWarned, Warn: []PolicyMessage{{Msg: "no owner tag"}}},
			{Set: "cost", Status: PolicyApproved, ApprovedBy: []string{"bob"}, Deny: []PolicyMessage{{Msg: "expensive"}}},
			{Set: "base", Status: PolicyPassed},
		}}}})
	assertContains(t, body,
		"- `security`: ❌ failed\n  - ❌ `aws_s3_bucket.logs`: buckets must be private\n  - … and 4 more messages not shown\n  - Needs an approval from an owner (@alice, @acme/sec).",
		"`atoll approve_policies --policy-set security`",
		"- `tags` (advisory): ⚠️ passed with 1 warning\n  - ⚠️ no owner tag",
		"- `cost`: ☑️ approved by @bob",
		"- `base`: ✅ passed",
		"**Still required before apply**\n- `approved`: 0 of 1 approving reviews\n- `policies_passed`: security failed",
		"- A policy owner approves the failed policy sets: `atoll approve_policies`")
	assertOutsideFolds(t, body, "buckets must be private")
}

func TestCommentApply(t *testing.T) {
	out := "terraform_data.web: Creating...\nterraform_data.web: Creation complete after 0s [id=1]\n\nApply complete! Resources: 1 added, 0 changed, 0 destroyed.\n\nOutputs:\n\nx = 1\n"
	body := renderComment(t, CommandComment{Command: "apply", Projects: []ProjectResult{
		{Name: "ok", Status: StatusApplied, Add: 1, ApplyOutput: out},
		{Name: "bad", Status: StatusApplyFailed, Add: 1, FailedStep: "apply", Error: "exit status 1",
			LogTail: "Error: creating thing: denied", ApplyOutput: "terraform_data.web: Creating...\n"},
		{Name: "no", Status: StatusRefused, Unmet: []string{"`approved`: 0 of 1 approving reviews"}},
	}})
	assertOutsideFolds(t, body, "✅ **Apply complete! Resources: 1 added, 0 changed, 0 destroyed.**")
	if d, _ := foldDepth(t, body, "Creation complete after 0s"); d != 1 {
		t.Errorf("the apply output is not folded")
	}
	if strings.Count(body, "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.") != 2 {
		t.Errorf("the apply line should appear outside and inside the fold")
	}
	assertContains(t, body, "❌ **`apply` failed**: exit status 1", "Error: creating thing: denied",
		"**Apply refused: requirements not met**\n- `approved`: 0 of 1 approving reviews",
		"Fix the errors above, then `atoll plan` and `atoll apply` again.")
	assertNotContains(t, body, "`atoll unlock`")
}

func TestCommentSummaryOnlyAndCap(t *testing.T) {
	body := renderComment(t, CommandComment{Projects: []ProjectResult{{Name: "app", Status: StatusPlanned, Add: 1,
		PlanText: createPlan, SummaryOnly: true, JobURL: "https://atoll.example/jobs/3"}}})
	assertContains(t, body, "[the full plan is on the job page](https://atoll.example/jobs/3)", "**Plan: 1 to add")
	assertNotContains(t, body, "```diff", "known after apply")

	plan, _ := bigPlan(200)
	body = renderComment(t, CommandComment{MaxPlanChars: 5000, Projects: []ProjectResult{{Name: "app", Status: StatusPlanned,
		Add: 100, PlanText: plan, JobURL: "https://atoll.example/jobs/4"}}})
	if len(body) > 8000 {
		t.Errorf("the plan cap was not applied: %d characters", len(body))
	}
	assertContains(t, body, "more lines not shown here: [the full plan is on the job page](https://atoll.example/jobs/4)",
		"<details><summary>Show plan (first ")
	assertOutsideFolds(t, body, "**Plan: 100 to add, 50 to change, 100 to destroy.**")
}

func TestCommentFencesAroundBackticks(t *testing.T) {
	plan := "  + content = <<-EOT\n        ```\n        code\n        ```\n    EOT\n"
	body := renderComment(t, CommandComment{Projects: []ProjectResult{{Name: "a", Status: StatusPlanned, Add: 1, PlanText: plan}}})
	assertContains(t, body, "````diff\n", "\n````\n")
}

func TestCommentInterruptedAndSkipped(t *testing.T) {
	body := renderComment(t, CommandComment{Command: "apply", Projects: []ProjectResult{
		{Name: "a", Status: StatusInterrupted, Error: "the server restarted"},
		{Name: "b", Status: StatusSkipped, Error: "no changes to apply"},
	}})
	assertContains(t, body, "⚠️ **Interrupted**: the server restarted\n", "⏭️ **Skipped**: no changes to apply")
	body = renderComment(t, CommandComment{Command: "apply", Projects: []ProjectResult{{Name: "a", Status: StatusInterrupted}}})
	assertContains(t, body, "⚠️ **Interrupted**: the infrastructure may be partly changed. Comment `atoll plan -p a` to see what remains to apply.")
	body = renderComment(t, CommandComment{Command: "plan", Projects: []ProjectResult{{Name: "a", Status: StatusInterrupted, Error: "stopped"}}})
	assertContains(t, body, "⚠️ **Interrupted**: stopped. Comment `atoll plan -p a` to run it again.")
	body = renderComment(t, CommandComment{Command: "apply", Projects: []ProjectResult{{Name: "a", Status: StatusInterrupted,
		Provisioned: []string{"terraform_data.x", "module.m.null_resource.y[0]"}}}})
	assertContains(t, body, "🧨 **Provisioners may have run outside the state**: `terraform_data.x`, `module.m.null_resource.y[0]` have provisioners")
}

func TestProjectTarget(t *testing.T) {
	tests := []struct {
		p    ProjectResult
		want string
	}{
		{ProjectResult{Name: "app", Dir: "x"}, "-p app"},
		{ProjectResult{Dir: "infra/x"}, "-d infra/x"},
		{ProjectResult{Dir: "infra/x", Workspace: "default"}, "-d infra/x"},
		{ProjectResult{Dir: "infra/x", Workspace: "prod"}, "-d infra/x -w prod"},
		{ProjectResult{}, "-d ."},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.Target(); got != tt.want {
				t.Fatalf("Target() = %q, want %q", got, tt.want)
			}
		})
	}
}
