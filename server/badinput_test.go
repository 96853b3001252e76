package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/vcs/github"
)

// TestBadWebhooks posts the bad-input corpus (testdata/badinput/webhooks)
// to the real webhook handler over HTTP, with a real bbolt inbox: each bad
// delivery gets its status and an answer that names the problem, none is
// stored, and afterwards a good delivery is still accepted and stored.
func TestBadWebhooks(t *testing.T) {
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h, err := NewWebhookHandler(WebhookHandler{Secret: secret, Inbox: db})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	good := readBad(t, "pr_opened.json")
	sign := func(b []byte) string { return github.Sign(secret, b) }
	tests := []struct {
		name     string
		method   string // default POST
		event    string // default pull_request
		delivery string // default the test's name
		sig      func(body []byte) string
		file     string // under testdata/badinput/webhooks
		body     []byte // instead of file
		status   int
		want     string // in the answer
	}{
		// Signatures.
		{name: "no signature", file: "pr_opened.json", sig: func([]byte) string { return "" }, status: 401, want: "missing X-Hub-Signature-256"},
		{name: "signed with another secret", file: "pr_opened.json", sig: func(b []byte) string { return github.Sign([]byte("other"), b) }, status: 401, want: "signature does not match the body"},
		{name: "sha1 signature", file: "pr_opened.json", sig: func([]byte) string { return "sha1=0123456789abcdef0123456789abcdef01234567" }, status: 401, want: `does not start with "sha256="`},
		{name: "signature not hex", file: "pr_opened.json", sig: func([]byte) string { return "sha256=" + strings.Repeat("zz", 32) }, status: 401, want: "not a hex SHA-256"},
		{name: "signature cut short", file: "pr_opened.json", sig: func(b []byte) string { return sign(b)[:40] }, status: 401, want: "not a hex SHA-256"},
		{name: "signature of another body", file: "pr_opened.json", sig: func([]byte) string { return sign([]byte("{}")) }, status: 401, want: "signature does not match the body"},
		{name: "body truncated after signing", body: good[:len(good)/2], sig: func([]byte) string { return sign(good) }, status: 401, want: "signature does not match the body"},
		{name: "uppercase hex signature of a changed body", file: "pr_opened.json", sig: func(b []byte) string { return strings.ToUpper(sign(append(b, ' '))) }, status: 401, want: `does not start with "sha256="`},
		// Headers and method.
		{name: "GET", method: http.MethodGet, file: "pr_opened.json", status: 405, want: "POST only"},
		{name: "no event header", event: "-", file: "pr_opened.json", status: 400, want: "missing X-GitHub-Event"},
		{name: "no delivery header", delivery: "-", file: "pr_opened.json", status: 400, want: "X-GitHub-Delivery"},
		{name: "huge delivery id", delivery: strings.Repeat("d", 40000), file: "pr_opened.json", status: 400, want: "X-GitHub-Delivery is 40000 bytes long"},
		// Bodies.
		{name: "truncated JSON", file: "truncated.json", status: 400, want: "unexpected end of JSON input"},
		{name: "not JSON", file: "not_json.json", status: 400, want: "invalid character 'o' in literal null"},
		{name: "JSON array", file: "array.json", status: 400, want: "cannot unmarshal array"},
		{name: "empty body", file: "empty.json", status: 400, want: "unexpected end of JSON input"},
		{name: "null body", file: "null.json", status: 400, want: "the body is null, not an object"},
		{name: "huge body", body: append(bytes.Repeat([]byte(" "), DefaultMaxWebhookBody), good...), status: 413, want: "body too large: over 26214400 bytes"},
		{name: "deep nesting", event: "push", file: "deep_nesting.json", status: 400, want: "exceeded max depth"},
		{name: "number overflow", file: "number_overflow.json", status: 400, want: "cannot unmarshal number 1e400"},
		// Wrong types.
		{name: "PR number as a string", file: "pr_number_string.json", status: 400, want: "cannot unmarshal string into Go struct field"},
		{name: "PR head as a string", file: "pr_head_string.json", status: 400, want: "cannot unmarshal string into Go struct field"},
		{name: "action as a number", file: "action_number.json", status: 400, want: "cannot unmarshal number into Go struct field"},
		{name: "comment body as a list", event: "issue_comment", file: "comment_body_list.json", status: 400, want: "cannot unmarshal array into Go struct field"},
		{name: "push ref as an object", event: "push", file: "push_ref_object.json", status: 400, want: "cannot unmarshal object into Go struct field"},
		{name: "installation id as a string", event: "installation_repositories", file: "installation_id_string.json", status: 400, want: "cannot unmarshal string into Go struct field"},
		// Missing parts.
		{name: "PR event without its pull request", file: "pr_missing.json", status: 400, want: "no pull_request"},
		{name: "PR event without a repository", file: "pr_no_repository.json", status: 400, want: "no repository"},
		{name: "comment without its issue", event: "issue_comment", file: "comment_no_issue.json", status: 400, want: "no issue or comment"},
		{name: "review without its review", event: "pull_request_review", file: "review_missing.json", status: 400, want: "no pull_request or review"},
		{name: "push without a ref", event: "push", file: "push_no_ref.json", status: 400, want: "no ref"},
		{name: "installation without an id", event: "installation", file: "installation_no_id.json", status: 400, want: "no installation"},
		// Unknown events and actions: answered, never stored.
		{name: "unknown event issues", event: "issues", file: "issues_opened.json", status: 202, want: "event not handled"},
		{name: "unknown event with a garbage body", event: "check_suite", file: "not_json.json", status: 202, want: "event not handled"},
		{name: "event name in capitals", event: "PULL_REQUEST", file: "pr_opened.json", status: 202, want: "event not handled"},
		{name: "ignored action labeled", file: "pr_labeled.json", status: 202, want: "action ignored"},
		{name: "unknown action", file: "pr_unknown_action.json", status: 202, want: "action ignored"},
		{name: "edited comment", event: "issue_comment", file: "comment_edited.json", status: 202, want: "action ignored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if tt.file != "" {
				body = readBad(t, tt.file)
			}
			status, answer := postWebhook(t, srv.URL, tt.method, orDefault(tt.event, "pull_request"), orDefault(tt.delivery, tt.name), sigOf(tt.sig, body), body)
			if status != tt.status || !strings.Contains(answer, tt.want) {
				t.Errorf("answer %d %q, want %d and %q", status, clipText(answer), tt.status, tt.want)
			}
			if strings.Contains(answer, string(secret)) {
				t.Errorf("answer shows the secret: %q", answer)
			}
		})
	}

	pending, err := db.PendingDeliveries(context.Background())
	if err != nil || len(pending) != 0 {
		t.Fatalf("after the bad deliveries the inbox holds %d (%v), want 0", len(pending), err)
	}
	status, answer := postWebhook(t, srv.URL, "", "pull_request", "good-1", sign(good), good)
	if status != http.StatusAccepted || !strings.Contains(answer, "accepted") {
		t.Fatalf("good delivery after the bad ones: %d %q", status, answer)
	}
	pending, err = db.PendingDeliveries(context.Background())
	if err != nil || len(pending) != 1 || pending[0].ID != "good-1" || !bytes.Equal(pending[0].Body, good) {
		t.Fatalf("inbox after the good delivery: %+v, %v", pending, err)
	}
}

func readBad(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "badinput", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sigOf is the signature header for body: sig's, or the right one.
func sigOf(sig func([]byte) string, body []byte) string {
	if sig != nil {
		return sig(body)
	}
	return github.Sign(secret, body)
}

// orDefault is v, or def when v is empty; "-" stands for an absent header.
func orDefault(v, def string) string {
	switch v {
	case "":
		return def
	case "-":
		return ""
	}
	return v
}

func postWebhook(t *testing.T, url, method, event, delivery, sig string, body []byte) (int, string) {
	t.Helper()
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": sig} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func clipText(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
