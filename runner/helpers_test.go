package runner

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

func TestRunnerReadsTheServerConfiguration(t *testing.T) {
	t.Setenv("ATOLL_TEST_SECRET", "very-secret")
	srv := config.DefaultServer()
	srv.Terraform.SecretsEnv = []string{"ATOLL_TEST_SECRET", "ATOLL_TEST_UNSET"}
	srv.Terraform.Env = map[string]config.EnvValue{"TF_VAR_plain": {Value: "eu-west-1"}, "TF_VAR_key": {Value: "env-secret", Secret: true}}
	env, secrets := srv.Terraform.Environ(os.LookupEnv)
	if env["ATOLL_TEST_SECRET"] != "very-secret" || env["TF_VAR_key"] != "env-secret" ||
		env["TF_VAR_plain"] != "eu-west-1" || !slices.Equal(secrets, []string{"env-secret", "very-secret"}) {
		t.Errorf("secrets_env and secret terraform.env values not passed and masked: env %v secrets %v", env, secrets)
	}
	if got := pr.PermissionFor(srv.Permissions, "apply"); got.Permission != vcs.PermissionWrite {
		t.Errorf("apply needs %q, want write by default", got.Permission)
	}
	if got := pr.PermissionFor(config.Permissions{}, "plan"); got.Permission != vcs.PermissionWrite {
		t.Errorf("plan needs %q without a permissions entry, want write", got.Permission)
	}
	if got := projects.RequirementNames(srv.WithRunnerDefaults().ApplyRequirements); !slices.Equal(got, []string{"approved", "mergeable"}) {
		t.Errorf("default requirements %v, want approved and mergeable", got)
	}
}

// testRunner is a Runner made by New from cfg, with what cfg leaves out
// filled in: a host and a git whose every call panics (their embedded nil
// interfaces), templates, a data dir, an event parser that refuses, and a
// silent log. It is not started.
func testRunner(t *testing.T, cfg Config) *Runner {
	t.Helper()
	if cfg.Host == nil {
		cfg.Host = struct{ Host }{}
	}
	if cfg.Git == nil {
		cfg.Git = struct{ Git }{}
	}
	if cfg.Templates == nil {
		tmpl, err := templates.New("")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Templates = tmpl
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.ParseEvent == nil {
		cfg.ParseEvent = func(string, string, []byte) (vcs.Event, error) { return nil, errors.New("no events in this test") }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
