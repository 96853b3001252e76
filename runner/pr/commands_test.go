package pr

import (
	"reflect"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
)

func TestAdHocWorkspaces(t *testing.T) {
	touched := []records.Project{
		{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default", TerraformVersion: "1.5.7"}},
		{ProjectCore: config.ProjectCore{Name: "app-eu", Dir: "app", Workspace: "eu"}},
		{ProjectCore: config.ProjectCore{Name: "net", Dir: "net", Workspace: "default"}},
	}
	got := adHoc(touched, "staging")
	want := []records.Project{
		{ProjectCore: config.ProjectCore{Name: "app:staging", Dir: "app", Workspace: "staging", TerraformVersion: "1.5.7"}},
		{ProjectCore: config.ProjectCore{Name: "net:staging", Dir: "net", Workspace: "staging"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("adHoc = %+v, want one project per dir, named DIR:WS, with the dir's settings: %+v", got, want)
	}
	if got := adHoc([]records.Project{{ProjectCore: config.ProjectCore{Dir: "."}}}, "default"); got[0].Name != "." {
		t.Fatalf("the default workspace keeps the dir's name, got %q", got[0].Name)
	}
}
