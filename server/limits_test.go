package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/runner/mask"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
	"github.com/atollhq/atoll/vcs/github"
)

// blockingBody is a request body that blocks until release is closed, as a
// slow sender's does.
type blockingBody struct{ release chan struct{} }

func (b blockingBody) Read([]byte) (int, error) { <-b.release; return 0, io.EOF }

func TestWebhookConcurrencyCap(t *testing.T) {
	inbox := newMemInbox()
	h, err := NewWebhookHandler(WebhookHandler{Secret: secret, Inbox: inbox, MaxConcurrent: 2,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	done := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() {
			req := httptest.NewRequest(http.MethodPost, "/events", blockingBody{release})
			req.Header.Set("X-Hub-Signature-256", "sha256=00")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			done <- rec.Code
		}()
	}
	// Wait until both slow senders hold a slot.
	for deadline := time.Now().Add(5 * time.Second); len(h.slots) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow senders never took their slots")
		}
	}
	body := []byte(pushBody)
	rec := post(h, "push", "d-over", github.Sign(secret, body), body)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("third concurrent delivery: status %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	close(release)
	<-done
	<-done
	if rec := post(h, "push", "d-after", github.Sign(secret, body), body); rec.Code != http.StatusAccepted {
		t.Errorf("after the slow senders left: status %d, want 202", rec.Code)
	}
	if inbox.count() != 1 {
		t.Errorf("inbox holds %d deliveries, want 1 (the refused one is not stored)", inbox.count())
	}
}

// jobEngine serves one job whose log is at path.
type jobEngine struct {
	Engine
	logPath string
}

func (e jobEngine) GetJob(context.Context, string) (runner.Job, bool, error) {
	return runner.Job{ID: "j1", LogPath: e.logPath}, true, nil
}

type rawPages struct{}

func (rawPages) RenderMessage(m templates.Message) (string, error) { return m.Template(), nil }

func (rawPages) Page(name string, data any) ([]byte, error) {
	return []byte(name + ": " + data.(view).Data.(struct {
		Job     runner.Job
		Log     string
		Running bool
	}).Log), nil
}

// Permission lets everyone read the job's repository.
func (jobEngine) Permission(context.Context, string, string) (vcs.Permission, error) {
	return vcs.PermissionRead, nil
}

func TestServerConnectionTimeouts(t *testing.T) {
	srv, err := New(Config{Webhook: http.NotFoundHandler(), Engine: jobEngine{}, Logger: slog.New(slog.DiscardHandler),
		Timeouts: Timeouts{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond, Idle: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Serve(ctx, ln) }()
	tests := []struct{ name, send string }{
		{"headers never finished", "POST /events HTTP/1.1\r\nHost: x\r\n"},
		{"body never sent", "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.send); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.Copy(io.Discard, conn) // returns when the server closes the connection
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("a client that stalls kept its connection %s", d)
			}
		})
	}
}

func TestPagesAndLogsMasked(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "job.log")
	if err := os.WriteFile(logPath, []byte("token=abcdTAIL\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := mask.New("abcd", "abcdTAIL")
	srv, err := New(Config{Webhook: http.NotFoundHandler(), Engine: jobEngine{logPath: logPath}, Pages: rawPages{},
		Mask: m.Mask, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := srv.sessions.start(context.Background(), "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/jobs/j1", "/jobs/j1/log"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sess.ID})
		srv.Handler().ServeHTTP(rec, req)
		if body := rec.Body.String(); rec.Code != http.StatusOK || strings.Contains(body, "abcd") || strings.Contains(body, "TAIL") ||
			!bytes.Contains(rec.Body.Bytes(), []byte("token=***")) {
			t.Errorf("GET %s: %d %q", path, rec.Code, body)
		}
	}
}

// The bytes of the bodies in flight are capped too, each counted at its
// Content-Length: a delivery that would pass the budget is refused with
// 503, small ones still get in, and a body that declares no length counts
// as the largest allowed.
func TestWebhookBytesCap(t *testing.T) {
	inbox := newMemInbox()
	body := []byte(pushBody)
	h, err := NewWebhookHandler(WebhookHandler{Secret: secret, Inbox: inbox, MaxBytes: 3 * int64(len(body)),
		MaxBody: 2 * int64(len(body)), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/events", blockingBody{release})
		req.ContentLength = 2 * int64(len(body))
		req.Header.Set("X-Hub-Signature-256", "sha256=00")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		done <- rec.Code
	}()
	for deadline := time.Now().Add(5 * time.Second); len(h.slots) < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow sender never took its slot")
		}
	}
	if rec := post(h, "push", "d-fits", github.Sign(secret, body), body); rec.Code != http.StatusAccepted {
		t.Errorf("a delivery within the budget: status %d, want 202", rec.Code)
	}
	req := httptest.NewRequest(http.MethodPost, "/events", bytes.NewReader(body))
	req.ContentLength = -1 // chunked: counted as MaxBody
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "d-unknown-length")
	req.Header.Set("X-Hub-Signature-256", github.Sign(secret, body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("a delivery past the budget: status %d, want 503 with Retry-After", rec.Code)
	}
	close(release)
	<-done
	if inbox.count() != 1 {
		t.Errorf("inbox holds %d deliveries, want 1", inbox.count())
	}
}
