package migrate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
)

// TestAtlantisEveryKey migrates a repos.yaml using every documented key
// and a flags file: the result loads with atoll's own loader (secrets given
// as atoll reads them), and every setting left behind is listed with its
// place and reason.
func TestAtlantisEveryKey(t *testing.T) {
	repos, err := os.ReadFile("testdata/repos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	flagData, err := os.ReadFile("testdata/flags.yaml")
	if err != nil {
		t.Fatal(err)
	}
	flags, err := FlagsFrom(flagData)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Atlantis(AtlantisInput{ReposYAML: repos, ReposFile: "repos.yaml", Flags: flags, FlagsFile: "flags.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(res.Server), "not-a-real-secret") || strings.Contains(string(res.Server), "also-not-real") {
		t.Fatalf("a secret was written into the configuration:\n%s", res.Server)
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "server.yaml")
	if err := os.WriteFile(out, res.Server, 0o644); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(key, []byte("-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj3\n-----END RSA PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ATOLL_GITHUB_WEBHOOK_SECRET": "s", "ATOLL_GITHUB_PRIVATE_KEY_FILE": key}
	srv, err := config.LoadServer(out, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, nil)
	if err != nil {
		t.Fatalf("the written configuration does not load:\n%v\n%s", err, res.Server)
	}

	checks := []struct {
		name      string
		got, want any
	}{
		{"app id", srv.GitHub.AppID, int64(12345)},
		{"url", srv.URL, "https://atlantis.acme.example"},
		{"listen", srv.Listen, ":4141"},
		{"workers", srv.Workers, 8},
		{"repos", srv.Repos, []string{"acme/*", "!acme/untrusted"}},
		{"checkout", srv.CheckoutStrategy, "merge"},
		{"automerge", srv.Automerge.Enabled, true},
		{"drafts", srv.AllowDraftPRs, true},
		{"terraform version", srv.Terraform.Version, "1.5.7"},
		{"releases url", srv.Terraform.ReleasesURL, "https://releases.acme.example"},
		{"apply teams", srv.Permissions.Apply.Teams, []string{"acme/platform-team"}},
		{"plan teams", srv.Permissions.Plan.Teams, []string{"acme/sre"}},
		{"server requirements (Atlantis's default)", len(srv.ApplyRequirements), 0},
		{"rules", len(srv.RepoRules), 2},
		{"workflows", len(srv.Workflows), 2},
		{"policy sets", len(srv.PolicySets), 2},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	all := srv.RepoSettings("acme/app", "main")
	if all.Workflow != "custom" || !all.MayOverride(config.OverrideWorkflow) || !all.WorkflowAllowed("terragrunt") ||
		len(all.PreWorkflowHooks) != 1 || all.PreWorkflowHooks[0].Shell != "bash" || all.PostWorkflowHooks[0].Commands != "plan" ||
		!reflect.DeepEqual(all.ApplyRequirements, []config.Requirement{config.Approved, config.Mergeable, config.Undiverged}) {
		t.Errorf("settings of acme/app: %+v", all)
	}
	sb := srv.RepoSettings("acme/sandbox", "main")
	if !sb.ApplyRequirementsSet || len(sb.ApplyRequirements) != 0 || !sb.AllowCustomWorkflows || sb.PolicyCheck {
		t.Errorf("settings of acme/sandbox: %+v", sb)
	}
	w, _ := config.LookupWorkflow("custom", nil, srv.Workflows)
	var steps []string
	for _, s := range w.Steps("plan") {
		steps = append(steps, s.String())
	}
	if want := "env: TF_VAR_env=prod|env: TOKEN=$(cat /run/token)|multienv: ./env.sh|run: tflint|init -upgrade|plan|run: infracost breakdown --path $PLANFILE"; strings.Join(steps, "|") != want {
		t.Errorf("custom plan steps = %q", strings.Join(steps, "|"))
	}
	if ps := w.Steps("policy_check"); len(ps) != 2 || ps[1].ExtraArgs[0] != "--all-namespaces" {
		t.Errorf("policy_check stage: %v", ps)
	}
	nd, tags := srv.PolicySets[0], srv.PolicySets[1]
	if nd.Format != config.PolicyFormatConftest || nd.Approvals != 2 || !nd.AllowAuthorApproval || nd.Enforcement != "mandatory" ||
		!reflect.DeepEqual(nd.Owners, []string{"acme/security", "alice"}) {
		t.Errorf("no-deletes set: %+v", nd)
	}
	if tags.AllowAuthorApproval || tags.Approvals != 1 || !reflect.DeepEqual(tags.Owners, []string{"acme/finops", "acme/security", "alice", "bob"}) {
		t.Errorf("tags set: %+v", tags)
	}

	var dropped []string
	for _, d := range res.Dropped {
		dropped = append(dropped, d.String())
	}
	text := strings.Join(dropped, "\n")
	for _, want := range []string{
		"repos.yaml:6: repos[0].plan_requirements: atoll's server has no default for it: set plan_requirements",
		"repos.yaml:8: repos[0].import_requirements: atoll has no import command",
		"repos[0].allowed_overrides: delete_source_branch_on_merge cannot be overridden",
		"repos[0].allowed_overrides: custom_policy_check cannot be overridden",
		"repos.yaml:13: repos[0].delete_source_branch_on_merge: atoll's server has no default for it: set delete_source_branch_on_merge in each repository's atlantis.yaml",
		"repos.yaml:16: repos[0].repo_locks.mode: atoll's server has no default for it (on_plan)",
		"repos.yaml:19: repos[0].autodiscover:",
		"repos.yaml:22: repos[0].silence_pr_comments:",
		"repos[0].post_workflow_hooks[0].commands: atoll runs hooks for plan and apply only, not for import",
		"workflows.custom.import: atoll has no import command",
		"workflows.custom.state_rm: atoll has no state rm command",
		"policies.conftest_version:",
		"repos.yaml:95: metrics:",
		"repos.yaml:98: team_authz:",
		"flags.yaml: repo-allowlist: gitlab.com/acme/*: atoll works with GitHub",
		"gh-team-allowlist: sre:import: atoll sets teams for plan, apply, unlock and approve_policies, not import",
		"flags.yaml: locking-db-type: atoll keeps locks in its own database",
		"flags.yaml: ssl-cert-file: atoll serves plain HTTP",
		"flags.yaml: data-dir: atoll keeps its own database",
		"flags.yaml: frobnicate: not an Atlantis server flag atoll knows",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("not-carried list lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "hide-prev-plan-comments") || strings.Contains(text, "parallel-plan") {
		t.Errorf("flags whose true is atoll's behaviour are listed as lost:\n%s", text)
	}
	// Settings other parts of atoll define are carried when this build has
	// them, and reported otherwise.
	for flag, key := range map[string]string{"quiet-policy-checks": "quiet_policy_checks", "allow-commands": "allow_commands"} {
		carried := strings.Contains(string(res.Server), key+":")
		if hasKey(key) != carried || (flag == "quiet-policy-checks" && carried == strings.Contains(text, "flags.yaml: "+flag+":")) {
			t.Errorf("%s: key %s known %v, carried %v:\n%s", flag, key, hasKey(key), carried, text)
		}
	}
	if hasKey("apply_all_or_nothing") && !strings.Contains(string(res.Server), "apply_all_or_nothing: false") {
		t.Errorf("Atlantis applies what passes: apply_all_or_nothing must be false:\n%s", res.Server)
	}
	if i, j := strings.Index(text, "policies.conftest_version"), strings.Index(text, "flags.yaml:"); i < 0 || i > j {
		t.Errorf("the repos.yaml's settings come first, in line order:\n%s", text)
	}
	notes := strings.Join(res.Notes, "\n")
	for _, want := range []string{"webhook secret is not written", "API secret is not written", "apply_requirements is []"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestFlagsFromEnv(t *testing.T) {
	got, err := FlagsFrom([]byte("# env\nexport ATLANTIS_GH_APP_ID=7\nATLANTIS_REPO_ALLOWLIST='github.com/acme/*'\nATLANTIS_AUTOMERGE=\"true\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"gh-app-id": "7", "repo-allowlist": "github.com/acme/*", "automerge": "true"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FlagsFrom = %v, want %v", got, want)
	}
	if _, err := FlagsFrom([]byte("PATH=/bin\n")); err == nil {
		t.Error("a line that is not an ATLANTIS_ variable was accepted")
	}
}
