package e2e

// Keys of atlantis.yaml that change what atoll does around a plan and an
// apply, with Atlantis's documented meaning: repo_locks.mode,
// silence_pr_comments and delete_source_branch_on_merge.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// repoLocksYAML has a project for each repo_locks.mode.
const repoLocksYAML = `version: 3
projects:
- name: onplan
  dir: onplan
- name: onapply
  dir: onapply
  repo_locks:
    mode: on_apply
- name: free
  dir: free
  repo_locks: {mode: disabled}
`

// repo_locks.mode: on_plan (the default) locks when planning; on_apply
// plans freely and locks when applying; disabled never locks.
func TestAtlantisRepoLocksMode(t *testing.T) {
	e := Start(t, Options{ServerConfig: "command_aliases: [atlantis]\napply_requirements: [mergeable]\n"})
	repo := e.Repo("repolocks", map[string]string{
		"atlantis.yaml":  repoLocksYAML,
		"onplan/main.tf": e.Backend("onplan"), "onapply/main.tf": e.Backend("onapply"), "free/main.tf": e.Backend("free"),
	}, map[string]string{"alice": "write", "bob": "write"})
	change := func(line string) map[string]*string {
		return map[string]*string{
			"onplan/main.tf":  S(applyTF(e, "onplan", line)),
			"onapply/main.tf": S(applyTF(e, "onapply", line)),
			"free/main.tf":    S(applyTF(e, "free", line)),
		}
	}
	one := e.PR(repo, "one", "alice", change("a"))
	e.WaitMatch(repo, one, 0, func(b string) bool { return strings.Count(b, "| ✅ planned |") == 3 && !isRunningRun(b) })

	// The second pull request finds only the on_plan project locked.
	two := e.PR(repo, "two", "bob", change("b"))
	cm := e.WaitMatch(repo, two, 0, func(b string) bool { return strings.Contains(b, planHeading) && !isRunningRun(b) })
	if n := strings.Count(cm.Body, "🔒 **Locked by"); n != 1 || strings.Count(cm.Body, "| ✅ planned |") != 2 {
		t.Fatalf("want onplan locked by #%d and the two others planned:\n%s", one, cm.Body)
	}
	applyWant(t, cm.Body, "`onplan`, workspace `default`, so this project was not planned")

	// Applying the on_apply project takes its lock: the first pull request
	// may no longer apply it.
	last := e.Comment(repo, two, "bob", "atlantis apply -p onapply")
	e.Wait(repo, two, last, "Apply complete!")
	last = e.Comment(repo, one, "alice", "atlantis apply -p onapply")
	cm = e.Wait(repo, one, last, "### atoll apply", "🔒 **Locked by")
	applyWant(t, cm.Body, "so this project was not applied", "`atoll apply -p onapply`")
	if got := applyLines(t, applyCountFile(e, "onapply")); len(got) != 1 || got[0] != "b" {
		t.Fatalf("onapply applied %q, want only #%d's [b]", got, two)
	}

	// The disabled project was planned by both and locked by neither.
	last = e.Comment(repo, one, "alice", "atlantis apply -p free")
	e.Wait(repo, one, last, "Apply complete!")
}

// silence_pr_comments: [plan, apply] leaves the comments out and keeps
// the check runs; delete_source_branch_on_merge deletes the branch once
// automerge merged it, and only then.
func TestAtlantisSilenceAndDeleteBranch(t *testing.T) {
	e := Start(t, Options{ServerConfig: "command_aliases: [atlantis]\napply_requirements: [mergeable]\nautomerge: {enabled: true}\n"})
	perms := map[string]string{"alice": "write"}
	repo := e.Repo("quiet", map[string]string{
		"atlantis.yaml": `version: 3
automerge: true
delete_source_branch_on_merge: true
projects:
- name: quiet
  dir: quiet
  silence_pr_comments: [plan, apply]
`,
		"quiet/main.tf": e.Backend("quiet"),
	}, perms)
	n := e.PR(repo, "quiet-change", "alice", map[string]*string{"quiet/main.tf": S(applyTF(e, "quiet", "v1"))})
	applyWaitCheck(e, repo, e.Head(repo, n), "atoll/plan: quiet", "success")
	e.Comment(repo, n, "alice", "atlantis apply")
	applyWaitCheck(e, repo, e.Head(repo, n), "atoll/apply: quiet", "success")
	applyWaitMerged(e, repo, n)
	for _, c := range e.BotComments(repo, n) {
		if strings.Contains(c.Body, planHeading) || strings.Contains(c.Body, "### atoll apply") {
			t.Errorf("a silenced command commented:\n%s", c.Body)
		}
	}
	if got := applyLines(t, applyCountFile(e, "quiet")); len(got) != 1 || got[0] != "v1" {
		t.Fatalf("applied %q, want [v1]", got)
	}
	e.Eventually("the merged branch deleted", func() bool { return !branchExists(e, repo, "quiet-change") })

	// Without the key the branch stays, and the comments are there.
	kept := e.Repo("kept", map[string]string{
		"atlantis.yaml": "version: 3\nautomerge: true\nprojects:\n- name: kept\n  dir: kept\n",
		"kept/main.tf":  e.Backend("kept"),
	}, perms)
	k := e.PR(kept, "kept-change", "alice", map[string]*string{"kept/main.tf": S(applyTF(e, "kept", "v1"))})
	e.Wait(kept, k, 0, planHeading, "Plan: 1 to add")
	last := e.Comment(kept, k, "alice", "atlantis apply")
	e.Wait(kept, k, last, "Apply complete!")
	applyWaitMerged(e, kept, k)
	if !branchExists(e, kept, "kept-change") {
		t.Errorf("the branch of %s#%d was deleted without delete_source_branch_on_merge", kept, k)
	}
}

