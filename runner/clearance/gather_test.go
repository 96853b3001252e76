package clearance_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/clearance"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// prodPlan is the stored plan of project prod (dir prod) at the PR's head.
func prodPlan() records.Plan {
	return records.Plan{Repo: repo.FullName(), Number: 7, HeadSHA: headSHA, BaseSHA: baseSHA, SHA256: "sum",
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "prod", Dir: "prod", Workspace: "default"}}}
}

// A reviewer rule of the base branch counts approving reviews of the head
// by members of its teams who may write: a member with read permission,
// or a non-member with write, does not meet it.
func TestReviewerRuleCountsMembersWhoMayWrite(t *testing.T) {
	rc := projects.RepoConfig{Defaults: []string{"approved"}, Source: config.Repo{
		RequiredReviewers: []config.ReviewerRule{{Paths: []string{"prod/**"}, Teams: []string{"acme/sre"}, Count: 1}}}}
	tests := []struct {
		name    string
		reviews []string
		cleared bool
	}{
		{"an sre member who may write", []string{"alice"}, true},
		{"a writer outside the team", []string{"bob"}, false},
		{"an sre member who may only read", []string{"mallory"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &host{files: []string{"prod/main.tf"}, teams: map[string][]string{"acme/sre": {"alice", "mallory"}},
				perms: writers("alice", "bob")}
			for _, u := range tc.reviews {
				h.reviews = append(h.reviews, approved(u))
			}
			g, e, _ := newGatherer(t, config.DefaultServer(), h, rc, nil)
			refused, cleared, err := g.Requirements(context.Background(), openPR("dave"), rc, []records.Plan{prodPlan()})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(cleared) == 1; got != tc.cleared {
				t.Fatalf("cleared = %v, want %v; refused:\n%s", got, tc.cleared, unmet(refused))
			}
			if !tc.cleared && !strings.Contains(unmet(refused), "acme/sre") {
				t.Errorf("the refusal does not name the team:\n%s", unmet(refused))
			}
			if len(e.audited) != len(tc.reviews) {
				t.Errorf("audited %v, want each approving review once", e.audited)
			}
		})
	}
}

// Code owners are read from the base branch (a PR's own edit of CODEOWNERS
// changes nothing), and each owned changed file needs an approval by one
// of its owners: a team's member or a listed user.
func TestCodeOwnersOfTheBase(t *testing.T) {
	owners := "* @acme/everyone\n/prod/ @acme/platform @carol\n/docs/\n"
	tests := []struct {
		name     string
		reviewer string
		cleared  bool
	}{
		{"a member of the owning team", "alice", true},
		{"a listed owner", "carol", true},
		{"an owner of another line only", "erin", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &host{files: []string{"prod/main.tf", "docs/readme.md"}, atBase: map[string]string{".github/CODEOWNERS": owners},
				teams:   map[string][]string{"acme/platform": {"alice"}, "acme/everyone": {"erin"}},
				perms:   writers("alice", "carol", "erin"),
				reviews: []vcs.Review{approved(tc.reviewer)}}
			rc := projects.RepoConfig{Defaults: []string{}}
			g, _, _ := newGatherer(t, codeOwnersOn(), h, rc, nil)
			refused, cleared, err := g.Requirements(context.Background(), openPR("dave"), rc, []records.Plan{prodPlan()})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(cleared) == 1; got != tc.cleared {
				t.Fatalf("cleared = %v, want %v; refused:\n%s", got, tc.cleared, unmet(refused))
			}
			if !tc.cleared && !strings.Contains(unmet(refused), "prod/main.tf") {
				t.Errorf("the refusal does not name the owned file:\n%s", unmet(refused))
			}
			for _, ref := range h.read {
				if ref != baseSHA {
					t.Errorf("CODEOWNERS read at %s, want the base %s", ref, baseSHA)
				}
			}
		})
	}
}

