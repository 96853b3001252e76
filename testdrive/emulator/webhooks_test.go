package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

func eventsOf(rs []received) []string {
	var out []string
	for _, r := range rs {
		var head struct {
			Action string `json:"action"`
		}
		_ = json.Unmarshal(r.Body, &head)
		ev := r.Event
		if head.Action != "" {
			ev += "." + head.Action
		}
		out = append(out, ev)
	}
	return out
}

// TestWebhookScenario drives every control action and checks the
// webhooks: signed, with GitHub's headers, valid against the schema
// (checked by the receiver), in order per repository.
func TestWebhookScenario(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, false)
	steps := []func() error{
		func() error { return e.ctl.SetPermission(ctx, "acme/infra", "bob", "write") },
		func() error { return e.ctl.AddTeamMember(ctx, "acme", "security", "sam") },
		func() error {
			_, err := e.ctl.Comment(ctx, Comment{Repo: "acme/infra", Number: 1, Author: "bob", Body: "atoll plan"})
			return err
		},
		func() error {
			id, err := e.ctl.Review(ctx, Review{Repo: "acme/infra", Number: 1, Author: "bob", State: "CHANGES_REQUESTED"})
			if err != nil {
				return err
			}
			return e.ctl.DismissReview(ctx, DismissReview{Repo: "acme/infra", Number: 1, ID: id, Author: "alice"})
		},
		func() error {
			_, err := e.ctl.Commit(ctx, Commit{Repo: "acme/infra", Branch: "feature", Author: "alice", Files: map[string]*string{"new.tf": nil}})
			return err
		},
		func() error {
			_, err := e.ctl.OpenIssue(ctx, OpenIssue{Repo: "acme/infra", Title: "drift", Author: "carol", Labels: []string{"atoll:drift"}})
			return err
		},
		func() error {
			_, err := e.ctl.Merge(ctx, Merge{Repo: "acme/infra", Number: 1, Author: "bob"})
			return err
		},
		func() error {
			if _, err := e.ctl.Commit(ctx, Commit{Repo: "acme/infra", Branch: "second", Author: "alice", Files: map[string]*string{"c.tf": strp("#\n")}}); err != nil {
				return err
			}
			n, err := e.ctl.OpenPR(ctx, OpenPR{Repo: "acme/infra", Head: "second", Author: "alice", Draft: true})
			if err != nil {
				return err
			}
			return e.ctl.ClosePR(ctx, ClosePR{Repo: "acme/infra", Number: n, Author: "alice"})
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// The App's own writes send webhooks too.
	gh := e.instClient(false, e.installationID("acme", "infra"))
	c, _, err := gh.Issues.CreateComment(ctx, "acme", "infra", 2, &github.IssueComment{Body: strp("plan result")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Issues.EditComment(ctx, "acme", "infra", c.GetID(), &github.IssueComment{Body: strp("plan result, edited")}); err != nil {
		t.Fatal(err)
	}
	for _, req := range []*github.IssueRequest{{Title: strp("drift: prod")}, {State: strp("closed")}, {State: strp("open")}} {
		if _, _, err := gh.Issues.Edit(ctx, "acme", "infra", 2, req); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := gh.Issues.Create(ctx, "acme", "infra", &github.IssueRequest{Title: strp("by the App"), Labels: &[]string{"x"}}); err != nil {
		t.Fatal(err)
	}
	e.flush()
	got := eventsOf(e.hooks.all())
	want := []string{
		"installation.created", "push", "push", "pull_request.opened", "member.added", "membership.added",
		"issue_comment.created", "pull_request_review.submitted", "pull_request_review.dismissed", "push", "pull_request.synchronize",
		"issues.opened", "pull_request.closed", "push", "push", "pull_request.opened", "pull_request.closed",
		"issue_comment.created", "issue_comment.edited", "issues.edited", "issues.closed", "issues.reopened", "issues.opened",
	}
	// membership is ordered per organization, the rest per repository.
	filtered := slices.DeleteFunc(slices.Clone(got), func(s string) bool { return s == "membership.added" })
	wantFiltered := slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "membership.added" })
	if !slices.Equal(filtered, wantFiltered) || len(got) != len(want) {
		t.Errorf("events\n got %v\nwant %v", got, want)
	}
	for _, r := range e.hooks.all() {
		var p struct {
			Installation struct{ ID int64 } `json:"installation"`
			Sender       struct{ Login string }
			PullRequest  struct{ Merged bool } `json:"pull_request"`
			Comment      struct {
				PerformedVia *struct{ Slug string } `json:"performed_via_github_app"`
				User         struct{ Login, Type string }
			} `json:"comment"`
		}
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Installation.ID == 0 {
			t.Errorf("%s without installation", r.Event)
		}
		if r.Event == "issue_comment" && p.Sender.Login == "atoll-test[bot]" {
			if p.Comment.PerformedVia == nil || p.Comment.PerformedVia.Slug != "atoll-test" || p.Comment.User.Type != "Bot" {
				t.Errorf("the App's comment is not attributed to the App: %s", r.Body)
			}
		}
	}
}

func TestWebhookFailureAndRedelivery(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.hooks.fail.Store(true)
	if _, err := e.ctl.CreateRepo(ctx, CreateRepo{Owner: "acme", Name: "infra"}); err != nil {
		t.Fatal(err)
	}
	e.flush()
	ds, err := e.ctl.Deliveries(ctx)
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries %v %v", ds, err)
	}
	for _, d := range ds {
		if d.StatusCode != 500 || d.Attempts != 1 {
			t.Errorf("failed delivery recorded as %+v; GitHub does not retry by itself", d)
		}
	}
	if n := len(e.hooks.all()); n != 2 {
		t.Errorf("receiver got %d requests, want 2 (no automatic retry)", n)
	}
	e.hooks.fail.Store(false)
	d, err := e.ctl.Redeliver(ctx, ds[1].ID)
	if err != nil || d.StatusCode != 202 || d.Attempts != 2 || d.ID != ds[1].ID {
		t.Fatalf("redeliver: %+v %v", d, err)
	}
	all := e.hooks.all()
	if last := all[len(all)-1]; last.Delivery != ds[1].ID || last.Event != ds[1].Event {
		t.Errorf("redelivery sent %s %s, want the same X-GitHub-Delivery %s", last.Event, last.Delivery, ds[1].ID)
	}
	if _, err := e.ctl.Redeliver(ctx, "nope"); err == nil {
		t.Error("redelivering an unknown delivery worked")
	}
	// Without a URL, deliveries are recorded as failed and can be sent later.
	e.srv.SetWebhookURL("")
	if err := e.ctl.SetPermission(ctx, "acme/infra", "bob", "admin"); err != nil {
		t.Fatal(err)
	}
	e.flush()
	ds, _ = e.ctl.Deliveries(ctx)
	if last := ds[len(ds)-1]; last.Event != "member" || last.StatusCode != 0 || last.Error == "" {
		t.Errorf("delivery without a URL: %+v", last)
	}
}

func TestWebhookReplayAndPause(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.ctl.CreateRepo(ctx, CreateRepo{Owner: "acme", Name: "infra"}); err != nil {
		t.Fatal(err)
	}
	e.flush()
	ds, err := e.ctl.Deliveries(ctx)
	if err != nil || len(ds) == 0 {
		t.Fatalf("deliveries %v %v", ds, err)
	}
	first := e.hooks.all()[0]
	d, err := e.ctl.ReplayDelivery(ctx, ds[0].ID)
	if err != nil || d.ID == ds[0].ID {
		t.Fatalf("replay: %+v %v (want a new delivery id)", d, err)
	}
	e.flush()
	all := e.hooks.all()
	last := all[len(all)-1]
	if last.Delivery != d.ID || !bytes.Equal(last.Body, first.Body) ||
		last.Header.Get("X-Hub-Signature-256") != first.Header.Get("X-Hub-Signature-256") {
		t.Errorf("replay sent delivery %s with a different body or signature", last.Delivery)
	}
	if _, err := e.ctl.ReplayDelivery(ctx, "nope"); err == nil {
		t.Error("replaying an unknown delivery worked")
	}

	if err := e.ctl.PauseDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	before := len(e.hooks.all())
	for _, u := range []string{"bob", "carol"} {
		if err := e.ctl.SetPermission(ctx, "acme/infra", u, "write"); err != nil {
			t.Fatal(err)
		}
	}
	e.flush() // returns at once: nothing is sent while paused
	time.Sleep(50 * time.Millisecond)
	if n := len(e.hooks.all()); n != before {
		t.Fatalf("%d webhooks sent while paused", n-before)
	}
	if err := e.ctl.ResumeDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	e.flush()
	got := e.hooks.all()[before:]
	if len(got) != 2 || !bytes.Contains(got[0].Body, []byte(`"bob"`)) || !bytes.Contains(got[1].Body, []byte(`"carol"`)) {
		t.Errorf("after resume: %d webhooks, want bob's then carol's", len(got))
	}
}

// With redeliver_each 3, every webhook arrives three times, in a row, with
// the same body and three delivery ids; 0 is refused.
func TestWebhookRedeliverEach(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, false)
	e.flush()
	before := len(e.hooks.all())
	if err := e.ctl.SetSettings(ctx, Settings{RedeliverEach: 0}); err == nil {
		t.Fatal("redeliver_each 0 was accepted")
	}
	if err := e.ctl.SetSettings(ctx, Settings{RedeliverEach: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.Comment(ctx, Comment{Repo: "acme/infra", Number: 1, Author: "bob", Body: "atoll plan"}); err != nil {
		t.Fatal(err)
	}
	e.flush()
	got := e.hooks.all()[before:]
	if len(got) != 3 {
		t.Fatalf("got %d deliveries of one comment, want 3: %v", len(got), eventsOf(got))
	}
	ids := map[string]bool{}
	for _, r := range got {
		ids[r.Delivery] = true
		if r.Event != "issue_comment" || string(r.Body) != string(got[0].Body) {
			t.Errorf("copy %s differs from the first delivery", r.Delivery)
		}
	}
	if len(ids) != 3 {
		t.Errorf("the copies share delivery ids: %v", ids)
	}
}

// With several webhook URLs, deliveries go to each in turn, as a load
// balancer before several atoll replicas spreads them.
func TestWebhookRoundRobin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, false)
	e.flush()
	second := &hookReceiver{t: t, secret: "s3cret"}
	srv2 := httptest.NewServer(second)
	t.Cleanup(srv2.Close)
	first := httptest.NewServer(e.hooks)
	t.Cleanup(first.Close)
	before := len(e.hooks.all())
	e.srv.SetWebhookURLs(first.URL, srv2.URL)
	for range 6 {
		if _, err := e.ctl.Comment(ctx, Comment{Repo: "acme/infra", Number: 1, Author: "bob", Body: "atoll plan"}); err != nil {
			t.Fatal(err)
		}
	}
	e.flush()
	if a, b := len(e.hooks.all())-before, len(second.all()); a != 3 || b != 3 {
		t.Errorf("deliveries: %d to the first URL, %d to the second; want 3 each", a, b)
	}
}
