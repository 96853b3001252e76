package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/atollhq/atoll/testdrive/toolscache"
	"github.com/atollhq/atoll/vcs/github"
)

// memInbox is an in-memory Inbox that dedupes by delivery id.
type memInbox struct {
	mu     sync.Mutex
	stored map[string]storedDelivery
	order  []string
	fail   error
}

type storedDelivery struct {
	event string
	body  []byte
}

func newMemInbox() *memInbox { return &memInbox{stored: map[string]storedDelivery{}} }

func (m *memInbox) AddDelivery(ctx context.Context, id, event string, body []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return false, m.fail
	}
	if _, ok := m.stored[id]; ok {
		return true, nil
	}
	m.stored[id] = storedDelivery{event: event, body: append([]byte(nil), body...)}
	m.order = append(m.order, id)
	return false, nil
}

func (m *memInbox) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.order)
}

var secret = []byte("s3cret")

const pushBody = `{"ref":"refs/heads/main","before":"a","after":"b","repository":{"name":"infra","full_name":"octo/infra","owner":{"login":"octo"}},"installation":{"id":1}}`

func newTestHandler(t *testing.T, inbox Inbox, notified *int) *WebhookHandler {
	t.Helper()
	h, err := NewWebhookHandler(WebhookHandler{
		Secret: secret, Inbox: inbox,
		Notify: func() { *notified++ },
		Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// post sends a webhook; sig "" leaves X-Hub-Signature-256 out, "valid"
// signs body with the handler's secret.
func post(h http.Handler, event, delivery, sig string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/events", bytes.NewReader(body))
	if event != "" {
		req.Header.Set("X-GitHub-Event", event)
	}
	if delivery != "" {
		req.Header.Set("X-GitHub-Delivery", delivery)
	}
	if sig == "valid" {
		sig = github.Sign(secret, body)
	}
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestNewWebhookHandler(t *testing.T) {
	if _, err := NewWebhookHandler(WebhookHandler{Inbox: newMemInbox()}); err == nil {
		t.Error("an empty secret should be refused")
	}
	if _, err := NewWebhookHandler(WebhookHandler{Secret: secret}); err == nil {
		t.Error("a nil inbox should be refused")
	}
	h, err := NewWebhookHandler(WebhookHandler{Secret: secret, Inbox: newMemInbox()})
	if err != nil || h.MaxBody != DefaultMaxWebhookBody || h.Logger == nil {
		t.Errorf("NewWebhookHandler() = %+v, %v", h, err)
	}
}

func TestWebhookHandler(t *testing.T) {
	otherSig := func(body []byte) string { return github.Sign([]byte("old secret"), body) }
	tests := []struct {
		name       string
		event      string
		delivery   string
		sig        string // "valid", "" (absent), or a literal
		body       string
		wantStatus int
		wantStored int
	}{
		{"stored", "push", "d1", "valid", pushBody, 202, 1},
		{"missing signature", "push", "d1", "", pushBody, 401, 0},
		{"forged signature", "push", "d1", "sha256=" + strings.Repeat("ab", 32), pushBody, 401, 0},
		{"garbled signature", "push", "d1", "sha1=abc", pushBody, 401, 0},
		{"stale secret", "push", "d1", otherSig([]byte(pushBody)), pushBody, 401, 0},
		{"forged unknown event", "issues", "d1", "", `{}`, 401, 0},
		{"unknown event", "issues", "d1", "valid", `{"action":"opened"}`, 202, 0},
		{"ignored action", "pull_request", "d1", "valid", `{"action":"labeled"}`, 202, 0},
		{"malformed json", "push", "d1", "valid", `{"ref":`, 400, 0},
		{"missing delivery", "push", "", "valid", pushBody, 400, 0},
		{"missing event", "", "d1", "valid", pushBody, 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inbox := newMemInbox()
			notified := 0
			h := newTestHandler(t, inbox, &notified)
			rec := post(h, tt.event, tt.delivery, tt.sig, []byte(tt.body))
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d (%s), want %d", rec.Code, strings.TrimSpace(rec.Body.String()), tt.wantStatus)
			}
			if inbox.count() != tt.wantStored || notified != tt.wantStored {
				t.Errorf("stored %d, notified %d; want %d", inbox.count(), notified, tt.wantStored)
			}
		})
	}
}

func TestWebhookDuplicateDelivery(t *testing.T) {
	inbox := newMemInbox()
	notified := 0
	h := newTestHandler(t, inbox, &notified)
	for i := range 2 {
		if rec := post(h, "push", "same-id", "valid", []byte(pushBody)); rec.Code != http.StatusAccepted {
			t.Fatalf("delivery %d: status %d", i, rec.Code)
		}
	}
	if inbox.count() != 1 || notified != 1 {
		t.Errorf("stored %d, notified %d; want 1 and 1", inbox.count(), notified)
	}
	if got := inbox.stored["same-id"]; got.event != "push" || string(got.body) != pushBody {
		t.Errorf("stored %+v", got)
	}
}

func TestWebhookInboxError(t *testing.T) {
	inbox := newMemInbox()
	inbox.fail = errors.New("disk full")
	notified := 0
	h := newTestHandler(t, inbox, &notified)
	if rec := post(h, "push", "d1", "valid", []byte(pushBody)); rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	if notified != 0 {
		t.Error("notified although nothing was stored")
	}
}

func TestWebhookTooLarge(t *testing.T) {
	inbox := newMemInbox()
	notified := 0
	h := newTestHandler(t, inbox, &notified)
	body := bytes.Repeat([]byte(" "), DefaultMaxWebhookBody+1)
	if rec := post(h, "push", "d1", "valid", body); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", rec.Code)
	}
	// Just under the cap is read (and then judged on its JSON).
	body = append([]byte(pushBody), bytes.Repeat([]byte(" "), DefaultMaxWebhookBody-len(pushBody))...)
	if rec := post(h, "push", "d2", "valid", body); rec.Code != http.StatusAccepted {
		t.Errorf("status = %d, want 202", rec.Code)
	}
}

func TestWebhookMethod(t *testing.T) {
	h := newTestHandler(t, newMemInbox(), new(int))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/events", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status = %d", rec.Code)
	}
}

