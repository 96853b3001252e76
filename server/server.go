// Package server is atoll's HTTP edge: the webhook endpoint, the REST API
// for operators (drift runs), job pages and logs, and health. It decides
// nothing itself: what a request means is the runner's business.
package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Engine is what the server asks of the runner, as the sum of the groups
// below, each what one part of the server asks.
type Engine interface {
	DriftAPI
	Queries
	ApplySwitch
	Access
}

// DriftAPI starts drift checks and reads them (the drift API).
type DriftAPI interface {
	TriggerDrift(ctx context.Context, repo, project string) (string, error)
	GetDriftRun(ctx context.Context, id string) (runner.DriftRun, bool, error)
}

// Queries read the runner's jobs and what it serves, and cancel a queued
// job (the API and the web UI).
type Queries interface {
	GetJob(ctx context.Context, id string) (runner.Job, bool, error)
	Overview(ctx context.Context) (runner.Overview, error)
	Repos(ctx context.Context) ([]string, error)
	// CancelJob cancels a queued job; false: none, or it has started.
	CancelJob(ctx context.Context, id, by string) (runner.Job, bool, error)
}

// ApplySwitch reads, sets and lifts the server-wide apply lock.
type ApplySwitch interface {
	GetApplyLock(ctx context.Context) (runner.ApplyLock, error)
	SetApplyLock(ctx context.Context, reason, by string) (runner.ApplyLock, error)
	ClearApplyLock(ctx context.Context) error
}

// Access answers who may see and do what in the web UI, and releases a
// lock as an admin.
type Access interface {
	// Permission is user's permission on repo ("owner/name"), from GitHub.
	Permission(ctx context.Context, repo, user string) (vcs.Permission, error)
	// MayRun returns what user lacks to run command ("plan", "apply",
	// "unlock") on repo, as a comment would; "" when allowed.
	MayRun(ctx context.Context, repo, user, command string) (string, error)
	// InTeam reports whether user is an active member of team
	// ("org/team-slug").
	InTeam(ctx context.Context, team, user string) (bool, error)
	// ReleaseLock releases one lock, as `atoll unlock` would for its
	// project, and says so on the holding PR; by names who did it.
	ReleaseLock(ctx context.Context, k locks.Key, by string) (locks.Lock, bool, error)
}

// AuditLog is the audit trail as the server uses it.
type AuditLog interface {
	audit.Log
	Read(ctx context.Context, f audit.Filter, fn func(audit.Record) error) error
}

// Config wires a Server. Webhook and Engine are required.
type Config struct {
	Webhook http.Handler
	Engine  Engine
	// APIToken is a static bearer token with the admin scope. Tokens made
	// with `atoll token create` (in Tokens) work beside it.
	APIToken string
	// Tokens holds the API tokens; nil: only APIToken.
	Tokens *Tokens
	// Sessions, when set, keeps the web UI's sessions in the store, so
	// that every replica sharing it serves a signed-in person and a
	// restart signs nobody out; nil: in memory.
	Sessions RecordStore
	// Login signs people in to the web UI.
	Login Login
	// Audit receives the actions taken through the server and serves
	// /api/audit; nil: none.
	Audit AuditLog
	// Pages renders the web UI.
	Pages Pages
	// Mask, when set, masks secrets in every page and job log served
	// (atoll passes its one masker, runner/mask).
	Mask func(string) string
	// Health are lines /healthz shows after "ok", such as whether
	// terraform runs sandboxed ("sandbox: landlock (ABI 7)").
	Health []string
	Logger *slog.Logger
	// Metrics, when set, is served at GET /metrics (nil: metrics are
	// served elsewhere, or not at all).
	Metrics http.Handler
	// Ready names what is not ready, with why (nil or empty: ready); it
	// answers GET /readyz. Nil: always ready.
	Ready func(ctx context.Context) map[string]string
	// Timeouts bound every connection; zero fields take the defaults
	// (DefaultTimeouts).
	Timeouts Timeouts
}

// Timeouts are the HTTP server's connection timeouts (net/http.Server's
// fields of the same names). They keep slow or idle clients from holding
// connections open: a client that sends its headers or body slower than
// this is cut off.
type Timeouts struct {
	ReadHeader time.Duration
	Read       time.Duration
	Write      time.Duration
	Idle       time.Duration
}

