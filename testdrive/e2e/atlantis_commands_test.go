package e2e

// Atlantis users moving to atoll, seen from the pull request: they keep
// typing `atlantis ...` (command_aliases), plan ad-hoc workspaces, apply
// what passes (apply_all_or_nothing: false), stop applies server-wide
// (apply lock, disable_apply), limit commands (allow_commands) and run
// their workflows' custom steps.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// atlantisTF is a project with workspaces whose resource records, at
// apply, the workspace it was applied in (in applyCountFile(e, name)).
// Its local backend keeps each workspace's state outside the worktree.
func atlantisTF(e *Env, name, line string) string {
	return fmt.Sprintf(`terraform {
  backend "local" {
    path          = %q
    workspace_dir = %q
  }
}

resource "terraform_data" "x" {
  input = %q
  provisioner "local-exec" {
    command = "echo %s-${terraform.workspace} >> '%s'"
  }
}
`, e.StatePath(name), filepath.Join(e.Dir, "state", name+".d"), line, line, applyCountFile(e, name))
}

// restartWith rewrites atoll's server config with overlay and restarts it.
func (e *Env) restartWith(overlay string) {
	e.t.Helper()
	e.Stop()
	e.Config = e.writeConfig(filepath.Join(e.Private, "app.pem"), overlay)
	e.StartAtoll()
}

// `atlantis plan|apply|...` with Atlantis's flags, and ad-hoc workspaces:
// `-w` alone plans the changed dirs in that workspace, `-d . -w ws` a new
// workspace; each (dir, workspace) keeps its own plan and apply.
func TestAtlantisCommandsAndWorkspaces(t *testing.T) {
	e := Start(t, Options{ServerConfig: "command_aliases: [atlantis]\napply_requirements: [mergeable]\n"})
	repo := e.Repo("ws", map[string]string{"app/main.tf": atlantisTF(e, "app", "v0")},
		map[string]string{"alice": "write"})
	n := e.PR(repo, "change", "alice", map[string]*string{"app/main.tf": S(atlantisTF(e, "app", "v1"))})
	e.Wait(repo, n, 0, planHeading, "Plan: 1 to add")

	// -w alone: the changed dir, in that workspace, as its own project.
	last := e.Comment(repo, n, "alice", "atlantis plan -w staging")
	cm := e.Wait(repo, n, last, planHeading, "@alice", "Plan: 1 to add")
	applyWant(t, cm.Body, "app:staging", "`staging`")
	applyNot(t, cm.Body, "No project matches")

	// -d -w: a new workspace, next to the default one, and --verbose.
	last = e.Comment(repo, n, "alice", "atlantis plan -d app -w new_ws --verbose")
	cm = e.Wait(repo, n, last, planHeading, "Plan: 1 to add")
	applyWant(t, cm.Body, "app:new_ws", "<details><summary>Show log</summary>", "terraform_data.x will be created")

	// The default workspace's plan is still there, and applies alone.
	last = e.Comment(repo, n, "alice", "atlantis apply -w default")
	cm = e.Wait(repo, n, last, "Apply complete!")
	applyWant(t, cm.Body, "### atoll apply")
	applyNot(t, cm.Body, "app:staging", "app:new_ws")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 || got[0] != "v1-default" {
		t.Fatalf("applied %q, want the default workspace once", got)
	}
	last = e.Comment(repo, n, "alice", "atlantis apply -d app -w staging")
	e.Wait(repo, n, last, "Apply complete!")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 2 || got[1] != "v1-staging" {
		t.Fatalf("applied %q, want default then staging", got)
	}
	// new_ws is still planned: a bare apply applies it, and only it.
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "Apply complete!")
	applyWant(t, cm.Body, "app:new_ws")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 3 || got[2] != "v1-new_ws" {
		t.Fatalf("applied %q, want new_ws last", got)
	}

	// Atlantis commands atoll does not have, and bad flags.
	last = e.Comment(repo, n, "alice", "atlantis import -d app terraform_data.x id-1")
	cm = e.Wait(repo, n, last, "atoll has no `import` command")
	applyWant(t, cm.Body, "terraform import")
	last = e.Comment(repo, n, "alice", "atlantis state rm terraform_data.x")
	e.Wait(repo, n, last, "atoll has no `state` command")
	last = e.Comment(repo, n, "alice", "atlantis apply --auto-merge-method fast")
	e.Wait(repo, n, last, "not valid", `"fast" is not one of merge, squash, rebase`)
	last = e.Comment(repo, n, "alice", "atlantis version")
	e.Wait(repo, n, last, "atoll")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 3 {
		t.Fatalf("a refused command applied: %q", got)
	}
}

