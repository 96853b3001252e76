package emulator

import (
	"context"
	"encoding/json"
	"testing"
)

// Reopening, marking ready for review, a pull request from a fork and an
// edited comment: each sends the webhook GitHub sends (validated against
// the webhook schema by the receiver), and REST shows the new state
// (validated against the OpenAPI description).
func TestPullRequestLifecycleControls(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, false)
	gh := e.instClient(false, e.installationID("acme", "infra"))

	if _, err := e.ctl.Commit(ctx, Commit{Repo: "acme/infra", Branch: "wip", Author: "bob", Files: map[string]*string{"wip.tf": strp("#\n")}}); err != nil {
		t.Fatal(err)
	}
	d, err := e.ctl.OpenPR(ctx, OpenPR{Repo: "acme/infra", Head: "wip", Author: "bob", Draft: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ctl.ReopenPR(ctx, PRAction{Repo: "acme/infra", Number: d, Author: "bob"}); err == nil {
		t.Errorf("reopening an open pull request succeeded")
	}
	if err := e.ctl.ReadyForReview(ctx, PRAction{Repo: "acme/infra", Number: d, Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := e.ctl.ReadyForReview(ctx, PRAction{Repo: "acme/infra", Number: d, Author: "bob"}); err == nil {
		t.Errorf("marking a non-draft ready succeeded")
	}
	if pr, _, err := gh.PullRequests.Get(ctx, "acme", "infra", d); err != nil || pr.GetDraft() {
		t.Errorf("after ready for review: draft %v, err %v", pr.GetDraft(), err)
	}
	if err := e.ctl.ClosePR(ctx, ClosePR{Repo: "acme/infra", Number: d, Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := e.ctl.ReopenPR(ctx, PRAction{Repo: "acme/infra", Number: d, Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	if pr, _, err := gh.PullRequests.Get(ctx, "acme", "infra", d); err != nil || pr.GetState() != "open" {
		t.Errorf("after reopen: state %q, err %v", pr.GetState(), err)
	}

	if _, err := e.ctl.Commit(ctx, Commit{Repo: "acme/infra", Branch: "from-fork", Author: "mallory", Files: map[string]*string{"f.tf": strp("#\n")}}); err != nil {
		t.Fatal(err)
	}
	f, err := e.ctl.OpenPR(ctx, OpenPR{Repo: "acme/infra", Head: "from-fork", Author: "mallory", Fork: "mallory"})
	if err != nil {
		t.Fatal(err)
	}
	pr, _, err := gh.PullRequests.Get(ctx, "acme", "infra", f)
	if err != nil {
		t.Fatal(err)
	}
	if h := pr.GetHead(); h.GetRepo().GetFullName() != "mallory/infra" || !h.GetRepo().GetFork() || h.GetLabel() != "mallory:from-fork" {
		t.Errorf("fork PR head: repo %q fork %v label %q", h.GetRepo().GetFullName(), h.GetRepo().GetFork(), h.GetLabel())
	}
	if pr.GetBase().GetRepo().GetFullName() != "acme/infra" {
		t.Errorf("fork PR base repo %q", pr.GetBase().GetRepo().GetFullName())
	}

	id, err := e.ctl.Comment(ctx, Comment{Repo: "acme/infra", Number: f, Author: "mallory", Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ctl.EditComment(ctx, EditComment{Repo: "acme/infra", ID: id, Author: "mallory", Body: "atoll plan"}); err != nil {
		t.Fatal(err)
	}
	if c, err := e.ctl.GetComment(ctx, "acme/infra", id); err != nil || c.Body != "atoll plan" {
		t.Errorf("edited comment: %q, err %v", c.Body, err)
	}

	e.flush()
	var actions []string
	for _, h := range e.hooks.all() {
		var p struct {
			Action  string `json:"action"`
			Changes struct {
				Body struct {
					From string `json:"from"`
				} `json:"body"`
			} `json:"changes"`
		}
		_ = json.Unmarshal(h.Body, &p)
		switch h.Event {
		case "pull_request":
			actions = append(actions, p.Action)
		case "issue_comment":
			if p.Action == "edited" && p.Changes.Body.From != "hello" {
				t.Errorf("edited comment: changes.body.from %q", p.Changes.Body.From)
			}
			actions = append(actions, "comment "+p.Action)
		}
	}
	want := []string{"opened", "opened", "ready_for_review", "closed", "reopened", "opened", "comment created", "comment edited"}
	if len(actions) != len(want) {
		t.Fatalf("webhooks %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("webhooks %v, want %v", actions, want)
		}
	}
}
