package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestIssuesAndLabels(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, true)
	gh := e.instClient(false, e.installationID("acme", "infra"))
	is, resp, err := gh.Issues.Create(ctx, "acme", "infra", &github.IssueRequest{Title: strp("Drift in prod"), Body: strp("details"), Labels: &[]string{"atoll:drift", "prod"}})
	if err != nil || resp.StatusCode != 201 || is.GetNumber() != 2 || len(is.Labels) != 2 || is.GetUser().GetLogin() != "atoll-test[bot]" {
		t.Fatalf("create issue: %v %v", is, err)
	}
	all, _, err := gh.Issues.ListByRepo(ctx, "acme", "infra", &github.IssueListByRepoOptions{State: "open"})
	if err != nil || len(all) != 2 || !all[1].IsPullRequest() || all[0].IsPullRequest() {
		t.Fatalf("list: %d issues, %v", len(all), err)
	}
	drift, _, err := gh.Issues.ListByRepo(ctx, "acme", "infra", &github.IssueListByRepoOptions{State: "all", Labels: []string{"atoll:drift"}})
	if err != nil || len(drift) != 1 || drift[0].GetNumber() != 2 {
		t.Fatalf("label filter: %v %v", drift, err)
	}
	// PATCH labels replaces the whole set.
	is, _, err = gh.Issues.Edit(ctx, "acme", "infra", 2, &github.IssueRequest{Labels: &[]string{"atoll:drift"}, State: strp("closed"), StateReason: strp("completed")})
	if err != nil || len(is.Labels) != 1 || is.GetState() != "closed" || is.GetStateReason() != "completed" || is.ClosedAt == nil {
		t.Fatalf("edit: %v %v", is, err)
	}
	if _, _, err := gh.Issues.Edit(ctx, "acme", "infra", 2, &github.IssueRequest{State: strp("bogus")}); err == nil {
		t.Error("bogus state accepted")
	}
	ls, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "infra", 1, []string{"atoll:planned"})
	if err != nil || len(ls) != 1 || ls[0].GetName() != "atoll:planned" {
		t.Fatalf("add labels: %v %v", ls, err)
	}
	pr, _, err := gh.PullRequests.Get(ctx, "acme", "infra", 1)
	if err != nil || len(pr.Labels) != 1 {
		t.Fatalf("PR labels: %v %v", pr.Labels, err)
	}
	if _, err := gh.Issues.RemoveLabelForIssue(ctx, "acme", "infra", 1, "atoll:planned"); err != nil {
		t.Fatal(err)
	}
	if resp, err := gh.Issues.RemoveLabelForIssue(ctx, "acme", "infra", 1, "atoll:planned"); err == nil || resp.StatusCode != 404 {
		t.Errorf("removing an absent label: %v", err)
	}
	closed, _, err := gh.Issues.ListByRepo(ctx, "acme", "infra", &github.IssueListByRepoOptions{State: "closed", Labels: []string{"atoll:drift"}})
	if err != nil || len(closed) != 1 {
		t.Fatalf("closed drift issues: %v %v", closed, err)
	}
}