// apply_all_or_nothing: by default one refused project stops the apply of
// all, and the reply says which passed; turned off, the others apply. The
// reply lists both, with why. quiet_policy_checks hides the passing set.
func TestApplyAllOrNothing(t *testing.T) {
	security := policyDir(t, map[string]string{"public.rego": policyPublic})
	tags := policyDir(t, map[string]string{"ok.rego": "package atoll\n\nimport rego.v1\n\ndeny contains \"never\" if { false }\n"})
	cfg := fmt.Sprintf(`command_aliases: [atlantis]
apply_requirements: [mergeable]
quiet_policy_checks: true
policy_sets:
- {name: security, path: %q, owners: [sec]}
- {name: tagging, path: %q}
`, security, tags)
	e := Start(t, Options{ServerConfig: cfg})
	repo := e.Repo("aon", map[string]string{"good/main.tf": applyTF(e, "good", "v0"), "bad/main.tf": policyTF(e, "bad")},
		map[string]string{"alice": "write"})
	n := e.PR(repo, "both", "alice", map[string]*string{
		"good/main.tf": S(applyTF(e, "good", "v1")),
		"bad/main.tf":  S(policyTF(e, "bad", "x", "public")),
	})
	plan := e.Wait(repo, n, 0, planHeading, "**done**", policyMessage)
	applyWant(t, plan.Body, "`security`")
	applyNot(t, plan.Body, "`tagging`")

	last := e.Comment(repo, n, "alice", "atlantis apply")
	cm := e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`bad`", "`policies_passed`", "`good` meets its requirements but is not applied either", "apply_all_or_nothing", "Nothing was applied")
	if got := applyLines(t, applyCountFile(e, "good")); len(got) != 0 {
		t.Fatalf("all or nothing applied good: %q", got)
	}

	e.restartWith(cfg + "apply_all_or_nothing: false\n")
	last = e.Comment(repo, n, "alice", "atlantis apply")
	cm = e.Wait(repo, n, last, "Apply partly refused")
	applyWant(t, cm.Body, "Applying `good`", "`bad`", "`policies_passed`", "is not applied")
	e.Wait(repo, n, last, "### atoll apply", "Apply complete!")
	if got := applyLines(t, applyCountFile(e, "good")); len(got) != 1 || got[0] != "v1" {
		t.Fatalf("applied %q, want good once", got)
	}
}

