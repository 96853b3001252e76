package github

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/atollhq/atoll/testdrive/toolscache"
	"github.com/atollhq/atoll/vcs"
)

func TestValidateSignature(t *testing.T) {
	secret := []byte("It's a Secret to Everybody")
	body := []byte("Hello, World!")
	// GitHub's documented example for this secret and body.
	const good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	tests := []struct {
		name    string
		secret  []byte
		body    []byte
		header  string
		wantErr bool
	}{
		{"valid", secret, body, good, false},
		{"signed by Sign", secret, body, Sign(secret, body), false},
		{"missing", secret, body, "", true},
		{"no prefix", secret, body, strings.TrimPrefix(good, "sha256="), true},
		{"sha1", secret, body, "sha1=" + strings.TrimPrefix(good, "sha256="), true},
		{"not hex", secret, body, "sha256=zz07107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", true},
		{"short", secret, body, good[:len(good)-2], true},
		{"wrong", secret, body, "sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", true},
		{"other secret", []byte("another"), body, good, true},
		{"body changed", secret, []byte("Hello, World?"), good, true},
		{"empty secret", nil, body, Sign(nil, body), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSignature(tt.secret, tt.body, tt.header)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ValidateSignature() = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadSignature) {
				t.Errorf("error %v does not wrap ErrBadSignature", err)
			}
		})
	}
}

// handledEvents are the example directories of the events atoll handles.
var handledEvents = []string{"pull_request", "issue_comment", "pull_request_review", "push", "installation", "installation_repositories", "ping"}

// examples returns GitHub's example payloads of the handled events.
func examples(t testing.TB) map[string][]toolscache.Example {
	t.Helper()
	out := map[string][]toolscache.Example{}
	for _, ev := range handledEvents {
		out[ev] = toolscache.WebhookExamples(t, ev)
	}
	return out
}

// TestParseWebhookExamples parses every example payload of every handled
// event and checks where it is routed.
func TestParseWebhookExamples(t *testing.T) {
	wantType := map[string]reflect.Type{
		"pull_request":              reflect.TypeFor[*vcs.PullRequestEvent](),
		"issue_comment":             reflect.TypeFor[*vcs.CommentEvent](),
		"pull_request_review":       reflect.TypeFor[*vcs.ReviewEvent](),
		"push":                      reflect.TypeFor[*vcs.PushEvent](),
		"installation":              reflect.TypeFor[*vcs.InstallationEvent](),
		"installation_repositories": reflect.TypeFor[*vcs.InstallationEvent](),
		"ping":                      reflect.TypeFor[*vcs.PingEvent](),
	}
	routed := 0
	for event, exs := range examples(t) {
		for _, ex := range exs {
			t.Run(event+"/"+ex.Name, func(t *testing.T) {
				body := ex.Payload
				var head struct {
					Action string `json:"action"`
				}
				if err := json.Unmarshal(body, &head); err != nil {
					t.Fatal(err)
				}
				ev, err := ParseWebhook(event, "delivery-1", body)
				if err != nil {
					t.Fatalf("ParseWebhook() error = %v", err)
				}
				if !keeps(event, head.Action) {
					if ev != nil {
						t.Fatalf("action %q should be ignored, got %T", head.Action, ev)
					}
					return
				}
				if ev == nil || reflect.TypeOf(ev) != wantType[event] {
					t.Fatalf("ParseWebhook() = %T, want %v", ev, wantType[event])
				}
				routed++
				if ev.DeliveryID() != "delivery-1" {
					t.Errorf("DeliveryID() = %q", ev.DeliveryID())
				}
				checkEvent(t, ev, head.Action)
			})
		}
	}
	if routed < 20 {
		t.Errorf("only %d examples routed to an event", routed)
	}
}

// checkEvent checks what each event type must carry.
func checkEvent(t *testing.T, ev vcs.Event, action string) {
	t.Helper()
	repoOK := func(r vcs.Repo) {
		if r.Owner == "" || r.Name == "" {
			t.Errorf("repository %+v has no owner or name", r)
		}
	}
	switch e := ev.(type) {
	case *vcs.PullRequestEvent:
		repoOK(e.PR.Repo)
		if e.Action != action || e.PR.Number == 0 || e.PR.HeadSHA == "" || e.PR.BaseRef == "" || e.PR.Author == "" {
			t.Errorf("pull request event = %+v", e)
		}
		if action == "closed" && e.PR.State != "closed" {
			t.Errorf("closed PR has state %q", e.PR.State)
		}
	case *vcs.CommentEvent:
		repoOK(e.Repo)
		if e.IssueNumber == 0 || e.Comment.ID == 0 || e.Comment.Author.Login == "" || e.Comment.NodeID == "" {
			t.Errorf("comment event = %+v", e)
		}
	case *vcs.ReviewEvent:
		repoOK(e.PR.Repo)
		if e.Review.State != strings.ToUpper(e.Review.State) || e.Review.State == "" || e.Review.User == "" || e.PR.Number == 0 {
			t.Errorf("review event = %+v", e)
		}
		if action == "dismissed" && e.Review.State != vcs.ReviewDismissed {
			t.Errorf("dismissed review has state %q", e.Review.State)
		}
	case *vcs.PushEvent:
		repoOK(e.Repo)
		if !strings.HasPrefix(e.Ref, "refs/") || e.After == "" || e.At.IsZero() {
			t.Errorf("push event = %+v", e)
		}
	case *vcs.InstallationEvent:
		if e.InstallationID == 0 || e.Action != action {
			t.Errorf("installation event = %+v", e)
		}
		for _, r := range append(append([]vcs.Repo{}, e.Added...), e.Removed...) {
			repoOK(r)
			if r.InstallationID != e.InstallationID {
				t.Errorf("repo %s has installation %d, want %d", r.FullName(), r.InstallationID, e.InstallationID)
			}
		}
		if action == "added" && len(e.Added) == 0 || action == "removed" && len(e.Removed) == 0 {
			t.Errorf("installation_repositories %s lists no repositories", action)
		}
	case *vcs.PingEvent:
		if e.Zen == "" {
			t.Errorf("ping without zen")
		}
	}
}