// The plan requirements are judged as the apply requirements are, and
// rendered.
func TestUnmetPlanRequirements(t *testing.T) {
	h := &host{perms: writers("alice")}
	g, _, _ := newGatherer(t, config.DefaultServer(), h, projects.RepoConfig{}, nil)
	got, err := g.UnmetPlanRequirements(context.Background(), openPR("dave"), []string{gate.ReqApproved, gate.ReqMergeable})
	if err != nil || len(got) != 1 || !strings.Contains(strings.ToLower(got[0]), "approv") {
		t.Fatalf("unmet = %q, %v; want the approval alone", got, err)
	}
	h.reviews = append(h.reviews, approved("alice"))
	if got, err := g.UnmetPlanRequirements(context.Background(), openPR("dave"), []string{gate.ReqApproved, gate.ReqMergeable}); err != nil || len(got) != 0 {
		t.Fatalf("unmet after an approval = %q, %v; want none", got, err)
	}
}

// An ad-hoc workspace of a configured dir has that project's rules, so a
// comment cannot loosen them by choosing a new workspace.
func TestConfiguredByDir(t *testing.T) {
	rc := projects.RepoConfig{Defaults: []string{"approved"}, Projects: []projects.ConfiguredProject{
		{Project: records.Project{ProjectCore: config.ProjectCore{Name: "prod", Dir: "envs/prod", Workspace: "default"},
			ApplyRequirements: []string{"approved", "undiverged"}},
			RequiredReviewers: []config.ReviewerRule{{Teams: []string{"acme/sre"}}}},
	}}
	base := clearance.New(clearance.Deps{}).BaseConfig("acme/x", "main", rc)
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

// codeOwnersOn is the default server configuration with code_owners on.
func codeOwnersOn() config.Server {
	srv := config.DefaultServer()
	srv.CodeOwners = true
	return srv
}

// After a merge, each project is judged with the policy results of its
// plan at the merged head: a project whose mandatory set failed without
// an owner's approval is refused, in one reply naming it, and the others
// are cleared.
func TestMergedClearsWhatItMay(t *testing.T) {
	ctx := context.Background()
	h := &host{reviews: []vcs.Review{approved("alice")}, perms: writers("alice")}
	g, e, rec := newGatherer(t, config.DefaultServer(), h, projects.RepoConfig{Defaults: []string{"approved"}}, sets{{Name: "sec"}})
	pr := openPR("dave")
	pr.Merged = true
	denied := []policy.Result{{Set: "sec", Owners: []string{"carol"}, Approvals: 1, Deny: []policy.Message{{Msg: "no public buckets"}}}}
	for _, p := range []records.Plan{
		{Repo: repo.FullName(), Number: 7, HeadSHA: headSHA,
			Project: records.Project{ProjectCore: config.ProjectCore{Name: "prod", Dir: "prod"}}, Policies: denied},
		{Repo: repo.FullName(), Number: 7, HeadSHA: baseSHA,
			Project: records.Project{ProjectCore: config.ProjectCore{Name: "dev", Dir: "dev"}}, Policies: denied},
	} {
		if err := rec.Put(ctx, records.Plans, records.PlanKey(p.Repo, p.Number, p.Project.Name), p); err != nil {
			t.Fatal(err)
		}
	}
	ok, cleared, err := g.Merged(ctx, pr, gate.PathAfterMerge,
		[]records.Project{{ProjectCore: config.ProjectCore{Name: "prod", Dir: "prod"}},
			{ProjectCore: config.ProjectCore{Name: "dev", Dir: "dev"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ok) != 1 || ok[0].Name != "dev" || len(cleared) != 1 || cleared[0].Project() != "dev" {
		t.Errorf("cleared %v (%d clearances), want dev alone: its plan's results are of an older head", ok, len(cleared))
	}
	if len(e.replies) != 1 {
		t.Fatalf("%d replies, want one refusal", len(e.replies))
	}
	refusal, _ := e.replies[0].(templates.ApplyRefused)
	if len(refusal.Projects) != 1 || refusal.Projects[0].Name != "prod" || !strings.Contains(strings.Join(refusal.Projects[0].Unmet, " "), "sec") {
		t.Errorf("refusal %+v, want prod refused for the sec policy set", refusal)
	}
}