// DefaultTimeouts: headers in 10s; a whole request (a 25 MiB webhook
// included) in 60s; an answer in 60s (a job log of many megabytes
// included); an idle keep-alive connection closed after 120s.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 60 * time.Second, Write: 60 * time.Second, Idle: 120 * time.Second}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts
	if t.ReadHeader > 0 {
		d.ReadHeader = t.ReadHeader
	}
	if t.Read > 0 {
		d.Read = t.Read
	}
	if t.Write > 0 {
		d.Write = t.Write
	}
	if t.Idle > 0 {
		d.Idle = t.Idle
	}
	return d
}

// Pages renders HTML pages and the web UI's short refusals;
// templates.Renderer implements it.
type Pages interface {
	Page(name string, data any) ([]byte, error)
	RenderMessage(m templates.Message) (string, error)
}

// Server serves atoll's HTTP endpoints.
type Server struct {
	cfg      Config
	mux      *http.ServeMux
	log      *slog.Logger
	routes   []route
	sessions sessions
	acc      access
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Webhook == nil || cfg.Engine == nil {
		return nil, errors.New("server: Webhook and Engine are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Mask == nil {
		cfg.Mask = func(s string) string { return s }
	}
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	if cfg.Login.SessionTTL <= 0 {
		cfg.Login.SessionTTL = 12 * time.Hour
	}
	if cfg.Login.APIURL != "" && !strings.HasSuffix(cfg.Login.APIURL, "/") {
		cfg.Login.APIURL += "/"
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger, sessions: sessions{store: cfg.Sessions}}
	s.handle("POST /events", routeOpen, cfg.Webhook.ServeHTTP)
	s.handle("GET /healthz", routeOpen, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
		for _, l := range cfg.Health {
			fmt.Fprintln(w, l)
		}
	})
	s.handle("GET /readyz", routeOpen, s.readyz)
	if cfg.Metrics != nil {
		s.handle("GET /metrics", routeOpen, cfg.Metrics.ServeHTTP)
	}
	s.handle("GET /login", routeOpen, s.login)
	s.handle("GET /auth/callback", routeOpen, s.callback)
	s.handle("GET /api/openapi.json", routeOpen, s.openapi)

	s.handle("POST /logout", routePage, s.logout)
	s.handle("GET /{$}", routePage, s.index)
	s.handle("GET /repos/{owner}/{repo}", routePage, s.repoPage)
	s.handle("GET /locks", routePage, s.locksPage)
	s.handle("POST /locks/release", routePage, s.releaseForm)
	s.handle("GET /jobs", routePage, s.jobsPage)
	s.handle("GET /jobs/{id}", routePage, s.jobPage)
	s.handle("POST /jobs/{id}/cancel", routePage, s.cancelForm)
	s.handle("GET /drift", routePage, s.driftPage)
	s.handle("POST /drift/run", routePage, s.driftForm)
	s.handle("GET /audit", routePage, s.auditPage)
	s.handle("POST /apply-lock", routePage, s.applyLockForm)

	s.handle("GET /jobs/{id}/log", routeData, s.jobLog)
	s.handle("GET /jobs/{id}/events", routeData, s.jobEvents)
	s.handle("GET /audit/download", routeData, s.auditDownload)

	s.handle("POST /api/drift/run", routeAPI, s.scoped(ScopeWrite, s.driftRun))
	s.handle("GET /api/drift/runs/{id}", routeAPI, s.scoped(ScopeRead, s.driftRunStatus))
	s.handle("GET /api/repos", routeAPI, s.scoped(ScopeRead, s.repos))
	s.handle("GET /api/jobs/{id}", routeAPI, s.scoped(ScopeRead, s.apiJob))
	s.handle("GET /api/locks", routeAPI, s.scoped(ScopeRead, s.apiLocks))
	s.handle("POST /api/locks/release", routeAPI, s.scoped(ScopeWrite, s.apiReleaseLock))
	s.handle("GET /api/audit", routeAPI, s.scoped(ScopeRead, s.apiAudit))
	s.handle("GET /api/apply-lock", routeAPI, s.scoped(ScopeRead, s.applyLockStatus))
	s.handle("POST /api/apply-lock", routeAPI, s.scoped(ScopeAdmin, s.applyLockSet))
	s.handle("DELETE /api/apply-lock", routeAPI, s.scoped(ScopeAdmin, s.applyLockClear))
	s.handle("GET /api/tokens", routeAPI, s.scoped(ScopeAdmin, s.apiTokens))
	s.handle("POST /api/tokens", routeAPI, s.scoped(ScopeAdmin, s.apiTokenCreate))
	s.handle("DELETE /api/tokens/{name}", routeAPI, s.scoped(ScopeAdmin, s.apiTokenRevoke))
	return s, nil
}

