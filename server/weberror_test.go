package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/templates"
)

// TestWebErrorsComeFromTheTemplate: what the web UI answers a person who
// is not signed in, posts a stale form or is no admin is web_error.tmpl's
// wording (overridable by the operator), with the right status.
func TestWebErrorsComeFromTheTemplate(t *testing.T) {
	pages, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Webhook: http.NotFoundHandler(), Engine: jobEngine{}, Pages: pages,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := srv.sessions.start(context.Background(), "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path string, form url.Values, signedIn bool) (int, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if signedIn {
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sess.ID})
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	tests := []struct {
		name       string
		method     string
		path       string
		form       url.Values
		signedIn   bool
		wantStatus int
		wantBody   string
	}{
		{"not signed in", "GET", "/jobs/j1/log", nil, false, http.StatusUnauthorized, "sign in first: /login"},
		{"no OAuth client", "GET", "/login", nil, false, http.StatusServiceUnavailable,
			"the web UI is off: set github.client_id and github.client_secret"},
		{"no CSRF token", "POST", "/apply-lock", url.Values{"action": {"lock"}}, true, http.StatusForbidden,
			"the form's CSRF token is missing or stale: reload the page"},
		{"not an admin", "POST", "/apply-lock", url.Values{"action": {"lock"}, "csrf": {sess.CSRF}}, true, http.StatusForbidden,
			"only members of ui.admin_teams may lock or unlock applies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(tt.method, tt.path, tt.form, tt.signedIn)
			if code != tt.wantStatus || body != tt.wantBody {
				t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, code, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}
