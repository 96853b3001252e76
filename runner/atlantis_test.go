package runner

import (
	"reflect"
	"testing"

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
