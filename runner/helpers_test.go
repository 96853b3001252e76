package runner

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/mask"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/vcs"
)

func TestLatestReviews(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reviews := []vcs.Review{
		{User: "bob", State: vcs.ReviewApproved, SubmittedAt: at},
		{User: "carol", State: vcs.ReviewChangesRequested, SubmittedAt: at.Add(time.Minute)},
		{User: "bob", State: vcs.ReviewCommented, SubmittedAt: at.Add(2 * time.Minute)},
		{User: "carol", State: vcs.ReviewApproved, SubmittedAt: at.Add(3 * time.Minute)},
		{User: "dave", State: vcs.ReviewApproved, SubmittedAt: at.Add(4 * time.Minute)},
		{User: "dave", State: vcs.ReviewDismissed, SubmittedAt: at.Add(5 * time.Minute)},
	}
	got := map[string]string{}
	for _, r := range latestReviews(reviews) {
		got[r.User] = r.State
	}
	want := map[string]string{"bob": vcs.ReviewApproved, "carol": vcs.ReviewApproved, "dave": vcs.ReviewDismissed}
	for u, s := range want {
		if got[u] != s {
			t.Errorf("%s: got %q, want %q (a comment must not replace an approval; a dismissal must)", u, got[u], s)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		glob, name string
		want       bool
	}{
		{"app/*.tf", "app/main.tf", true},
		{"app/*.tf", "app/sub/main.tf", false},
		{"app/**", "app/sub/main.tf", true},
		{"**/*.tf", "a/b/c.tf", true},
		{"modules/**/*.tf", "modules/x/y/z.tf", true},
		{"modules/**/*.tf", "app/main.tf", false},
		{"*.md", "README.md", true},
	}
	for _, tc := range tests {
		if got := anyMatch([]string{tc.glob}, []string{tc.name}); got != tc.want {
			t.Errorf("anyMatch(%q, %q) = %v, want %v", tc.glob, tc.name, got, tc.want)
		}
	}
}

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
