package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// atlantisYAML is an Atlantis atlantis.yaml as its documentation writes
// them: one dir in two workspaces, a project planned when a shared module
// changes (but not when its README does), a project that never autoplans,
// and a key atoll does not act on.
const atlantisYAML = `version: 3
projects:
- name: app-staging
  dir: app
  workspace: staging
- name: app-production
  dir: app
  workspace: production
  import_requirements: [approved]
- dir: manual
  autoplan:
    enabled: false
- dir: edge
  autoplan:
    when_modified: ["*.tf", "../modules/net/*", "!../modules/net/README.md"]
`

// A repository that moves from Atlantis keeps its atlantis.yaml: atoll
// plans its projects as Atlantis would, each (dir, workspace) apart, and
// heads the comment with the key it does not act on, with its line.
func TestAtlantisYAMLRepository(t *testing.T) {
	e := Start(t, Options{ServerConfig: "command_aliases: [atlantis]\n"})
	repo := e.Repo("atlantis-yaml", map[string]string{
		"atlantis.yaml":         atlantisYAML,
		"app/main.tf":           `resource "terraform_data" "app" {}` + "\n",
		"manual/main.tf":        `resource "terraform_data" "manual" {}` + "\n",
		"edge/main.tf":          `resource "terraform_data" "edge" {}` + "\n",
		"modules/net/vars.json": "{}\n",
		"modules/net/README.md": "net\n",
		"unlisted/main.tf":      `resource "terraform_data" "unlisted" {}` + "\n",
	}, map[string]string{"alice": "write"})

	n := e.PR(repo, "change", "alice", map[string]*string{
		"app/main.tf":           S(`resource "terraform_data" "app" { input = "v2" }` + "\n"),
		"manual/main.tf":        S(`resource "terraform_data" "manual" { input = "v2" }` + "\n"),
		"modules/net/vars.json": S(`{"v": 2}` + "\n"),
		"unlisted/main.tf":      S(`resource "terraform_data" "unlisted" { input = "v2" }` + "\n"),
	})
	cm := e.Wait(repo, n, 0, "### atoll plan", "app-staging", "app-production", "`edge`")
	for _, want := range []string{
		"`atlantis.yaml`:** atoll does not act on 1 key",
		"line 9, `projects[1].import_requirements`",
		"| `staging` |", "| `production` |",
	} {
		if !strings.Contains(cm.Body, want) {
			t.Errorf("plan comment lacks %q:\n%s", want, cm.Body)
		}
	}
	for _, not := range []string{"`manual`", "`unlisted`"} {
		if strings.Contains(cm.Body, not) {
			t.Errorf("plan comment plans %s (autoplan disabled, or not listed):\n%s", not, cm.Body)
		}
	}

	// A change to the module's README alone plans nothing: "!" excludes it.
	n2 := e.PR(repo, "readme", "alice", map[string]*string{"modules/net/README.md": S("net, documented\n")})
	after := e.Comment(repo, n2, "alice", "atlantis plan -p edge")
	e.Wait(repo, n2, after, "atoll plan", "`edge`")
	for _, c := range e.BotComments(repo, n2) {
		if strings.Contains(c.Body, "Started by push") {
			t.Errorf("a README change autoplanned:\n%s", c.Body)
		}
	}
}

// conftestPolicy is a conftest policy as Atlantis users keep them: package
// main, Rego v0, the bare plan as input.
const conftestPolicy = `package main

deny[msg] {
	rc := input.resource_changes[_]
	rc.type == "terraform_data"
	rc.change.after.input == "public"
	msg := sprintf("%s is public: only the security team may publish", [rc.address])
}
`