// TestWebhookExamples posts every example payload of every handled event,
// validly signed: each gets a 2xx; forged, unsigned and stale-signed copies
// get 401 and store nothing.
func TestWebhookExamples(t *testing.T) {
	events := []string{"pull_request", "issue_comment", "pull_request_review", "push", "installation", "installation_repositories", "ping"}
	inbox := newMemInbox()
	notified := 0
	h := newTestHandler(t, inbox, &notified)
	n := 0
	for _, event := range events {
		for _, ex := range toolscache.WebhookExamples(t, event) {
			body := ex.Payload
			n++
			id := fmt.Sprintf("delivery-%d", n)
			t.Run(event+"/"+ex.Name, func(t *testing.T) {
				before := inbox.count()
				for _, sig := range []string{"", "sha256=" + strings.Repeat("0", 64), github.Sign([]byte("stale"), body)} {
					if rec := post(h, event, id, sig, body); rec.Code != http.StatusUnauthorized {
						t.Errorf("signature %q: status %d, want 401", sig, rec.Code)
					}
				}
				if inbox.count() != before {
					t.Fatal("a badly signed delivery was stored")
				}
				if rec := post(h, event, id, "valid", body); rec.Code/100 != 2 {
					t.Errorf("status = %d (%s), want 2xx", rec.Code, strings.TrimSpace(rec.Body.String()))
				}
			})
		}
	}
	if inbox.count() < 20 {
		t.Errorf("only %d of %d examples stored", inbox.count(), n)
	}
}
