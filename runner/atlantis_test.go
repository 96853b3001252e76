package runner

import (
	"reflect"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/templates"
)

func TestAdHocWorkspaces(t *testing.T) {
	touched := []Project{
		{Name: "app", Dir: "app", Workspace: "default", TerraformVersion: "1.5.7"},
		{Name: "app-eu", Dir: "app", Workspace: "eu"},
		{Name: "net", Dir: "net", Workspace: "default"},
	}
	got := adHoc(touched, "staging")
	want := []Project{
		{Name: "app:staging", Dir: "app", Workspace: "staging", TerraformVersion: "1.5.7"},
		{Name: "net:staging", Dir: "net", Workspace: "staging"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("adHoc = %+v, want one project per dir, named DIR:WS, with the dir's settings: %+v", got, want)
	}
	if got := adHoc([]Project{{Dir: "."}}, "default"); got[0].Name != "." {
		t.Fatalf("the default workspace keeps the dir's name, got %q", got[0].Name)
	}
}

// An ad-hoc workspace of a configured dir has that project's rules, so a
// comment cannot loosen them by choosing a new workspace.
func TestConfiguredByDir(t *testing.T) {
	rc := RepoConfig{Defaults: []string{"approved"}, Projects: []ConfiguredProject{
		{Project: Project{Name: "prod", Dir: "envs/prod", Workspace: "default", ApplyRequirements: []string{"approved", "undiverged"}},
			RequiredReviewers: []config.ReviewerRule{{Teams: []string{"acme/sre"}}}},
	}}
	base := (&Runner{}).baseConfig("acme/x", "main", rc)
	for _, tc := range []struct {
		name, dir string
		want      []string
	}{
		{"prod", "envs/prod", []string{"approved", "undiverged"}},
		{"envs/prod:scratch", "envs/prod", []string{"approved", "undiverged"}},
		{"envs/prod:scratch", "./envs/prod/", []string{"approved", "undiverged"}},
		{"other", "other", []string{"approved"}},
	} {
		ws := "default"
		if _, w, ok := strings.Cut(tc.name, ":"); ok {
			ws = w
		}
		if got := gate.BaseRules(base, tc.dir, ws, tc.name).Requirements; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("requirements of (%q, %q) = %v, want %v", tc.name, tc.dir, got, tc.want)
		}
	}
	if got := gate.BaseRules(base, "envs/prod", "scratch", "envs/prod:scratch").Reviewers; len(got) != 1 {
		t.Errorf("an ad-hoc workspace lost its dir's reviewer rules: %v", got)
	}
}

func TestQuietPolicies(t *testing.T) {
	in := []templates.PolicyResult{{Set: "ok", Status: templates.PolicyPassed}, {Set: "warn", Status: templates.PolicyWarned},
		{Set: "bad", Status: templates.PolicyFailed}, {Set: "err", Status: templates.PolicyError}, {Set: "appr", Status: templates.PolicyApproved}}
	var got []string
	for _, p := range quietPolicies(in) {
		got = append(got, p.Set)
	}
	if !reflect.DeepEqual(got, []string{"warn", "bad", "err", "appr"}) {
		t.Fatalf("quiet policies = %v: only the sets that passed without a warning go", got)
	}
}
