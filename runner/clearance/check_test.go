package clearance_test

import (
	"context"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// The policies' check run fails on a mandatory set's failure or error, is
// neutral on an advisory set's failure alone, and passes once the failure
// is approved; its text is masked and links to the job.
func TestPolicyCheck(t *testing.T) {
	tests := []struct {
		name     string
		policies []templates.PolicyResult
		want     string
	}{
		{"all passed", []templates.PolicyResult{{Set: "sec", Status: templates.PolicyPassed}}, vcs.ConclusionSuccess},
		{"an advisory failure", []templates.PolicyResult{{Set: "cost", Status: templates.PolicyFailed, Enforcement: "advisory"}}, vcs.ConclusionNeutral},
		{"a mandatory failure after an advisory one", []templates.PolicyResult{{Set: "cost", Status: templates.PolicyFailed, Enforcement: "advisory"},
			{Set: "sec", Status: templates.PolicyFailed, Enforcement: "mandatory"}}, vcs.ConclusionFailure},
		{"an error", []templates.PolicyResult{{Set: "sec", Status: templates.PolicyError, Enforcement: "mandatory"}}, vcs.ConclusionFailure},
		{"an approved failure", []templates.PolicyResult{{Set: "sec", Status: templates.PolicyApproved, Enforcement: "mandatory"}}, vcs.ConclusionSuccess},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &host{}
			g, _, _ := newGatherer(t, config.DefaultServer(), h, projects.RepoConfig{}, nil)
			j := records.Job{ID: "j1", Repo: repo, HeadSHA: headSHA, Project: records.Project{ProjectCore: config.ProjectCore{Name: "prod"}}}
			g.PolicyCheck(context.Background(), j, templates.ProjectResult{Name: "prod", Policies: tc.policies})
			if len(h.checks) != 1 {
				t.Fatalf("%d check runs, want 1", len(h.checks))
			}
			c := h.checks[0]
			if c.Conclusion != tc.want || c.HeadSHA != headSHA || !strings.Contains(c.Name, "prod") || c.DetailsURL != "https://atoll.example/jobs/j1" {
				t.Errorf("check run %+v, want conclusion %s at the head, named for prod, linking the job", c, tc.want)
			}
		})
	}
}

// Every reason the gate can give has its template, and renders to a
// sentence, not to the code RenderReasons falls back on.
func TestEveryReasonHasATemplate(t *testing.T) {
	g, _, _ := newGatherer(t, config.DefaultServer(), &host{}, projects.RepoConfig{}, nil)
	for _, c := range gate.Codes {
		out := g.RenderReasons([]gate.Reason{{Code: c, Project: "prod", Need: 1}})
		if len(out) != 1 || out[0] == "" || out[0] == "`"+string(c)+"`" {
			t.Errorf("reason %s renders %q", c, out)
		}
	}
}
