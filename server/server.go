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

	"github.com/atollhq/atoll/runner"
)

// Engine is what the server asks of the runner.
type Engine interface {
	TriggerDrift(ctx context.Context, repo, project string) (string, error)
	GetDriftRun(ctx context.Context, id string) (runner.DriftRun, bool, error)
	GetJob(ctx context.Context, id string) (runner.Job, bool, error)
	Overview(ctx context.Context) (runner.Overview, error)
	Repos(ctx context.Context) ([]string, error)
	GetApplyLock(ctx context.Context) (runner.ApplyLock, error)
	SetApplyLock(ctx context.Context, reason, by string) (runner.ApplyLock, error)
	ClearApplyLock(ctx context.Context) error
}

// Config wires a Server. Webhook and Engine are required.
type Config struct {
	Webhook http.Handler
	Engine  Engine
	// APIToken guards the REST API (Authorization: Bearer). An empty token
	// turns the API off: every call gets 401.
	APIToken string
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

// Pages renders HTML pages; templates.Renderer implements it.
type Pages interface {
	Page(name string, data any) ([]byte, error)
}

// Server serves atoll's HTTP endpoints.
type Server struct {
	cfg Config
	mux *http.ServeMux
	log *slog.Logger
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
	s := &Server{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger}
	s.mux.Handle("POST /events", cfg.Webhook)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
		for _, l := range cfg.Health {
			fmt.Fprintln(w, l)
		}
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", cfg.Metrics)
	}
	s.mux.HandleFunc("POST /api/drift/run", s.authed(s.driftRun))
	s.mux.HandleFunc("GET /api/drift/runs/{id}", s.authed(s.driftRunStatus))
	s.mux.HandleFunc("GET /api/repos", s.authed(s.repos))
	s.mux.HandleFunc("GET /api/apply-lock", s.authed(s.applyLockStatus))
	s.mux.HandleFunc("POST /api/apply-lock", s.authed(s.applyLockSet))
	s.mux.HandleFunc("DELETE /api/apply-lock", s.authed(s.applyLockClear))
	s.mux.HandleFunc("POST /apply-lock", s.applyLockForm)
	s.mux.HandleFunc("GET /jobs/{id}", s.jobPage)
	s.mux.HandleFunc("GET /jobs/{id}/log", s.jobLog)
	s.mux.HandleFunc("GET /{$}", s.index)
	return s, nil
}

// Handler is the server's root handler; panics in a handler become 500s.
// Every request gets a request id (see WithRequestID).
func (s *Server) Handler() http.Handler {
	return WithRequestID(s.log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(r.Context(), "panic in handler", "path", r.URL.Path, "panic", fmt.Sprint(p))
				http.Error(w, "internal error", http.StatusInternalServerError)
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

// authed requires the API token as a bearer token.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !s.tokenOK(got) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong API token"})
			return
		}
		h(w, r)
	}
}

// tokenOK reports, in constant time, whether got is the API token; no
// token is ever right when none is configured.
func (s *Server) tokenOK(got string) bool {
	return s.cfg.APIToken != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.APIToken)) == 1
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