func TestComments(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, true)
	tok := e.token(e.installationID("acme", "infra"))
	gh := e.instClient(false, e.installationID("acme", "infra"))
	c, _, err := gh.Issues.CreateComment(ctx, "acme", "infra", 1, &github.IssueComment{Body: strp("plan")})
	if err != nil || c.GetUser().GetLogin() != "atoll-test[bot]" || c.GetUser().GetType() != "Bot" || c.GetNodeID() == "" {
		t.Fatalf("create comment: %v %v", c, err)
	}
	c, _, err = gh.Issues.EditComment(ctx, "acme", "infra", c.GetID(), &github.IssueComment{Body: strp("plan v2")})
	if err != nil || c.GetBody() != "plan v2" {
		t.Fatalf("edit: %v %v", c, err)
	}

	// A body over 65,536 characters gets GitHub's 422.
	status, _, body := e.raw("POST", "/repos/acme/infra/issues/1/comments", "token "+tok, map[string]string{"body": strings.Repeat("x", 65537)})
	var verr struct {
		Message string
		Errors  []map[string]string
	}
	_ = json.Unmarshal(body, &verr)
	if status != 422 || verr.Message != "Validation Failed" || len(verr.Errors) != 1 || verr.Errors[0]["resource"] != "IssueComment" ||
		verr.Errors[0]["code"] != "custom" || verr.Errors[0]["field"] != "body" || verr.Errors[0]["message"] != "body is too long (maximum is 65536 characters)" {
		t.Errorf("long comment: %d %s", status, body)
	}
	if status, _, _ := e.raw("POST", "/repos/acme/infra/issues/1/comments", "token "+tok, map[string]string{"body": strings.Repeat("é", 65536)}); status != 201 {
		t.Errorf("a body of exactly 65,536 characters: %d", status)
	}
	if status, _, _ := e.raw("PATCH", "/repos/acme/infra/issues/comments/"+itoa(c.GetID()), "token "+tok, map[string]string{"body": strings.Repeat("x", 70000)}); status != 422 {
		t.Errorf("long edit: %d", status)
	}

	// Pagination follows Link headers.
	for i := 0; i < 5; i++ {
		if _, err := e.ctl.Comment(ctx, Comment{Repo: "acme/infra", Number: 1, Author: "bob", Body: "atoll plan " + itoa(int64(i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, h, _ := e.raw("GET", "/repos/acme/infra/issues/1/comments?per_page=3", "token "+tok, nil)
	if link := h.Get("Link"); !strings.Contains(link, `page=2&per_page=3>; rel="next"`) || !strings.Contains(link, `page=3&per_page=3>; rel="last"`) {
		t.Errorf("Link: %s", link)
	}
	var got []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 3}}
	for {
		cs, resp, err := gh.Issues.ListComments(ctx, "acme", "infra", 1, opts)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, cs...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(got) != 7 || got[0].GetBody() != "plan v2" || got[6].GetBody() != "atoll plan 4" {
		t.Errorf("paged %d comments", len(got))
	}

	// Reactions: 201 when new, 200 when it exists.
	for _, want := range []int{201, 200} {
		_, resp, err := gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "infra", got[2].GetID(), "eyes")
		if err != nil || resp.StatusCode != want {
			t.Errorf("reaction: %v, want %d", err, want)
		}
	}
	if _, _, err := gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "infra", got[2].GetID(), "nope"); err == nil {
		t.Error("invalid reaction accepted")
	}
	st, err := e.ctl.GetComment(ctx, "acme/infra", got[2].GetID())
	if err != nil || len(st.Reactions) != 1 || st.Author != "bob" {
		t.Errorf("comment state: %+v %v", st, err)
	}
}

func TestMinimizeComment(t *testing.T) {
	for _, path := range []string{"/graphql", "/api/graphql"} {
		t.Run(path, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			setupRepo(t, e, true)
			tok := "bearer " + e.token(e.installationID("acme", "infra"))
			gh := e.instClient(false, e.installationID("acme", "infra"))
			c, _, err := gh.Issues.CreateComment(ctx, "acme", "infra", 1, &github.IssueComment{Body: strp("old plan")})
			if err != nil {
				t.Fatal(err)
			}
			q := map[string]any{
				"query":     `mutation($id: ID!, $c: ReportedContentClassifiers!) { minimizeComment(input: {subjectId: $id, classifier: $c}) { minimizedComment { isMinimized minimizedReason ... on IssueComment { id } } } }`,
				"variables": map[string]any{"id": c.GetNodeID(), "c": "OUTDATED"},
			}
			status, _, body := e.raw("POST", path, tok, q)
			if status != 200 || !strings.Contains(string(body), `"isMinimized":true`) || strings.Contains(string(body), "errors") {
				t.Fatalf("minimize: %d %s", status, body)
			}
			status, _, body = e.raw("POST", path, tok, map[string]any{
				"query": `query { node(id: "` + c.GetNodeID() + `") { __typename ... on IssueComment { isMinimized minimizedReason } } }`})
			if status != 200 || string(body) != `{"data":{"node":{"__typename":"IssueComment","isMinimized":true,"minimizedReason":"outdated"}}}` {
				t.Errorf("node query: %d %s", status, body)
			}
			st, err := e.ctl.GetComment(ctx, "acme/infra", c.GetID())
			if err != nil || !st.IsMinimized || st.MinimizedReason != "outdated" {
				t.Errorf("control comment state: %+v %v", st, err)
			}
			_, _, body = e.raw("GET", "/repos/acme/infra/issues/comments/"+itoa(c.GetID()), tok, nil)
			if !strings.Contains(string(body), `"minimized":{"reason":"outdated"}`) {
				t.Errorf("REST comment: %s", body)
			}
			for _, bad := range []map[string]any{
				{"query": `mutation { minimizeComment(input: {subjectId: "IC_nope", classifier: SPAM}) { clientMutationId } }`},
				{"query": `mutation { minimizeComment(input: {subjectId: "` + c.GetNodeID() + `", classifier: LOUD}) { clientMutationId } }`},
				{"query": `query { node(id: "` + c.GetNodeID() + `") { ... on IssueComment { nope } } }`},
			} {
				if _, _, body := e.raw("POST", path, tok, bad); !strings.Contains(string(body), `"errors"`) {
					t.Errorf("%s: no errors: %s", bad["query"], body)
				}
			}
			if status, _, _ := e.raw("POST", path, "", q); status != http.StatusUnauthorized {
				t.Errorf("anonymous GraphQL: %d", status)
			}
		})
	}
}

