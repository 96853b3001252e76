package runner

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/mask"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/vcs"
)

func TestFilterProjects(t *testing.T) {
	ps := []Project{{Name: "app", Dir: "app", Workspace: "default"}, {Name: "app:prod", Dir: "app", Workspace: "prod"}, {Name: "db", Dir: "db", Workspace: "default"}}
	tests := []struct {
		name, p, d, w string
		want          []string
	}{
		{"all", "", "", "", []string{"app", "app:prod", "db"}},
		{"by name", "db", "", "", []string{"db"}},
		{"by dir", "", "app", "", []string{"app", "app:prod"}},
		{"by dir with slash", "", "./app/", "", []string{"app", "app:prod"}},
		{"by dir and workspace", "", "app", "prod", []string{"app:prod"}},
		{"no match", "nope", "", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range filterProjects(ps, tc.p, tc.d, tc.w) {
				got = append(got, p.Name)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestMaskHidesSecrets(t *testing.T) {
	r := &Runner{masker: mask.New("s3cr3t-value", "ab", "abcd", "abcdTAIL")}
	if got := r.mask("token=s3cr3t-value ab abcdTAIL"); got != "token=*** ab ***" {
		t.Errorf("mask = %q: long secrets are masked, longest first; values under 4 characters are not (they would mask ordinary text)", got)
	}
}

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
	if got := requirementNames(withDefaults(srv).ApplyRequirements); !slices.Equal(got, []string{"approved", "mergeable"}) {
		t.Errorf("default requirements %v, want approved and mergeable", got)
	}
}

func writeFile(dir, name, body string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
}
