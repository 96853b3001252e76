package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/vcs"
)

func opsServer(t *testing.T, log *slog.Logger, ready func(context.Context) map[string]string) *Server {
	t.Helper()
	hook, err := NewWebhookHandler(WebhookHandler{Secret: []byte("s"), Inbox: newMemInbox()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Webhook: hook, Engine: fakeEngine{}, Logger: log, Ready: ready,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("m 1\n")) })})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// /readyz: 200 when nothing is wrong, else 503 naming each problem.
func TestReadyz(t *testing.T) {
	problems := map[string]string{}
	s := opsServer(t, nil, func(context.Context) map[string]string { return problems })
	get := func() (int, map[string]any) {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body
	}
	if code, _ := get(); code != http.StatusOK {
		t.Errorf("ready: %d", code)
	}
	problems["github"] = "GitHub has not answered"
	code, body := get()
	if code != http.StatusServiceUnavailable || body["not_ready"].(map[string]any)["github"] != "GitHub has not answered" {
		t.Errorf("not ready: %d %v", code, body)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "m 1\n" {
		t.Errorf("/metrics: %d %q", rec.Code, rec.Body.String())
	}
}

// Every request gets an id, echoed in X-Request-Id and in its log line; a
// client's well-formed id is kept, a malformed one replaced.
func TestRequestID(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(ContextLogHandler{slog.NewJSONHandler(&logs, nil)})
	s := opsServer(t, log, nil)
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-Id", "proxy-abc.123")
	rec := httptest.NewRecorder()
	WithRequestID(log, s.Handler()).ServeHTTP(rec, req)
	if got := rec.Header().Get("X-Request-Id"); got != "proxy-abc.123" {
		t.Errorf("kept id: %q", got)
	}
	req = httptest.NewRequest("GET", "/nowhere", nil)
	req.Header.Set("X-Request-Id", "bad id\nwith newline")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	id := rec.Header().Get("X-Request-Id")
	if id == "" || strings.Contains(id, " ") {
		t.Errorf("replaced id: %q", id)
	}
	if !strings.Contains(logs.String(), `"request_id":"`+id+`"`) || !strings.Contains(logs.String(), `"status":404`) {
		t.Errorf("the request's log line lacks its id or status:\n%s", logs.String())
	}
}

// fakeEngine answers nothing: the endpoints tested here never ask it.
type fakeEngine struct{}

func (fakeEngine) TriggerDrift(context.Context, string, string) (string, error) { return "", nil }
func (fakeEngine) GetDriftRun(context.Context, string) (runner.DriftRun, bool, error) {
	return runner.DriftRun{}, false, nil
}
func (fakeEngine) GetJob(context.Context, string) (runner.Job, bool, error) {
	return runner.Job{}, false, nil
}
func (fakeEngine) Overview(context.Context) (runner.Overview, error) { return runner.Overview{}, nil }
func (fakeEngine) Repos(context.Context) ([]string, error)           { return nil, nil }
func (fakeEngine) GetApplyLock(context.Context) (runner.ApplyLock, error) {
	return runner.ApplyLock{}, nil
}
func (fakeEngine) SetApplyLock(context.Context, string, string) (runner.ApplyLock, error) {
	return runner.ApplyLock{}, nil
}
func (fakeEngine) ClearApplyLock(context.Context) error { return nil }
func (fakeEngine) Permission(context.Context, string, string) (vcs.Permission, error) {
	return vcs.PermissionNone, nil
}
func (fakeEngine) MayRun(context.Context, string, string, string) (string, error) {
	return "write", nil
}
func (fakeEngine) InTeam(context.Context, string, string) (bool, error) { return false, nil }
func (fakeEngine) CancelJob(context.Context, string, string) (runner.Job, bool, error) {
	return runner.Job{}, false, nil
}
func (fakeEngine) ReleaseLock(context.Context, locks.Key, string) (locks.Lock, bool, error) {
	return locks.Lock{}, false, nil
}