// A conftest policy set with owners: its failure blocks the apply until an
// owner approves, as atoll's own sets do.
func TestConftestPolicySetWithOwners(t *testing.T) {
	dir := policyDir(t, map[string]string{"public.rego": conftestPolicy})
	e := Start(t, Options{ServerConfig: fmt.Sprintf(`
command_aliases: [atlantis]
apply_requirements: [mergeable]
policy_sets:
  - name: security
    path: %s
    format: conftest
    owners: [acme/security]
`, dir)})
	repo := e.Repo("conftest", map[string]string{"app/main.tf": e.Backend("conftest-app")},
		map[string]string{"alice": "write", "sam": "write"})
	if err := e.C.Control.AddTeamMember(e.Ctx(), Org, "security", "sam"); err != nil {
		t.Fatal(err)
	}
	n := e.PR(repo, "publish", "alice", map[string]*string{"app/main.tf": S(policyTF(e, "conftest-app", "x", "public"))})
	cm := e.Wait(repo, n, 0, "### atoll plan", "`security`: ❌ failed")
	if !strings.Contains(cm.Body, policyMessage) {
		t.Errorf("plan comment lacks the conftest message:\n%s", cm.Body)
	}
	after := e.Comment(repo, n, "alice", "atlantis apply")
	e.Wait(repo, n, after, "Apply refused", "`policies_passed`", "@acme/security")
	after = e.Comment(repo, n, "sam", "atlantis approve_policies")
	e.Wait(repo, n, after, "Approved the failing policy sets `security")
	after = e.Comment(repo, n, "alice", "atlantis apply")
	e.Wait(repo, n, after, "Apply complete!")
}

// Execution order groups as Atlantis runs them: group by group, and with
// abort_on_execution_order_fail a failure skips the later groups; depends_on
// refuses to apply a project before the one it depends on, and an apply of
// all applies them in order.
func TestAtlantisExecutionOrder(t *testing.T) {
	e := Start(t, Options{ServerConfig: "command_aliases: [atlantis]\napply_requirements: [mergeable]\n"})
	repo := e.Repo("ordered", map[string]string{
		"atlantis.yaml": `version: 3
abort_on_execution_order_fail: true
projects:
- dir: zero
- dir: first
  execution_order_group: 1
- dir: second
  execution_order_group: 2
- name: staging
  dir: staging
  execution_order_group: 1
- name: production
  dir: production
  execution_order_group: 2
  depends_on: [staging]
`,
		"zero/main.tf":       e.Backend("zero"),
		"first/main.tf":      e.Backend("first"),
		"second/main.tf":     e.Backend("second"),
		"staging/main.tf":    e.Backend("staging"),
		"production/main.tf": e.Backend("production"),
	}, map[string]string{"alice": "write"})

	n := e.PR(repo, "broken", "alice", map[string]*string{
		"zero/main.tf":   S(policyTF(e, "zero", "x", "a")),
		"first/main.tf":  S(e.Backend("first") + "resource \"terraform_data\" \"x\" {\n  input = undefined_thing\n}\n"),
		"second/main.tf": S(policyTF(e, "second", "x", "b")),
	})
	cm := e.Wait(repo, n, 0, "### atoll plan", "`second`", "not run: first, in an earlier execution order group, failed")
	if !strings.Contains(cm.Body, "| `zero` | `default` | 1 | 0 | 0 |") {
		t.Errorf("group 0 did not plan:\n%s", cm.Body)
	}

	n2 := e.PR(repo, "promote", "alice", map[string]*string{
		"staging/main.tf":    S(policyTF(e, "staging", "x", "v2")),
		"production/main.tf": S(policyTF(e, "production", "x", "v2")),
	})
	e.Wait(repo, n2, 0, "### atoll plan", "`staging`", "`production`")
	after := e.Comment(repo, n2, "alice", "atlantis apply -p production")
	e.Wait(repo, n2, after, "Apply refused", "`depends_on`: apply `staging` first")
	after = e.Comment(repo, n2, "alice", "atlantis apply")
	// staging's group comes first, so production's depends_on holds.
	e.Wait(repo, n2, after, "### atoll apply", "**done**: 2 applied",
		"| `staging` | `default` | 1 | 0 | 0 | ✅ applied |", "| `production` | `default` | 1 | 0 | 0 | ✅ applied |")
}