// The apply lock (API and web UI), disable_apply and allow_commands.
func TestApplySwitchesAndAllowCommands(t *testing.T) {
	cfg := "command_aliases: [atlantis]\napply_requirements: [mergeable]\nallow_commands: [plan, apply, version]\nautomerge: {enabled: true}\n" +
		"ui: {admin_teams: [" + Org + "/admins]}\n"
	e := Start(t, Options{ServerConfig: cfg})
	repo := e.Repo("sw", map[string]string{"app/main.tf": applyTF(e, "app", "v0"), "other/main.tf": applyTF(e, "other", "v0")},
		map[string]string{"alice": "write"})
	n := e.PR(repo, "one", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "app", "v1"))})
	e.Wait(repo, n, 0, planHeading, "Plan: 1 to add")

	last := e.Comment(repo, n, "alice", "atlantis unlock")
	e.Wait(repo, n, last, "`unlock` is not allowed on this atoll server", "`plan`, `apply`, `version`")

	// An admin locks applies through the API; every apply says why.
	if code, body := switchAPI(t, e, http.MethodPost, `{"reason": "change freeze until Monday"}`); code != http.StatusOK || !strings.Contains(body, `"locked":true`) {
		t.Fatalf("POST /api/apply-lock = %d %s", code, body)
	}
	if code, _ := switchAPI(t, e, http.MethodPost, `{"reason": " "}`); code != http.StatusBadRequest {
		t.Fatalf("a lock without a reason: %d, want 400", code)
	}
	last = e.Comment(repo, n, "alice", "atlantis apply")
	cm := e.Wait(repo, n, last, "Apply refused: applies are locked")
	applyWant(t, cm.Body, "change freeze until Monday", "through the API")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 0 {
		t.Fatalf("applied under the apply lock: %q", got)
	}
	// The web UI shows it to a member of ui.admin_teams, who lifts it.
	if err := e.C.Control.AddTeamMember(e.Ctx(), Org, "admins", "boss"); err != nil {
		t.Fatal(err)
	}
	boss := e.Login("boss")
	_, page := e.page(boss, "/")
	applyWant(t, page, "Applies are locked: change freeze until Monday", "Lift the apply lock")
	// Alice may write to the repository but is no admin: no form, and
	// posting it anyway is refused.
	alice := e.Login("alice")
	if _, page := e.page(alice, "/"); strings.Contains(page, "Lift the apply lock") {
		t.Fatal("a non-admin is offered the apply lock form")
	}
	if code, _ := e.form(alice, "/", "/apply-lock", url.Values{"action": {"unlock"}}); code != http.StatusForbidden {
		t.Fatalf("a non-admin lifts the apply lock: %d, want 403", code)
	}
	if code, _ := e.form(boss, "/", "/apply-lock", url.Values{"action": {"unlock"}}); code != http.StatusOK {
		t.Fatalf("lift through the UI: %d", code)
	}
	_, page = e.page(boss, "/")
	applyWant(t, page, "Lock applies")
	last = e.Comment(repo, n, "alice", "atlantis apply --auto-merge-disabled")
	e.Wait(repo, n, last, "Apply complete!")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 {
		t.Fatalf("applied %q, want once", got)
	}
	time.Sleep(3 * time.Second) // automerge, were it on, follows the apply comment at once
	if pr, err := e.C.PullRequest(e.Ctx(), repo, n); err != nil || pr.GetMerged() || pr.GetState() != "open" {
		t.Fatalf("--auto-merge-disabled: the pull request is merged or closed (%v)", err)
	}

	// The UI sets it too; the API lifts it.
	if code, _ := e.form(boss, "/", "/apply-lock", url.Values{"action": {"lock"}, "reason": {"incident 42"}}); code != http.StatusOK {
		t.Fatalf("lock through the UI: %d", code)
	}
	if code, body := switchAPI(t, e, http.MethodGet, ""); code != http.StatusOK || !strings.Contains(body, "incident 42") {
		t.Fatalf("GET /api/apply-lock = %d %s", code, body)
	}
	if code, _ := switchAPI(t, e, http.MethodDelete, ""); code != http.StatusOK {
		t.Fatalf("DELETE /api/apply-lock = %d", code)
	}

	// disable_apply in the configuration.
	e.restartWith(cfg + "disable_apply: true\n")
	m := e.PR(repo, "two", "alice", map[string]*string{"other/main.tf": S(applyTF(e, "other", "v2"))})
	e.Wait(repo, m, 0, planHeading, "Plan: 1 to add")
	last = e.Comment(repo, m, "alice", "atoll apply")
	cm = e.Wait(repo, m, last, "Apply refused: applies are disabled")
	applyWant(t, cm.Body, "`disable_apply`")
	_, page = e.page(e.Login("boss"), "/") // signed in anew (sessions also survive a restart)
	applyWant(t, page, "disabled by this server's configuration")
	if got := applyLines(t, applyCountFile(e, "other")); len(got) != 0 {
		t.Fatalf("applied with disable_apply: %q", got)
	}
}

