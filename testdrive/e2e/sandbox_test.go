package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"
)

// attackTF is a project whose plan tries to read atoll's secrets with
// Terraform's built-in functions only (issue 11, attack 1): its own
// /proc status for the parent's pid, the parent's cmdline for the config
// path, then the config, the parent's environment, and, at paths an
// attacker could guess, the config, the App key, the database and another
// repository's state. Every read is shown in the plan as an output,
// "refused" when it failed.
const attackTF = `
locals {
  status   = try(file("/proc/self/status"), "")
  ppid     = try(regex("PPid:\\s+([0-9]+)", local.status)[0], "")
  cmdline  = try(file("/proc/${local.ppid}/cmdline"), "refused")
  found    = try(regex("--config\\x00([^\\x00]+)", local.cmdline)[0], "")
  from_cmd = try(file(local.found), "refused")
  environ  = try(file("/proc/${local.ppid}/environ"), "refused")
  parent   = try(file("/proc/1/cmdline"), "refused")
}

resource "terraform_data" "x" {}

output "status" { value = local.status == "" ? "refused" : local.status }
output "cmdline" { value = local.cmdline }
output "config_from_cmdline" { value = local.from_cmd }
output "environ" { value = local.environ }
output "init_cmdline" { value = local.parent }
output "config" { value = try(file("CONFIG"), "refused") }
output "key" { value = try(file("KEY"), "refused") }
output "database" { value = try(filebase64("DB"), "refused") }
output "other_state" { value = try(file("VICTIM"), "refused") }
output "other_worktrees" { value = try(length(fileset("WORK", "**")) > 0 ? join(",", fileset("WORK", "**")) : "refused", "refused") }
output "worktree" { value = try(length(file("${path.module}/main.tf")) > 0 ? "readable" : "empty", "refused") }
`