func TestParseWebhookErrors(t *testing.T) {
	tests := []struct {
		name, event, body string
		wantUnknown       bool
	}{
		{"unknown event", "check_suite", `{}`, true},
		{"empty event", "", `{}`, true},
		{"bad json", "pull_request", `{"action":`, false},
		{"not an object", "push", `[1,2]`, false},
		{"push without repository", "push", `{"ref":"refs/heads/main"}`, false},
		{"pr without pull_request", "pull_request", `{"action":"opened","repository":{"name":"r","owner":{"login":"o"}}}`, false},
		{"comment without issue", "issue_comment", `{"action":"created","repository":{"name":"r","owner":{"login":"o"}}}`, false},
		{"installation without id", "installation", `{"action":"created"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseWebhook(tt.event, "d", []byte(tt.body))
			if err == nil || ev != nil {
				t.Fatalf("ParseWebhook() = %v, %v; want an error", ev, err)
			}
			if errors.Is(err, ErrUnknownEvent) != tt.wantUnknown {
				t.Errorf("error %v: unknown event = %v, want %v", err, errors.Is(err, ErrUnknownEvent), tt.wantUnknown)
			}
		})
	}
}

func TestParseWebhookIgnoredActions(t *testing.T) {
	tests := []struct{ event, body string }{
		{"pull_request", `{"action":"labeled"}`},
		{"issue_comment", `{"action":"edited"}`},
		{"issue_comment", `{"action":"deleted"}`},
		{"pull_request_review", `{"action":"edited"}`},
		{"installation_repositories", `{"action":"renamed"}`},
	}
	for _, tt := range tests {
		t.Run(tt.event+"/"+tt.body, func(t *testing.T) {
			ev, err := ParseWebhook(tt.event, "d", []byte(tt.body))
			if ev != nil || err != nil {
				t.Fatalf("ParseWebhook() = %v, %v; want nil, nil", ev, err)
			}
		})
	}
}

func TestIsKnownEvent(t *testing.T) {
	for _, ev := range handledEvents {
		if !IsKnownEvent(ev) {
			t.Errorf("IsKnownEvent(%q) = false", ev)
		}
	}
	for _, ev := range []string{"", "issues", "check_run", "PULL_REQUEST"} {
		if IsKnownEvent(ev) {
			t.Errorf("IsKnownEvent(%q) = true", ev)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	for event, exs := range examples(f) {
		for _, ex := range exs {
			f.Add(event, ex.Payload)
		}
	}
	f.Add("push", []byte(`{"ref":null,"repository":{"owner":null}}`))
	f.Add("pull_request", []byte(`{"action":"opened","pull_request":{"number":1,"head":null,"base":{"repo":null}},"repository":{"full_name":"a/b"}}`))
	f.Add("issues", []byte(`{}`))
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		ev, err := ParseWebhook(event, "fuzz", body)
		if !IsKnownEvent(event) {
			if !errors.Is(err, ErrUnknownEvent) {
				t.Fatalf("unknown event %q: error = %v", event, err)
			}
			return
		}
		if err != nil && ev != nil {
			t.Fatalf("both an event and an error: %v", err)
		}
		if ev != nil && ev.DeliveryID() != "fuzz" {
			t.Fatalf("DeliveryID() = %q", ev.DeliveryID())
		}
		if err != nil && !strings.Contains(err.Error(), "parse "+event+" webhook fuzz: ") {
			t.Fatalf("error %q does not name the event and delivery", err)
		}
		// What the runner relies on after a successful parse.
		switch e := ev.(type) {
		case *vcs.PullRequestEvent:
			if e.PR.Number == 0 || e.PR.Repo.Owner == "" || e.PR.Repo.Name == "" || !keeps(event, e.Action) {
				t.Fatalf("pull request event without number, repo or kept action: %+v", e)
			}
		case *vcs.CommentEvent:
			if e.IssueNumber == 0 || e.Repo.Owner == "" || e.Repo.Name == "" || e.Action != "created" {
				t.Fatalf("comment event without issue, repo or action created: %+v", e)
			}
		case *vcs.ReviewEvent:
			if e.PR.Number == 0 || e.PR.Repo.Owner == "" || !keeps(event, e.Action) {
				t.Fatalf("review event without number, repo or kept action: %+v", e)
			}
		case *vcs.PushEvent:
			if e.Ref == "" || e.Repo.Owner == "" || e.Repo.Name == "" {
				t.Fatalf("push event without ref or repo: %+v", e)
			}
		case *vcs.InstallationEvent:
			if e.InstallationID == 0 {
				t.Fatalf("installation event without an installation: %+v", e)
			}
			for _, r := range append(e.Added, e.Removed...) {
				if r.Owner == "" || r.Name == "" || r.InstallationID != e.InstallationID {
					t.Fatalf("installation event with a repository without name or installation: %+v", r)
				}
			}
		}
		again, err2 := ParseWebhook(event, "fuzz", body)
		if !reflect.DeepEqual(ev, again) || (err == nil) != (err2 == nil) {
			t.Fatalf("parsing twice gave different results")
		}
	})
}
