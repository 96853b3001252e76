package clearance_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// failing is a failing result of set sec, owned by alice and the team
// acme/security, that needs one approval.
var failing = policy.Result{Set: "sec", Owners: []string{"alice", "acme/security"}, Approvals: 1,
	Deny: []policy.Message{{Msg: "no public buckets"}}}

// An approval counts while its author is still an owner (listed, or a
// member of an owning team), may still run approve_policies, and is not
// the PR's author (unless the set allows it); an approving review of the
// head counts where the set says so.
func TestPolicyApproversThatCount(t *testing.T) {
	ctx := context.Background()
	job := records.Job{Repo: repo, Number: 7, HeadSHA: headSHA, PRAuthor: "dave",
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "prod"}}}
	tests := []struct {
		name     string
		set      policy.SetConfig
		recorded []string
		reviews  []vcs.Review
		want     []string
	}{
		{"a listed owner who may write", policy.SetConfig{Name: "sec"}, []string{"alice"}, nil, []string{"alice"}},
		{"a member of the owning team", policy.SetConfig{Name: "sec"}, []string{"erin"}, nil, []string{"erin"}},
		{"an owner who may only read", policy.SetConfig{Name: "sec"}, []string{"mallory"}, nil, nil},
		{"no owner", policy.SetConfig{Name: "sec"}, []string{"bob"}, nil, nil},
		{"the author", policy.SetConfig{Name: "sec"}, []string{"dave"}, nil, nil},
		{"the author where the set allows it", policy.SetConfig{Name: "sec", AllowAuthorApproval: true}, []string{"dave"}, nil, []string{"dave"}},
		{"a review where reviews do not count", policy.SetConfig{Name: "sec"}, nil, []vcs.Review{approved("alice")}, nil},
		{"a review of the head where they do", policy.SetConfig{Name: "sec", ReviewApproves: true}, nil, []vcs.Review{approved("alice")}, []string{"alice"}},
		{"a review of an older head", policy.SetConfig{Name: "sec", ReviewApproves: true}, nil,
			[]vcs.Review{{User: "alice", State: vcs.ReviewApproved, CommitID: baseSHA}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &host{reviews: tc.reviews, perms: writers("alice", "erin", "bob", "dave"),
				teams: map[string][]string{"acme/security": {"erin", "mallory", "dave"}}}
			res := failing
			res.Owners = append(res.Owners, "dave")
			g, _, rec := newGatherer(t, config.DefaultServer(), h, projects.RepoConfig{}, sets{tc.set})
			for _, u := range tc.recorded {
				key := records.ApprovalKey(repo.FullName(), 7, headSHA, "prod", "sec")
				if err := rec.RecordApproval(ctx, key, "sec", "prod", u, false); err != nil {
					t.Fatal(err)
				}
			}
			if got := g.ValidApprovers(ctx, job, res); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("approvers = %v, want %v", got, tc.want)
			}
			_, cleared := g.DecidePolicies(ctx, gate.PathComment, job, []policy.Result{res}).Clearance()
			if cleared != (len(tc.want) > 0) {
				t.Errorf("cleared = %v with approvers %v", cleared, tc.want)
			}
		})
	}
}

// With policy checks off, the mandatory sets the server scopes to the
// repository still count; advisory and unscoped ones do not.
func TestScopedMandatory(t *testing.T) {
	g, _, _ := newGatherer(t, config.DefaultServer(), &host{}, projects.RepoConfig{}, sets{
		{Name: "scoped", Repos: []string{"acme/infra"}},
		{Name: "advisory", Repos: []string{"acme/infra"}, Enforcement: policy.Advisory},
		{Name: "everywhere"},
	})
	got := g.ScopedMandatory([]policy.Result{{Set: "scoped"}, {Set: "advisory"}, {Set: "everywhere"}, {Set: "unknown"}})
	if len(got) != 1 || got[0].Set != "scoped" {
		t.Errorf("kept %+v, want the scoped mandatory set alone", got)
	}
}

// A repository's file turns policy checks off only where the server's
// repo rules let it.
func TestPolicyChecksOff(t *testing.T) {
	off := false
	job := records.Job{Repo: repo, Project: records.Project{ProjectCore: config.ProjectCore{Name: "prod", PolicyCheck: &off}}}
	g, _, _ := newGatherer(t, config.DefaultServer(), &host{}, projects.RepoConfig{}, nil)
	if g.PolicyChecksOff(context.Background(), job) {
		t.Error("the repository's file alone turned policy checks off")
	}
	srv := config.DefaultServer()
	srv.RepoRules = []config.RepoRule{{ID: "/.*/", AllowedOverrides: []string{config.OverridePolicyCheck}}}
	g, _, _ = newGatherer(t, srv, &host{}, projects.RepoConfig{}, nil)
	if !g.PolicyChecksOff(context.Background(), job) {
		t.Error("a repo rule allowing the override did not let the file turn policy checks off")
	}
}