// branchExists reads a branch through the REST API.
func branchExists(e *Env, repo, branch string) bool {
	e.t.Helper()
	owner, name, _ := strings.Cut(repo, "/")
	_, res, err := e.C.REST.Repositories.GetBranch(e.Ctx(), owner, name, branch, 0)
	if res != nil && res.StatusCode == http.StatusNotFound {
		return false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return true
}

// varFilesYAML is Atlantis's documented example of one dir in two
// workspaces, each planned with its own var file by its own workflow.
const varFilesYAML = `version: 3
projects:
- name: project1-staging
  dir: project1
  workspace: staging
  workflow: staging
- name: project1-production
  dir: project1
  workspace: production
  workflow: production
workflows:
  staging:
    plan:
      steps:
      - init
      - plan:
          extra_args: ["-var-file", "staging.tfvars"]
  production:
    plan:
      steps:
      - init
      - plan:
          extra_args: ["-var-file", "production.tfvars"]
`

// Workspaces with var files, as Atlantis's docs write them: each
// workspace plans with its var file, and `atlantis apply -w` applies one.
func TestAtlantisWorkspacesWithVarFiles(t *testing.T) {
	e := Start(t, Options{ServerConfig: `command_aliases: [atlantis]
apply_requirements: [mergeable]
repo_rules:
- id: "acme/*"
  allow_custom_workflows: true
`})
	tf := atlantisTF(e, "project1", "${var.size}") + "variable \"size\" {}\n"
	repo := e.Repo("varfiles", map[string]string{
		"atlantis.yaml":              varFilesYAML,
		"project1/main.tf":           e.Backend("unused") + "\n",
		"project1/staging.tfvars":    "size = \"small\"\n",
		"project1/production.tfvars": "size = \"large\"\n",
	}, map[string]string{"alice": "write"})
	n := e.PR(repo, "vars", "alice", map[string]*string{"project1/main.tf": S(tf)})
	cm := e.WaitMatch(repo, n, 0, func(b string) bool { return strings.Count(b, "| ✅ planned |") == 2 && !isRunningRun(b) })
	applyWant(t, cm.Body, "| `staging` |", "| `production` |", `"small"`, `"large"`)

	last := e.Comment(repo, n, "alice", "atlantis apply -d project1 -w staging")
	cm = e.Wait(repo, n, last, "Apply complete!")
	applyNot(t, cm.Body, "project1-production")
	if got := applyLines(t, applyCountFile(e, "project1")); len(got) != 1 || got[0] != "small-staging" {
		t.Fatalf("applied %q, want staging with its var file: [small-staging]", got)
	}
}

// plan_requirements: [approved] as Atlantis's docs write it: no plan,
// on a push or a comment, before an approval; then the plan runs.
func TestAtlantisPlanRequirements(t *testing.T) {
	e := Start(t, Options{ServerConfig: "command_aliases: [atlantis]\napply_requirements: [mergeable]\n"})
	repo := e.Repo("planreqs", map[string]string{
		"atlantis.yaml": "version: 3\nprojects:\n- name: prod\n  dir: prod\n  plan_requirements: [approved]\n",
		"prod/main.tf":  e.Backend("prod"),
	}, map[string]string{"alice": "write", "bob": "write"})
	n := e.PR(repo, "change", "alice", map[string]*string{"prod/main.tf": S(applyTF(e, "prod", "v1"))})
	cm := e.Wait(repo, n, 0, planHeading, "`plan_requirements` failed", "`approved`: 0 of 1")
	applyNot(t, cm.Body, "Plan: 1 to add")

	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last := e.Comment(repo, n, "alice", "atlantis plan -p prod")
	e.Wait(repo, n, last, planHeading, "Plan: 1 to add")
}

// A project without locks (repo_locks.mode: disabled) whose apply after
// the merge failed is still retried by `atlantis apply` on the merged pull
// request: no lock marks it, its failed apply does.
func TestAtlantisUnlockedRetryAfterMerge(t *testing.T) {
	e := Start(t, Options{ServerConfig: "command_aliases: [atlantis]\napply_requirements: [mergeable]\n"})
	repo := e.Repo("unlockedretry", map[string]string{
		"atoll.yaml":    "version: 1\napply_mode: after_merge\nprojects:\n- name: flaky\n  dir: flaky\n  repo_locks: {mode: disabled}\n",
		"flaky/main.tf": e.Backend("flaky"),
	}, map[string]string{"alice": "write", "bob": "write"})
	ok := filepath.Join(e.Dir, "flaky-may-apply")
	flaky := e.Backend("flaky") + fmt.Sprintf(`
resource "terraform_data" "x" {
  input = "v1"
  provisioner "local-exec" {
    command = "test -f '%s' && echo v1 >> '%s'"
  }
}
`, ok, applyCountFile(e, "flaky"))
	n := e.PR(repo, "add-flaky", "alice", map[string]*string{"flaky/main.tf": S(flaky)})
	e.Wait(repo, n, 0, planHeading, "Plan: 1 to add")
	last := e.C.LastCommentID(e.Ctx(), repo, n)
	if _, err := e.C.Control.Merge(e.Ctx(), emulator.Merge{Repo: repo, Number: n, Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	cm := e.Wait(repo, n, last, "### atoll apply", "**done**")
	applyWant(t, cm.Body, "failed")

	if err := os.WriteFile(ok, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, n, "alice", "atlantis apply")
	e.Wait(repo, n, last, "Apply complete!", "**done**")
	last = e.Comment(repo, n, "alice", "atlantis apply")
	e.Wait(repo, n, last, "every project is applied: nothing to retry")
}