func TestChecksPermissionsTeams(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, head := setupRepo(t, e, false)
	gh := e.instClient(true, e.installationID("acme", "infra"))
	cr, resp, err := gh.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "atoll/plan: prod", HeadSHA: head, Status: strp("in_progress"), DetailsURL: strp("http://atoll/jobs/1"),
		Output: &github.CheckRunOutput{Title: strp("Planning"), Summary: strp("running")},
	})
	if err != nil || resp.StatusCode != 201 || cr.GetApp().GetSlug() != "atoll-test" || cr.GetStatus() != "in_progress" {
		t.Fatalf("create check run: %v %v", cr, err)
	}
	cr, _, err = gh.Checks.UpdateCheckRun(ctx, "acme", "infra", cr.GetID(), github.UpdateCheckRunOptions{
		Name: "atoll/plan: prod", Conclusion: strp("success"), Output: &github.CheckRunOutput{Title: strp("1 to add"), Summary: strp("ok")},
	})
	if err != nil || cr.GetStatus() != "completed" || cr.GetConclusion() != "success" || cr.CompletedAt == nil {
		t.Fatalf("update check run: %v %v", cr, err)
	}
	if _, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{Name: "x", HeadSHA: strings.Repeat("0", 40)}); err == nil {
		t.Error("check run on an unknown commit accepted")
	}
	if _, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{Name: "x", HeadSHA: head,
		Output: &github.CheckRunOutput{Title: strp("t"), Summary: strp(strings.Repeat("s", 65536))}}); err == nil {
		t.Error("summary over 65,535 characters accepted")
	}
	for _, ref := range []string{head, "feature"} {
		list, _, err := gh.Checks.ListCheckRunsForRef(ctx, "acme", "infra", ref, &github.ListCheckRunsOptions{CheckName: strp("atoll/plan: prod")})
		if err != nil || list.GetTotal() != 1 || list.CheckRuns[0].GetConclusion() != "success" {
			t.Errorf("list check runs of %s: %v %v", ref, list, err)
		}
	}

	if err := e.ctl.SetPermission(ctx, "acme/infra", "mia", "maintain"); err != nil {
		t.Fatal(err)
	}
	if err := e.ctl.SetPermission(ctx, "acme/infra", "tom", "triage"); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string][2]string{"mia": {"write", "maintain"}, "tom": {"read", "triage"}, "nobody": {"read", "read"}, "acme": {"admin", "admin"}} {
		p, _, err := gh.Repositories.GetPermissionLevel(ctx, "acme", "infra", user)
		if err != nil || p.GetPermission() != want[0] || p.GetUser().GetRoleName() != want[1] {
			t.Errorf("%s: permission %s role %s (%v), want %v", user, p.GetPermission(), p.GetUser().GetRoleName(), err, want)
		}
	}
	if err := e.ctl.SetPermission(ctx, "acme/infra", "mia", "owner"); err == nil {
		t.Error("unknown role accepted")
	}
	if err := e.ctl.AddTeamMember(ctx, "acme", "security", "sam"); err != nil {
		t.Fatal(err)
	}
	m, _, err := gh.Teams.GetTeamMembershipBySlug(ctx, "acme", "security", "sam")
	if err != nil || m.GetState() != "active" {
		t.Errorf("membership: %v %v", m, err)
	}
	for _, who := range [][2]string{{"security", "bob"}, {"nope", "sam"}} {
		if _, resp, err := gh.Teams.GetTeamMembershipBySlug(ctx, "acme", who[0], who[1]); err == nil || resp.StatusCode != 404 {
			t.Errorf("%s in %s: %v", who[1], who[0], err)
		}
	}
}