// A server workflow picked by repo_rules: env steps (value, command),
// run steps with Atlantis's variables and their output in the comment,
// hidden output kept out, and an apply stage around the apply.
func TestWorkflowRunAndEnvSteps(t *testing.T) {
	cfg := `command_aliases: [atlantis]
apply_requirements: [mergeable]
workflows:
  custom:
    plan:
      steps:
      - env: {name: TF_VAR_greeting, value: hello}
      - env: {name: FROM_CMD, command: "echo computed-$WORKSPACE"}
      - multienv: "echo EXTRA_A=1,EXTRA_B=2"
      - init
      - run: echo "pre from=$FROM_CMD ws=$WORKSPACE project=$PROJECT_NAME pull=$PULL_NUM author=$PULL_AUTHOR rel=$REPO_REL_DIR base=$BASE_BRANCH_NAME head=$HEAD_BRANCH_NAME user=$USER_NAME extra=$EXTRA_A$EXTRA_B tf=$ATLANTIS_TERRAFORM_VERSION"
      - plan
      - run: {command: "test -s \"$PLANFILE\" && echo planfile-present", output: show}
      - run: cat ../generated.txt
      - run: {command: "echo hidden-output", output: hide}
    apply:
      steps:
      - run: echo "before-apply $(basename $PLANFILE)"
      - apply
      - run: echo after-apply
repo_rules:
- id: "acme/*"
  workflow: custom
  pre_workflow_hooks:
  - {run: "echo generated-by-hook $COMMAND_NAME $PULL_NUM > generated.txt", commands: plan}
  post_workflow_hooks:
  - run: echo post-$COMMAND_NAME >> "$HOOK_LOG"
terraform:
  env: {HOOK_LOG: %q}
`
	logDir := t.TempDir()
	hookLog := filepath.Join(logDir, "hooks.log")
	// Hooks run sandboxed: the log's directory is granted to them.
	e := Start(t, Options{ServerConfig: fmt.Sprintf(cfg, hookLog) + fmt.Sprintf("sandbox_write_paths: [%q]\n", logDir)})
	tf := func(line string) string {
		return applyTF(e, "app", line) + "variable \"greeting\" {}\nresource \"terraform_data\" \"g\" {\n  input = var.greeting\n}\n"
	}
	repo := e.Repo("wf", map[string]string{"app/main.tf": tf("v0")}, map[string]string{"alice": "write", "bob": "write"})
	n := e.PR(repo, "wf", "alice", map[string]*string{"app/main.tf": S(tf("v1"))})
	cm := e.Wait(repo, n, 0, planHeading, "Plan: 2 to add")
	applyWant(t, cm.Body,
		"Output of <code>run: echo",
		"pre from=computed-default ws=default project=app pull="+fmt.Sprint(n)+" author=alice rel=app base=main head=wf user=alice extra=12 tf=1.5.7",
		"planfile-present",
		"generated-by-hook plan "+fmt.Sprint(n),
		`"hello"`,
		"Output of <code>multienv",
		"set EXTRA_A, EXTRA_B")
	applyNot(t, cm.Body, "hidden-output")

	// A comment's plan passes the user and the extra arguments.
	last := e.Comment(repo, n, "bob", "atlantis plan -- -refresh=false")
	cm = e.Wait(repo, n, last, planHeading, "Plan: 2 to add")
	applyWant(t, cm.Body, "user=bob")

	last = e.Comment(repo, n, "alice", "atlantis apply")
	cm = e.Wait(repo, n, last, "Apply complete!")
	applyWant(t, cm.Body, "before-apply atoll-", ".tfplan", "after-apply")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 || got[0] != "v1" {
		t.Fatalf("applied %q, want once", got)
	}
	hooks := applyLines(t, hookLog)
	if strings.Join(hooks, " ") != "post-plan post-plan post-apply" {
		t.Fatalf("post-workflow hooks ran %q, want after each plan and the apply", hooks)
	}
}

