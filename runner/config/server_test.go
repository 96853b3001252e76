package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/vcs"
)

const fakePEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj3\n-----END RSA PRIVATE KEY-----\n"

// writeFile writes content to name in a new temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// minimal returns a server config file body with the required keys.
func minimal(t *testing.T) string {
	t.Helper()
	key := writeFile(t, "key.pem", fakePEM)
	secret := writeFile(t, "secret", "s3cret-value\n")
	return "github:\n  app_id: 42\n  private_key_file: " + key + "\n  webhook_secret_file: " + secret + "\n"
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadServerDefaults(t *testing.T) {
	path := writeFile(t, "atoll-server.yaml", minimal(t))
	s, err := LoadServer(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.GitHub.WebhookSecret != "s3cret-value" {
		t.Errorf("webhook secret not read from its file (trailing newline trimmed): %q", s.GitHub.WebhookSecret)
	}
	if s.GitHub.PrivateKey != strings.TrimRight(fakePEM, "\n") {
		t.Errorf("private key not read: %q", s.GitHub.PrivateKey)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", s.Listen, ":4141"},
		{"url", s.URL, "http://localhost:4141"},
		{"data_dir", s.DataDir, "atoll-data"},
		{"plugin_cache_dir", s.Terraform.PluginCacheDir, "atoll-data/plugin-cache"},
		{"workers", s.Workers, 4},
		{"reconcile_interval", s.ReconcileInterval, 5 * time.Minute},
		{"inbox_retention", s.InboxRetention, 14 * 24 * time.Hour},
		{"api_url", s.GitHub.APIURL, "https://api.github.com/"},
		{"checkout_strategy", s.CheckoutStrategy, "merge"},
		{"apply_mode", s.ApplyMode, ApplyComment},
		{"apply_requirements", s.ApplyRequirements, []Requirement{Approved, Mergeable}},
		{"approvals", s.Approvals, 1},
		{"permissions.apply", s.Permissions.Apply.Permission, vcs.PermissionWrite},
		{"drift.schedule", s.Drift.Schedule, "@daily"},
		{"allow_fork_prs", s.AllowForkPRs, false},
		{"automerge.method", s.Automerge.Method, "merge"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadServerPrecedence(t *testing.T) {
	path := writeFile(t, "s.yaml", minimal(t)+"workers: 2\nrepos: [acme/*]\nlisten: 127.0.0.1:9000\n")
	env := envMap(map[string]string{"ATOLL_WORKERS": "3", "ATOLL_REPOS": "acme/a, !acme/b,", "ATOLL_LOG_LEVEL": "", "ATOLL_DRIFT_JITTER": "90s"})

	s, err := LoadServer(path, env, map[string]string{"--workers": "5", "github-api-url": "https://ghe.example/api/v3"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Workers != 5 {
		t.Errorf("workers = %d, want 5 from the flag", s.Workers)
	}
	if !reflect.DeepEqual(s.Repos, []string{"acme/a", "!acme/b"}) {
		t.Errorf("repos = %q, want the environment's list", s.Repos)
	}
	if s.LogLevel != "info" {
		t.Errorf("empty environment variable should count as unset, log_level = %q", s.LogLevel)
	}
	if s.Drift.Jitter != 90*time.Second {
		t.Errorf("drift.jitter = %v", s.Drift.Jitter)
	}
	if s.GitHub.APIURL != "https://ghe.example/api/v3/" {
		t.Errorf("api_url = %q, want a trailing slash added", s.GitHub.APIURL)
	}
	if s.URL != "http://localhost:9000" {
		t.Errorf("url = %q, want it derived from listen", s.URL)
	}

	s, err = LoadServer(path, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Workers != 3 {
		t.Errorf("workers = %d, want 3 from the environment", s.Workers)
	}
}

func TestLoadServerEnvOnly(t *testing.T) {
	env := envMap(map[string]string{
		"ATOLL_GITHUB_APP_ID":         "7",
		"ATOLL_GITHUB_PRIVATE_KEY":    strings.ReplaceAll(fakePEM, "\n", `\n`),
		"ATOLL_GITHUB_WEBHOOK_SECRET": "x",
		"ATOLL_DRIFT_ENABLED":         "true",
		"ATOLL_DRIFT_SCHEDULE":        "0 3 * * 1-5",
	})
	s, err := LoadServer("", env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.GitHub.AppID != 7 || !s.Drift.Enabled || !strings.Contains(s.GitHub.PrivateKey, "\n") {
		t.Errorf("env-only config not applied: %+v", s.Redacted())
	}
}

func TestLoadServerErrors(t *testing.T) {
	base := minimal(t)
	tests := []struct {
		name  string
		file  string
		env   map[string]string
		flags map[string]string
		want  []string
	}{
		{"unknown keys with lines", base + "wokers: 3\nterraform:\n  versoin: 1.5\n", nil, nil, []string{
			":5:1: unknown key \"wokers\" (did you mean \"workers\"?)",
			":7:3: terraform: unknown key \"versoin\" (did you mean \"version\"?)"}},
		{"wrong types", base + "workers: many\nallow_fork_prs: sure\nreconcile_interval: 5 minutes\nrepos: acme/*\n", nil, nil, []string{
			":5:10: workers: expected an integer, got \"many\"",
			":6:17: allow_fork_prs: expected true or false, got \"sure\"",
			":7:21: reconcile_interval: invalid duration \"5 minutes\"",
			":8:8: repos: expected a list, got \"acme/*\""}},
		{"invalid values", base + "apply_mode: sometimes\napply_requirements: [approved, reviewed]\nrepo_may_relax: [policies_passed]\ncheckout_strategy: rebase\nlog_level: loud\n", nil, nil, []string{
			`apply_mode: unknown apply mode "sometimes"`,
			`apply_requirements[1]: unknown requirement "reviewed"`,
			`repo_may_relax[0]: policies_passed can never be relaxed`,
			`checkout_strategy: unknown value "rebase": use merge, branch`,
			`log_level: unknown value "loud"`}},
		{"drift and policies", base + "drift:\n  enabled: true\n  schedule: every day\n  mode: apply\npolicy_sets:\n  - name: sec\n    path: policies/sec\n    enforcement: strict\n  - name: sec\n    approvals: 0\n", nil, nil, []string{
			`:7:13: drift.schedule: invalid cron schedule "every day"`,
			`:8:9: drift.mode: unknown value "apply"`,
			`:12:18: policy_sets[0].enforcement: unknown value "strict"`,
			`:13:11: policy_sets[1].name: policy set "sec" is already defined by policy_sets[0]`,
			`policy_sets[1].path: required`,
			`:14:16: policy_sets[1].approvals: must be at least 1, got 0`}},
		{"permissions and reviewers", base + "permissions:\n  apply:\n    permission: owner\n    teams: [platform]\nrequired_reviewers:\n  - paths: [\"prod/**\"]\n", nil, nil, []string{
			`permissions.apply.permission: unknown permission "owner"`,
			`permissions.apply.teams[0]: invalid team "platform": use org/team-slug`,
			`required_reviewers[0].teams: required`}},
		{"env and flag errors", base, map[string]string{"ATOLL_WORKERS": "x", "ATOLL_DRIFT_SCHEDULE": "@sometimes"}, map[string]string{"listen": "nope", "no-such-flag": "1"}, []string{
			`$ATOLL_WORKERS: workers: expected an integer, got "x"`,
			`$ATOLL_DRIFT_SCHEDULE: drift.schedule: invalid cron schedule "@sometimes"`,
			`--listen: listen: invalid address "nope"`,
			`--no-such-flag: unknown flag`}},
		{"missing credentials", "workers: 2\n", nil, nil, []string{
			"github.app_id: required",
			"github: a private key is required",
			"github: a webhook secret is required"}},
		{"both secret and file", base + "api_token: a\napi_token_file: /nonexistent\n", nil, nil, []string{
			":6:17: api_token_file: set either api_token or api_token_file, not both"}},
		{"unreadable secret file", "github:\n  app_id: 1\n  private_key: x\n  webhook_secret_file: /nonexistent/secret\n", nil, nil, []string{
			":4:24: github.webhook_secret_file: cannot read",
			":3:16: github.private_key: not a PEM-encoded private key"}},
		{"yaml syntax", base + "workers: [1\n", nil, nil, []string{"invalid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "server.yaml", tt.file)
			_, err := LoadServer(path, envMap(tt.env), tt.flags)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			text := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("error does not contain %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "s3cret") || strings.Contains(text, "MIIB") {
				t.Errorf("error leaks a secret:\n%s", text)
			}
		})
	}
}

func TestLoadServerMissingFile(t *testing.T) {
	_, err := LoadServer(filepath.Join(t.TempDir(), "nope.yaml"), nil, nil)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a wrapped not-exist error", err)
	}
}

func TestRepoAllowed(t *testing.T) {
	tests := []struct {
		rules []string
		repo  string
		want  bool
	}{
		{nil, "any/repo", true},
		{[]string{"acme/*"}, "acme/infra", true},
		{[]string{"acme/*"}, "other/infra", false},
		{[]string{"acme/*", "!acme/secret"}, "acme/secret", false},
		{[]string{"acme/*", "!acme/secret", "acme/secret"}, "acme/secret", true},
		{[]string{"!acme/secret"}, "acme/infra", true},
		{[]string{"!acme/secret"}, "acme/secret", false},
		{[]string{"ACME/Infra"}, "acme/INFRA", true},
		{[]string{"*/*", "!*/sandbox-*"}, "acme/sandbox-1", false},
		{[]string{"**"}, "a/b", true},
	}
	for _, tt := range tests {
		s := Server{Intake: Intake{Repos: tt.rules}}
		if got := s.RepoAllowed(tt.repo); got != tt.want {
			t.Errorf("RepoAllowed(%q) with %q = %v, want %v", tt.repo, tt.rules, got, tt.want)
		}
	}
}

func TestKeys(t *testing.T) {
	envs, flags := map[string]string{}, map[string]string{}
	found := map[string]Key{}
	for _, k := range Keys() {
		found[k.Path] = k
		if k.Doc == "" {
			t.Errorf("key %s has no documentation in serverDocs", k.Path)
		}
		if k.Env == "" {
			continue
		}
		if p, dup := envs[k.Env]; dup {
			t.Errorf("%s and %s share %s", p, k.Path, k.Env)
		}
		if p, dup := flags[k.Flag]; dup {
			t.Errorf("%s and %s share --%s", p, k.Path, k.Flag)
		}
		envs[k.Env], flags[k.Flag] = k.Path, k.Path
	}
	for path := range serverDocs {
		if _, ok := found[path]; !ok {
			t.Errorf("serverDocs documents %s, which is not a key", path)
		}
	}
	k := found["github.app_id"]
	if k.Env != "ATOLL_GITHUB_APP_ID" || k.Flag != "github-app-id" || k.Type != "int" {
		t.Errorf("github.app_id: %+v", k)
	}
	if k := found["terraform.env"]; k.Env != "" || k.Type != "map" {
		t.Errorf("terraform.env should be file-only: %+v", k)
	}
	if k := found["policy_sets[].name"]; k.Env != "" {
		t.Errorf("list element keys should be file-only: %+v", k)
	}
	if k := found["apply_requirements"]; k.Default != "[approved, mergeable]" || k.Type != "list" {
		t.Errorf("apply_requirements: %+v", k)
	}
	if !found["github.webhook_secret"].Secret {
		t.Error("webhook secret not marked secret")
	}
}

func TestRedacted(t *testing.T) {
	s := DefaultServer()
	s.GitHub.WebhookSecret, s.GitHub.PrivateKey, s.APIToken = "a", "b", ""
	r := s.Redacted()
	if r.GitHub.WebhookSecret != "***" || r.GitHub.PrivateKey != "***" || r.APIToken != "" {
		t.Errorf("Redacted: %+v", r.GitHub)
	}
	if s.GitHub.WebhookSecret != "a" {
		t.Error("Redacted changed the original")
	}
}

func TestParseSchedule(t *testing.T) {
	for _, ok := range []string{"@hourly", "@daily", "@every 6h", "0 3 * * 1-5", "CRON_TZ=Europe/Paris 0 3 * * *"} {
		if _, err := ParseSchedule(ok); err != nil {
			t.Errorf("ParseSchedule(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "daily", "* * *", "0 0 0 * * *", "@every -1h"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q): no error", bad)
		}
	}
}

func TestServerInGo(t *testing.T) {
	s := DefaultServer()
	if err := s.Validate(); err == nil {
		t.Fatal("DefaultServer validates without credentials")
	}
	s.GitHub.AppID, s.GitHub.PrivateKey, s.GitHub.WebhookSecret = 1, fakePEM, "x"
	if err := s.Validate(); err != nil {
		t.Fatalf("DefaultServer with credentials: %v", err)
	}
	s.Workers = 0
	err := s.Validate()
	if err == nil || err.Error() != "workers: must be between 1 and 256, got 0" {
		t.Errorf("error without a source = %v", err)
	}
	if p, ok := s.Permissions.For("apply"); !ok || p.Permission != vcs.PermissionWrite {
		t.Error("Permissions.For(apply)")
	}
	if _, ok := s.Permissions.For("help"); ok {
		t.Error("help needs no permission")
	}
	if s.SlogLevel().String() != "INFO" {
		t.Error("SlogLevel")
	}
}

func TestTerraformEnvSecret(t *testing.T) {
	path := writeFile(t, "s.yaml", minimal(t)+"terraform:\n  env:\n    TF_VAR_region: eu-west-1\n    TF_VAR_token: {value: tok-123456, secret: true}\n    TF_VAR_plain:\n      value: p\n")
	s, err := LoadServer(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]EnvValue{"TF_VAR_region": {Value: "eu-west-1"}, "TF_VAR_token": {Value: "tok-123456", Secret: true}, "TF_VAR_plain": {Value: "p"}}
	if !reflect.DeepEqual(s.Terraform.Env, want) {
		t.Errorf("terraform.env = %+v, want %+v", s.Terraform.Env, want)
	}
	if r := s.Redacted(); r.Terraform.Env["TF_VAR_token"].Value != "***" || r.Terraform.Env["TF_VAR_region"].Value != "eu-west-1" ||
		s.Terraform.Env["TF_VAR_token"].Value != "tok-123456" {
		t.Errorf("Redacted: %+v (original now %+v)", r.Terraform.Env, s.Terraform.Env)
	}
	bad := writeFile(t, "s.yaml", minimal(t)+"terraform:\n  env:\n    TF_VAR_token: {value: x, secrte: true}\ninbox_retention: 1m\n")
	_, err = LoadServer(bad, nil, nil)
	for _, w := range []string{`terraform.env.TF_VAR_token: unknown key "secrte" (did you mean "secret"?)`, "inbox_retention: must be at least 1h, got 1m0s"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not contain %q", err, w)
		}
	}
}