// handle registers a route of a kind, which decides how a request without
// credentials is answered.
func (s *Server) handle(pattern, kind string, h http.HandlerFunc) {
	switch kind {
	case routePage:
		h = s.pageAuth(h)
	case routeData:
		h = s.dataAuth(h)
	}
	s.routes = append(s.routes, route{Pattern: pattern, Kind: kind})
	s.mux.HandleFunc(pattern, h)
}

// Handler is the server's root handler; panics in a handler become 500s.
// Every request gets a request id (see WithRequestID).
func (s *Server) Handler() http.Handler {
	return WithRequestID(s.log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(r.Context(), "panic in handler", "path", r.URL.Path, "panic", fmt.Sprint(p))
				s.fail(w, http.StatusInternalServerError, templates.WebError{Kind: templates.WebInternal})
			}
		}()
		s.mux.ServeHTTP(w, r)
	}))
}

// readyz answers 200 when ready, else 503 with {"not_ready": {what: why}}.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	var problems map[string]string
	if s.cfg.Ready != nil {
		problems = s.cfg.Ready(r.Context())
	}
	if len(problems) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "not_ready": problems})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ready": true})
}

// Serve serves on ln until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	t := s.cfg.Timeouts
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// scoped requires an API token (Authorization: Bearer) whose scope covers
// need: the static api_token (admin) or one made by `atoll token create`.
func (s *Server) scoped(need Scope, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		p, known := s.principal(r.Context(), strings.TrimSpace(got))
		if !ok || !known {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong API token"})
			return
		}
		if !p.Scope.Covers(need) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": fmt.Sprintf("token %s has the %s scope; this needs %s", p.Name, p.Scope, need)})
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	}
}

// principal finds the token: the static api_token is "api_token", admin.
func (s *Server) principal(ctx context.Context, got string) (principal, bool) {
	if got == "" {
		return principal{}, false
	}
	if s.cfg.APIToken != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.APIToken)) == 1 {
		return principal{Name: "api_token", Scope: ScopeAdmin}, true
	}
	if s.cfg.Tokens != nil {
		if tok, ok := s.cfg.Tokens.Check(ctx, got, time.Now()); ok {
			return principal{Name: tok.Name, Scope: tok.Scope}, true
		}
	}
	return principal{}, false
}

// driftRun starts a drift check: body {"repo": "owner/name", "project": "optional"}.
func (s *Server) driftRun(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Repo    string `json:"repo"`
		Project string `json:"project"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || !strings.Contains(req.Repo, "/") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be {"repo": "owner/name", "project": "optional"}`})
		return
	}
	id, err := s.cfg.Engine.TriggerDrift(r.Context(), req.Repo, req.Project)
	if errors.Is(err, runner.ErrUnknownRepo) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "trigger drift", "repo", req.Repo, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	s.record(r.Context(), audit.Entry{Actor: actorOf(r), Action: "drift.run", Repo: req.Repo, Project: req.Project, Outcome: "queued",
		Details: map[string]string{"run_id": id}})
	writeJSON(w, http.StatusAccepted, map[string]string{"run_id": id})
}

func (s *Server) driftRunStatus(w http.ResponseWriter, r *http.Request) {
	dr, ok, err := s.cfg.Engine.GetDriftRun(r.Context(), r.PathValue("id"))
	switch {
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such drift run"})
	default:
		writeJSON(w, http.StatusOK, dr)
	}
}

// repos lists the served repositories: {"repos": ["owner/name", ...]}.
func (s *Server) repos(w http.ResponseWriter, r *http.Request) {
	repos, err := s.cfg.Engine.Repos(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string][]string{"repos": repos})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
