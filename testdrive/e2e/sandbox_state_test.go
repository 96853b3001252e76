package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// stateIsoTF reads, with file(), the state of the project's default
// workspace and of the project nested in its dir (app/b), at the old
// layout's paths and at the current ones, and keeps one resource of its
// own; every read shows "refused" when it fails.
const stateIsoTF = `
resource "terraform_data" "x" { input = terraform.workspace }

output "old_default" { value = try(file("OLD/app/terraform.tfstate"), "refused") }
output "old_nested" { value = try(file("OLD/app/b/terraform.tfstate"), "refused") }
output "new_default" { value = try(file("NEW/app/default/terraform.tfstate"), "refused") }
output "new_nested" { value = try(file("NEW/app%2Fb/default/terraform.tfstate"), "refused") }
`

// A plan in one workspace cannot read the state of its project's other
// workspaces, nor that of a project in a dir under its own (issue 11: "a
// plan may write only the state directory of that project and
// workspace"), while its own state works: it applies, and the next plan
// finds no changes. The default workspace of another project works as
// well under the same sandbox.
func TestSandboxIsolatesWorkspaceState(t *testing.T) {
	e := Start(t, Options{})
	const secret = "other-workspace-state-secret-0815"
	old := filepath.Join(e.DataDir(), "state", Org, "iso")
	cur := filepath.Join(e.DataDir(), "tfstate", Org, "iso")
	for _, p := range []string{
		filepath.Join(old, "app", "terraform.tfstate"), filepath.Join(old, "app", "b", "terraform.tfstate"),
		filepath.Join(cur, "app%2Fb", "default", "terraform.tfstate"),
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(`{"version":4,"terraform_version":"1.5.7","serial":1,"lineage":"`+secret+`","outputs":{},"resources":[]}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tf := strings.NewReplacer("OLD", old, "NEW", cur).Replace(stateIsoTF)
	repo := e.Repo("iso", map[string]string{
		"atoll.yaml":  "version: 1\nprojects:\n- dir: app\n  workspace: staging\n- dir: web\n",
		"app/main.tf": "# app\n",
		"web/main.tf": "# web\n",
	}, map[string]string{"alice": "write", "bob": "write"})
	n := e.PR(repo, "steal", "alice", map[string]*string{
		"app/main.tf": S(tf),
		"web/main.tf": S(`resource "terraform_data" "web" { input = terraform.workspace }` + "\n"),
	})
	cm := e.Wait(repo, n, 0, "### atoll plan", "Plan: 1 to add, 0 to change, 0 to destroy.", "staging", "`web`")
	for _, out := range []string{"old_default", "old_nested", "new_default", "new_nested"} {
		if !regexp.MustCompile(`\+\s+` + out + ` *= "refused"`).MatchString(cm.Body) {
			t.Errorf("the staging plan was not refused reading %s:\n%s", out, cm.Body)
		}
	}
	if strings.Contains(cm.Body, secret) {
		t.Fatalf("another workspace's state reached the plan comment:\n%s", cm.Body)
	}

	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last := e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "Apply complete!", "**done**")
	if strings.Count(cm.Body, "✅ applied") != 2 {
		t.Errorf("both projects should apply one resource:\n%s", cm.Body)
	}
	last = e.Comment(repo, n, "alice", "atoll plan")
	cm = e.Wait(repo, n, last, "### atoll plan", "**done**")
	if !strings.Contains(cm.Body, "2 with no changes") || !strings.Contains(cm.Body, "`app:staging` (`app`, workspace `staging`), `web` (`web`)") {
		t.Errorf("after the apply, the plans of staging and of web should find no changes:\n%s", cm.Body)
	}
	for _, p := range []string{filepath.Join(cur, "app", "ws", "staging", "terraform.tfstate"), filepath.Join(cur, "web", "default", "terraform.tfstate")} {
		if b, err := os.ReadFile(p); err != nil || !strings.Contains(string(b), "terraform_data") {
			t.Errorf("state %s: %v\n%s", p, err, b)
		}
	}
}
