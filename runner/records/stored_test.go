package records_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// storedProject is the project of the fixtures in testdata: every field
// set. The fixtures were written by the code before records.Project took
// its configured fields from config.ProjectCore; a stored record must
// read back whole.
func storedProject() records.Project {
	off, on := false, true
	return records.Project{
		ProjectCore: config.ProjectCore{Name: "prod", Dir: "envs/prod", Workspace: "blue", TerraformVersion: "~> 1.5",
			Distribution: "opentofu", VarFiles: []string{"prod.tfvars"}, AutoRemediate: true, Workflow: "custom",
			PolicyCheck: &off},
		ApplyRequirements: []string{"approved", "!mergeable"}, OrderGroup: 2, AbortOnOrderFail: true, SerialPlan: true,
		SerialApply: true, DependsOn: []string{"net"}, PlanRequirements: []string{"undiverged"}, LockMode: "on_apply",
		Silence: []string{"plan"}, DeleteSourceBranch: &on,
	}
}

func TestStoredRecordsReadBackWhole(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	net := records.Project{ProjectCore: config.ProjectCore{Name: "net", Dir: "net", Workspace: "default"}}
	for _, tc := range []struct {
		file string
		into any
		want any
	}{
		{"job-record.json", &records.Job{}, &records.Job{ID: "j1", RunID: "r1", Kind: records.JobApply,
			Repo: vcs.Repo{Owner: "acme", Name: "infra"}, Number: 7, Project: storedProject(), HeadSHA: "aaaa",
			BaseSHA: "bbbb", Commit: "cccc", ExtraArgs: []string{"-target=x"}, User: "alice", PRAuthor: "bob",
			Path: "comment", State: records.JobSucceeded, Outcome: records.Outcome{Status: "applied", ApplyText: "done"},
			LogPath: "/logs/j1", Created: at, Started: at, Finished: at}},
		{"pr-record.json", &records.PRState{}, &records.PRState{Repo: "acme/infra", Number: 7, HeadSHA: "aaaa",
			Author: "bob", PlanComments: []string{"node1"}, Projects: []records.Project{storedProject(), net},
			Heads: []records.HeadSeen{{SHA: "aaaa", At: at}}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, tc.into); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tc.into, tc.want) {
				t.Errorf("read back\n%+v\nwant\n%+v", tc.into, tc.want)
			}
			// Written again, the record says the same as it did.
			again, err := json.Marshal(tc.into)
			if err != nil {
				t.Fatal(err)
			}
			var before, after any
			_ = json.Unmarshal(data, &before)
			_ = json.Unmarshal(again, &after)
			if !reflect.DeepEqual(before, after) {
				t.Errorf("written again:\n%s\nstored:\n%s", again, data)
			}
		})
	}
}

// TestStoredProjectFixtureHasEveryField keeps the fixtures above covering
// every stored field of a project: a new field gets a value there.
func TestStoredProjectFixtureHasEveryField(t *testing.T) {
	data, err := os.ReadFile("testdata/pr-record.json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Projects []map[string]any `json:"projects"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	var walk func(t reflect.Type) []string
	walk = func(t reflect.Type) []string {
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				names = append(names, walk(f.Type)...)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			names = append(names, name)
		}
		return names
	}
	for _, name := range walk(reflect.TypeOf(records.Project{})) {
		if _, ok := st.Projects[0][name]; !ok {
			t.Errorf("testdata/pr-record.json's first project has no %q", name)
		}
	}
}
