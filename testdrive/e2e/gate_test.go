package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// gateApprove submits an approving review of repo#n by user.
func gateApprove(e *Env, repo string, n int, user string) {
	e.t.Helper()
	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, user)); err != nil {
		e.t.Fatal(err)
	}
}

// gateTeam adds users to acme/team.
func gateTeam(e *Env, team string, users ...string) {
	e.t.Helper()
	for _, u := range users {
		if err := e.C.Control.AddTeamMember(e.Ctx(), Org, team, u); err != nil {
			e.t.Fatal(err)
		}
	}
}

// Attack 2: a pull request renames the base branch's project `prod` (its
// dir unchanged). The rules the base attaches to that dir still hold: its
// required reviewers and the policy set scoped to `prod`. Renaming it onto
// the name of a base project that relaxes `approved` relaxes nothing.
func TestGateRenamedProjectKeepsBaseRules(t *testing.T) {
	strict := policyDir(t, map[string]string{"public.rego": policyPublic})
	e := Start(t, Options{ServerConfig: fmt.Sprintf(`
repo_may_relax: [approved]
policy_sets:
  - name: strict
    path: %s
    owners: [acme/security]
    projects: ["prod"]
`, strict)})
	gateTeam(e, "sre", "sam")
	const base = `version: 1
projects:
  - name: prod
    dir: prod
    required_reviewers:
      - teams: [acme/sre]
  - name: sandbox
    dir: sandbox
    apply_requirements: ["!approved"]
`
	perms := map[string]string{"alice": "write", "bob": "write", "sam": "write"}
	repo := e.Repo("renamed", map[string]string{"atoll.yaml": base, "prod/main.tf": e.Backend("renamed-prod"),
		"sandbox/main.tf": e.Backend("renamed-sandbox")}, perms)
	n := e.PR(repo, "rename", "alice", map[string]*string{
		"atoll.yaml":   S("version: 1\nprojects:\n  - name: prod-renamed\n    dir: prod\n  - name: sandbox\n    dir: sandbox\n    apply_requirements: [\"!approved\"]\n"),
		"prod/main.tf": S(policyTF(e, "renamed-prod", "x", "public")),
	})
	e.Wait(repo, n, 0, "Plan: 1 to add")
	gateApprove(e, repo, n, "bob")
	last := e.Comment(repo, n, "alice", "atoll apply")
	cm := e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`prod-renamed`",
		"`required_reviewers`: 0 of 1 approvals from @acme/sre for every change (rule of project `prod` of atoll.yaml on the base branch)",
		"policy set `strict` failed ("+policyMessage+")")
	applyNot(t, cm.Body, "`approved`")

	// Renamed onto the relaxed name: `approved` still holds for dir prod.
	repo2 := e.Repo("renamed-onto", map[string]string{"atoll.yaml": base, "prod/main.tf": e.Backend("onto-prod"),
		"sandbox/main.tf": e.Backend("onto-sandbox")}, perms)
	onto := "version: 1\nprojects:\n  - name: sandbox\n    dir: prod\n    apply_requirements: [\"!approved\"]\n  - name: sb\n    dir: sandbox\n"
	n = e.PR(repo2, "onto", "alice", map[string]*string{"atoll.yaml": S(onto), "prod/main.tf": S(policyTF(e, "onto-prod", "x", "private"))})
	e.Wait(repo2, n, 0, "Plan: 1 to add")
	last = e.Comment(repo2, n, "alice", "atoll apply")
	cm = e.Wait(repo2, n, last, "Apply refused")
	applyWant(t, cm.Body, "`sandbox`", "`approved`: 0 of 1 approving reviews", "`required_reviewers`: 0 of 1 approvals from @acme/sre")
}

// Attack 4: an approval covers the plan it saw. After an approved apply,
// `atoll plan -- -destroy` shows its arguments and needs an approving
// review submitted after it; a new commit needs an approval of its own
// (dismiss_stale_approvals defaults to true).
func TestGateDestroyPlanNeedsNewApproval(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("destroy", map[string]string{"app/main.tf": e.Backend("destroy-app")},
		map[string]string{"alice": "write", "bob": "write"})
	n := e.PR(repo, "grow", "alice", map[string]*string{"app/main.tf": S(policyTF(e, "destroy-app", "a", "1", "b", "2"))})
	e.Wait(repo, n, 0, "Plan: 2 to add")
	gateApprove(e, repo, n, "bob")
	last := e.Comment(repo, n, "alice", "atoll apply")
	e.Wait(repo, n, last, "Apply complete! Resources: 2 added")

	last = e.Comment(repo, n, "alice", "atoll plan -- -destroy")
	cm := e.Wait(repo, n, last, "Plan: 0 to add, 0 to change, 2 to destroy")
	applyWant(t, cm.Body, "Planned with `-destroy`.", "it needs a new approving review")
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`approved`: 0 of 1 approving reviews by writers other than the author of the planned commit, submitted after the plan made with `-destroy`")
	time.Sleep(time.Second) // review times are whole seconds: one in the plan's second does not count
	gateApprove(e, repo, n, "bob")
	last = e.Comment(repo, n, "alice", "atoll apply")
	e.Wait(repo, n, last, "Apply complete! Resources: 0 added, 0 changed, 2 destroyed")

	// A new commit: bob's approval was of the older head.
	if _, err := e.C.Control.Commit(e.Ctx(), emulator.Commit{Repo: repo, Branch: "grow", Author: "alice", Message: "more",
		Files: map[string]*string{"app/main.tf": S(policyTF(e, "destroy-app", "c", "3"))}}); err != nil {
		t.Fatal(err)
	}
	e.WaitMatch(repo, n, last, func(b string) bool { return strings.Contains(b, "Plan: 1 to add") && strings.Contains(b, "**done**") })
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`approved`: 0 of 1 approving reviews by writers other than the author of the planned commit")
}