// A failing run step stops the plan and says which step and why.
func TestWorkflowFailingStep(t *testing.T) {
	cfg := `workflows:
  slow:
    plan:
      steps:
      - run: echo waiting; sleep 600
      - plan
  lint:
    plan:
      steps:
      - init
      - run: 'echo "lint: 1 issue found"; exit 2'
      - plan
repo_rules:
- id: "acme/wf2"
  workflow: lint
- id: "acme/hookfail"
  pre_workflow_hooks:
  - {run: "echo cannot reach the vault; exit 4", description: fetch secrets}
- id: "acme/slow"
  workflow: slow
job_timeout: 30s
`
	e := Start(t, Options{ServerConfig: cfg})
	repo := e.Repo("wf2", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write"})
	n := e.PR(repo, "wf", "alice", map[string]*string{"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"a\" {}\n")})
	cm := e.Wait(repo, n, 0, planHeading, "**done**")
	applyWant(t, cm.Body, "plan (run: echo", "exit status 2", "lint: 1 issue found")
	applyNot(t, cm.Body, "Plan: 1 to add")

	// A failing pre-workflow hook fails the project, named by its description.
	hf := e.Repo("hookfail", map[string]string{"app/main.tf": e.Backend("hf")}, map[string]string{"alice": "write"})
	m := e.PR(hf, "x", "alice", map[string]*string{"app/main.tf": S(e.Backend("hf") + "resource \"terraform_data\" \"a\" {}\n")})
	cm = e.Wait(hf, m, 0, planHeading, "**done**")
	applyWant(t, cm.Body, "pre_workflow_hooks (fetch secrets)", "exit status 4", "cannot reach the vault")
	applyNot(t, cm.Body, "Plan: 1 to add")

	// A step that outlives job_timeout is stopped, and the job fails.
	slow := e.Repo("slow", map[string]string{"app/main.tf": e.Backend("slow")}, map[string]string{"alice": "write"})
	k := e.PR(slow, "x", "alice", map[string]*string{"app/main.tf": S(e.Backend("slow") + "resource \"terraform_data\" \"a\" {}\n")})
	start := time.Now()
	cm = e.Wait(slow, k, 0, planHeading, "**done**")
	applyWant(t, cm.Body, "plan (run: echo waiting; sleep 600)", "context deadline exceeded")
	if d := time.Since(start); d > 2*time.Minute {
		t.Fatalf("the slow step was stopped after %s", d)
	}
}

func switchAPI(t *testing.T, e *Env, method, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = bytes.NewBufferString(body)
	}
	req, err := http.NewRequest(method, e.AtollURL+"/api/apply-lock", r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v any
	if json.Unmarshal(data, &v) != nil {
		t.Fatalf("%s /api/apply-lock answered non-JSON: %s", method, data)
	}
	return resp.StatusCode, string(data)
}

// policy_check: false in a repository's file counts only where the
// server's repo_rules allow overriding policy_check, and even then the
// mandatory sets the server scopes to that repository still run.
func TestPolicyCheckOff(t *testing.T) {
	sec := policyDir(t, map[string]string{"public.rego": policyPublic})
	cfg := fmt.Sprintf(`policy_sets:
- {name: everywhere, path: %q, owners: [sec]}
- {name: scoped, path: %q, owners: [sec], repos: ["acme/pc"]}
repo_rules:
- id: "acme/pc"
  allowed_overrides: [policy_check]
`, sec, sec)
	e := Start(t, Options{ServerConfig: cfg})
	files := func(repo string) map[string]string {
		return map[string]string{"atoll.yaml": "version: 1\npolicy_check: false\n", "app/main.tf": policyTF(e, repo)}
	}
	pc := e.Repo("pc", files("pc"), map[string]string{"alice": "write"})
	n := e.PR(pc, "pub", "alice", map[string]*string{"app/main.tf": S(policyTF(e, "pc", "x", "public"))})
	cm := e.Wait(pc, n, 0, planHeading, "**done**")
	applyWant(t, cm.Body, "`scoped`", policyMessage)
	applyNot(t, cm.Body, "`everywhere`")

	// Where the server does not allow it, the file is refused.
	other := e.Repo("other", files("other"), map[string]string{"alice": "write"})
	m := e.PR(other, "pub", "alice", map[string]*string{"app/main.tf": S(policyTF(e, "other", "x", "public"))})
	cm = e.Wait(other, m, 0, "policy_check")
	applyNot(t, cm.Body, "Plan: 1 to add")
}
