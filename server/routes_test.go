package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/vcs"
)

// nobody is an Engine no anonymous request may reach: every call fails
// the test.
type nobody struct{ t *testing.T }

func (n nobody) fail() { n.t.Helper(); n.t.Error("an anonymous request reached the engine") }
func (n nobody) TriggerDrift(context.Context, string, string) (string, error) {
	n.fail()
	return "", nil
}
func (n nobody) GetDriftRun(context.Context, string) (runner.DriftRun, bool, error) {
	n.fail()
	return runner.DriftRun{}, false, nil
}
func (n nobody) GetJob(context.Context, string) (runner.Job, bool, error) {
	n.fail()
	return runner.Job{}, false, nil
}
func (n nobody) Overview(context.Context) (runner.Overview, error) {
	n.fail()
	return runner.Overview{}, nil
}
func (n nobody) Repos(context.Context) ([]string, error) { n.fail(); return nil, nil }
func (n nobody) GetApplyLock(context.Context) (runner.ApplyLock, error) {
	n.fail()
	return runner.ApplyLock{}, nil
}
func (n nobody) SetApplyLock(context.Context, string, string) (runner.ApplyLock, error) {
	n.fail()
	return runner.ApplyLock{}, nil
}
func (n nobody) ClearApplyLock(context.Context) error { n.fail(); return nil }
func (n nobody) Permission(context.Context, string, string) (vcs.Permission, error) {
	n.fail()
	return vcs.PermissionAdmin, nil
}
func (n nobody) MayRun(context.Context, string, string, string) (string, error) {
	n.fail()
	return "", nil
}
func (n nobody) InTeam(context.Context, string, string) (bool, error) { n.fail(); return true, nil }
func (n nobody) CancelJob(context.Context, string, string) (runner.Job, bool, error) {
	n.fail()
	return runner.Job{}, true, nil
}
func (n nobody) ReleaseLock(context.Context, locks.Key, string) (locks.Lock, bool, error) {
	n.fail()
	return locks.Lock{}, true, nil
}

func newAnonServer(t *testing.T) *Server {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(Config{Webhook: http.NotFoundHandler(), Engine: nobody{t}, APIToken: "static-admin",
		Metrics: http.NotFoundHandler(),
		Tokens:  &Tokens{Store: db}, Login: Login{ClientID: "Iv1.x", ClientSecret: "s", WebURL: "http://gh.invalid",
			APIURL: "http://gh.invalid/", BaseURL: "https://atoll.example", AdminTeams: []string{"acme/admins"}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// TestAnonymousRoutes walks every registered route without credentials:
// pages answer 302 to /login, data endpoints and the API 401, and only
// the open ones (webhooks, health, readiness, metrics, login, the API
// description) answer anything else.
func TestAnonymousRoutes(t *testing.T) {
	s := newAnonServer(t)
	h := s.Handler()
	open := map[string]bool{"POST /events": true, "GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /login": true,
		"GET /auth/callback": true, "GET /api/openapi.json": true}
	for _, rt := range s.routes {
		method, pattern, _ := strings.Cut(rt.Pattern, " ")
		path := pathParam.ReplaceAllString(strings.TrimSuffix(pattern, "{$}"), "x")
		if rt.Kind == routeOpen {
			if !open[rt.Pattern] {
				t.Errorf("%s is open to anonymous requests but not on the list of open routes", rt.Pattern)
			}
			continue
		}
		for _, cred := range []func(*http.Request){
			func(*http.Request) {},
			func(r *http.Request) { r.AddCookie(&http.Cookie{Name: sessionCookie, Value: "forged"}) },
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer wrong") },
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer atl_"+strings.Repeat("0", 64)) },
		} {
			req := httptest.NewRequest(method, path, strings.NewReader("repo=a%2Fb&dir=.&workspace=default&confirm=yes&action=unlock"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			cred(req)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			switch rt.Kind {
			case routePage:
				if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
					t.Errorf("%s %s: %d %q, want 302 to /login", method, path, w.Code, w.Header().Get("Location"))
				}
			case routeData, routeAPI:
				if w.Code != http.StatusUnauthorized {
					t.Errorf("%s %s: %d, want 401", method, path, w.Code)
				}
			default:
				t.Errorf("%s: unknown kind %q", rt.Pattern, rt.Kind)
			}
		}
	}
	if len(s.routes) < 25 {
		t.Errorf("only %d routes registered: is the walk seeing them all?", len(s.routes))
	}
}

// TestLoginRedirect checks /login sends the browser to GitHub with a
// state it also keeps in an HttpOnly, SameSite=Lax, Secure cookie.
func TestLoginRedirect(t *testing.T) {
	s := newAnonServer(t)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/login?next=/locks", nil))
	loc := w.Header().Get("Location")
	if w.Code != http.StatusFound || !strings.HasPrefix(loc, "http://gh.invalid/login/oauth/authorize?") ||
		!strings.Contains(loc, "client_id=Iv1.x") || !strings.Contains(loc, "state=") ||
		!strings.Contains(loc, "redirect_uri=https%3A%2F%2Fatoll.example%2Fauth%2Fcallback") {
		t.Fatalf("GET /login: %d %q", w.Code, loc)
	}
	c := w.Result().Cookies()
	if len(c) != 1 || !c[0].HttpOnly || !c[0].Secure || c[0].SameSite != http.SameSiteLaxMode {
		t.Errorf("state cookie: %+v", c)
	}
	// Where to go after the login is a path on this server, never another site.
	for _, next := range []string{"//evil.example/x", "/\\evil.example/x", "https://evil.example/"} {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/login?next="+url.QueryEscape(next), nil))
		for _, c := range w.Result().Cookies() {
			if c.Name == stateCookie && !strings.HasSuffix(c.Value, "|/") {
				t.Errorf("next=%q kept as %q", next, c.Value)
			}
		}
	}
	// A callback without the state cookie is refused before GitHub is asked.
	w = httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/auth/callback?code=x&state=y", nil))
	if w.Code != http.StatusBadRequest {
		t.Errorf("callback without state: %d", w.Code)
	}
}

// TestOpenAPIMatchesRoutes checks the OpenAPI document against the
// handlers: every documented operation is registered and answers (with a
// token), and every registered /api route is documented.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	registered := map[string]bool{}
	for _, rt := range s(t).routes {
		if strings.Contains(rt.Pattern, " /api/") {
			registered[rt.Pattern] = true
		}
	}
	var missing, extra []string
	for op := range documented {
		if !registered[op] {
			missing = append(missing, op)
		}
	}
	for op := range registered {
		if !documented[op] {
			extra = append(extra, op)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("documented but not served: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("served but not documented: %v", extra)
	}
	// Every documented operation answers through the real mux: a token of
	// too small a scope is refused with 403, never a 404 or 405.
	srv := newAnonServer(t)
	secret, _, err := srv.cfg.Tokens.Create(context.Background(), "reader", ScopeRead, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for op := range documented {
		method, path, _ := strings.Cut(op, " ")
		req := httptest.NewRequest(method, pathParam.ReplaceAllString(path, "x"), nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		w := httptest.NewRecorder()
		if method == "GET" {
			continue // reads reach the engine, which this test does not have
		}
		srv.Handler().ServeHTTP(w, req)
		if w.Code != http.StatusForbidden {
			t.Errorf("%s with a read token: %d, want 403", op, w.Code)
		}
	}
}

func s(t *testing.T) *Server { return newAnonServer(t) }