// Attack 5: after a merge the review requirements still hold. A pull
// request merged without its two approvals and its required team applies
// nothing, keeps its locks and says what is missing; reviews on the merged
// pull request and `atoll apply` then apply it.
func TestGateMergeWithMissingReviewsAppliesNothing(t *testing.T) {
	e := Start(t, Options{ServerConfig: `
apply_mode: after_merge
approvals: 2
required_reviewers:
  - teams: [acme/sre]
`})
	gateTeam(e, "sre", "sam")
	repo := e.Repo("merged", map[string]string{"app/main.tf": e.Backend("merged-app")},
		map[string]string{"alice": "write", "bob": "write", "sam": "write"})
	n := e.PR(repo, "grow", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "merged-app", "one"))})
	e.Wait(repo, n, 0, "Plan: 1 to add")
	if _, err := e.C.Control.Merge(e.Ctx(), emulator.Merge{Repo: repo, Number: n, Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	cm := e.Wait(repo, n, 0, "Apply refused", "This pull request is merged")
	applyWant(t, cm.Body, "`approved`: 0 of 2 approving reviews", "`required_reviewers`: 0 of 1 approvals from @acme/sre for every change",
		"Nothing was applied and the locks stay held")
	if got := applyLines(t, applyCountFile(e, "merged-app")); len(got) != 0 {
		t.Fatalf("applied on merge without reviews: %v", got)
	}
	// The retry below plans and applies only projects whose locks the
	// merged pull request still holds: its success shows they were kept.
	gateApprove(e, repo, n, "bob")
	gateApprove(e, repo, n, "sam")
	last := e.Comment(repo, n, "alice", "atoll apply")
	e.Wait(repo, n, last, "Apply complete!")
	if got := applyLines(t, applyCountFile(e, "merged-app")); len(got) != 1 {
		t.Fatalf("applies after approval = %v, want one", got)
	}
}

// Attack 6: `mergeable` holds only when GitHub says clean, or blocked or
// unstable by atoll's own checks only. A required check that has not run
// blocks the apply; once it passes, the apply runs.
func TestGateMergeableRefusedWhenBlocked(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("blocked", map[string]string{"app/main.tf": e.Backend("blocked-app")},
		map[string]string{"alice": "write", "bob": "write"})
	ctx := e.Ctx()
	if err := e.C.Control.ProtectBranch(ctx, emulator.BranchProtection{Repo: repo, Branch: "main",
		RequiredChecks: []string{"ci", "atoll/apply: app"}}); err != nil {
		t.Fatal(err)
	}
	n := e.PR(repo, "grow", "alice", map[string]*string{"app/main.tf": S(policyTF(e, "blocked-app", "a", "1"))})
	e.Wait(repo, n, 0, "Plan: 1 to add")
	gateApprove(e, repo, n, "bob")
	last := e.Comment(repo, n, "alice", "atoll apply")
	cm := e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`mergeable`: required checks not passing: ci")
	applyNot(t, cm.Body, "atoll/apply")

	// Required reviews GitHub counts are missing, and no check of atoll's
	// explains the block: refused.
	if err := e.C.Control.ProtectBranch(ctx, emulator.BranchProtection{Repo: repo, Branch: "main",
		RequiredChecks: []string{"ci"}, RequiredApprovals: 2}); err != nil {
		t.Fatal(err)
	}
	if err := e.C.Control.ExternalCheck(ctx, emulator.ExternalCheck{Repo: repo, Name: "ci", HeadSHA: e.Head(repo, n),
		Status: "completed", Conclusion: "success"}); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`mergeable`: GitHub reports the merge blocked")

	// Only atoll's own required check is missing: mergeable.
	if err := e.C.Control.ProtectBranch(ctx, emulator.BranchProtection{Repo: repo, Branch: "main",
		RequiredChecks: []string{"ci", "atoll/apply: app"}, RequiredApprovals: 1}); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, n, "alice", "atoll apply")
	e.Wait(repo, n, last, "Apply complete!")
}