// A pull request's plan cannot read atoll's configuration, App key,
// database, other repositories' state or atoll's /proc entries: every
// read is refused, the plan says so, and no secret reaches a comment, a
// check run or a job log.
func TestSandboxHidesAtollFromPlans(t *testing.T) {
	e := Start(t, Options{})
	// Another repository's state under the data dir, as a project
	// without a backend keeps it.
	victim := filepath.Join(e.DataDir(), "tfstate", Org, "victim", "%2E", "default", "terraform.tfstate")
	if err := os.MkdirAll(filepath.Dir(victim), 0o700); err != nil {
		t.Fatal(err)
	}
	const victimSecret = "victim-state-secret-4711"
	if err := os.WriteFile(victim, []byte(`{"secret":"`+victimSecret+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(e.Private, "app.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keyLines := strings.Split(strings.TrimSpace(string(keyPEM)), "\n")
	secrets := map[string]string{"webhook secret": e.Secret, "API token": e.Token,
		"private key": keyLines[len(keyLines)/2], "other repository's state": victimSecret}

	tf := strings.NewReplacer("CONFIG", e.Config, "KEY", filepath.Join(e.Private, "app.pem"),
		"DB", filepath.Join(e.DataDir(), "atoll.db"), "VICTIM", victim,
		"WORK", filepath.Join(e.DataDir(), "work")).Replace(attackTF)
	repo := e.Repo("attack", map[string]string{"app/main.tf": e.Backend("attack")}, map[string]string{"mallory": "write"})
	n := e.PR(repo, "steal", "mallory", map[string]*string{"app/main.tf": S(e.Backend("attack") + tf)})
	cm := e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")

	for _, out := range []string{"status", "cmdline", "config_from_cmdline", "environ", "init_cmdline",
		"config", "key", "database", "other_state", "other_workt"} {
		if !regexp.MustCompile(`\+\s+` + out + `\w* *= "refused"`).MatchString(cm.Body) {
			t.Errorf("the plan was not refused reading %s:\n%s", out, cm.Body)
		}
	}
	if !regexp.MustCompile(`\+\s+worktree *= "readable"`).MatchString(cm.Body) {
		t.Errorf("the plan could not read its own worktree:\n%s", cm.Body)
	}

	// Everything a user can read: comments, check runs, job logs.
	var texts []string
	for _, c := range e.BotComments(repo, n) {
		texts = append(texts, c.Body)
	}
	owner, name, _ := strings.Cut(repo, "/")
	runs, _, err := e.C.REST.Checks.ListCheckRunsForRef(e.Ctx(), owner, name, e.Head(repo, n), &gh.ListCheckRunsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs.CheckRuns {
		texts = append(texts, r.GetOutput().GetTitle(), r.GetOutput().GetSummary(), r.GetOutput().GetText())
	}
	jobs := regexp.MustCompile(`/jobs/([A-Za-z0-9_-]+)`).FindAllStringSubmatch(strings.Join(texts, "\n"), -1)
	if len(jobs) == 0 {
		t.Fatal("no job page linked from the comments or checks")
	}
	for _, j := range jobs {
		for _, page := range []string{"/jobs/" + j[1], "/jobs/" + j[1] + "/log"} {
			resp, err := http.Get(e.AtollURL + page)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			texts = append(texts, string(b))
		}
	}
	all := strings.Join(texts, "\n")
	for what, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("the %s reached what users read", what)
		}
	}

	resp, err := http.Get(e.AtollURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "sandbox: landlock") {
		t.Errorf("/healthz does not say the sandbox is active:\n%s", body)
	}
	if strings.Contains(cm.Body, "without its sandbox") {
		t.Errorf("a sandboxed plan's comment warns it was not sandboxed:\n%s", cm.Body)
	}
}

// A workflow's run steps and hooks run the pull request's code as much as
// terraform does, and are sandboxed as it is: they read the checkout, not
// atoll's config, key or /proc entries.
func TestSandboxConfinesCustomSteps(t *testing.T) {
	probe := `for f in "$ATOLL_CONFIG_GUESS" "$ATOLL_KEY_GUESS" /proc/$PPID/cmdline /proc/$PPID/environ main.tf; do if cat "$f" >/dev/null 2>&1; then echo "read:$f"; else echo "refused:$f"; fi; done`
	cfg := `workflows:
  probe:
    plan:
      steps:
      - init
      - run: {command: '` + probe + `', output: show}
      - plan
repo_rules:
- id: "acme/*"
  workflow: probe
  pre_workflow_hooks:
  - {run: 'cat "$ATOLL_KEY_GUESS" > hook-read.txt 2>&1 || echo hook-refused', commands: plan}
`
	e := Start(t, Options{NoStart: true})
	e.Config = e.writeConfig(filepath.Join(e.Private, "app.pem"), cfg+fmt.Sprintf("terraform:\n  env: {ATOLL_CONFIG_GUESS: %q, ATOLL_KEY_GUESS: %q}\n",
		filepath.Join(e.Private, "server.yaml"), filepath.Join(e.Private, "app.pem")))
	e.StartAtoll()
	repo := e.Repo("steps", map[string]string{"app/main.tf": e.Backend("steps")}, map[string]string{"alice": "write"})
	n := e.PR(repo, "probe", "alice", map[string]*string{"app/main.tf": S(e.Backend("steps") + "resource \"terraform_data\" \"x\" {}\n")})
	cm := e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	for _, want := range []string{"refused:" + filepath.Join(e.Private, "server.yaml"), "refused:" + filepath.Join(e.Private, "app.pem"),
		"/cmdline", "/environ", "read:main.tf"} {
		if !strings.Contains(cm.Body, want) {
			t.Errorf("the run step's output lacks %q:\n%s", want, cm.Body)
		}
	}
	if strings.Contains(cm.Body, "read:/proc") || strings.Contains(cm.Body, "read:"+e.Private) {
		t.Errorf("a run step read atoll's files:\n%s", cm.Body)
	}
	if strings.Contains(cm.Body, e.Secret) || strings.Contains(cm.Body, e.Token) {
		t.Errorf("a secret reached the comment:\n%s", cm.Body)
	}
}
