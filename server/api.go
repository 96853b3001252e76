package server

import (
	_ "embed"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
)

// openapiDoc describes the REST API; a test checks it against the routes.
//
//go:embed openapi.json
var openapiDoc []byte

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapiDoc)
}

// apiJob returns one job as JSON.
func (s *Server) apiJob(w http.ResponseWriter, r *http.Request) {
	job, ok, err := s.cfg.Engine.GetJob(r.Context(), r.PathValue("id"))
	switch {
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such job"})
	default:
		job.LogPath = ""
		writeJSON(w, http.StatusOK, job)
	}
}

// lockJSON is a lock as the API shows it.
type lockJSON struct {
	Repo      string    `json:"repo"`
	Dir       string    `json:"dir"`
	Workspace string    `json:"workspace"`
	Number    int       `json:"number"`
	Author    string    `json:"author"`
	HeadSHA   string    `json:"head_sha"`
	Since     time.Time `json:"since"`
}

func (s *Server) apiLocks(w http.ResponseWriter, r *http.Request) {
	ov, err := s.cfg.Engine.Overview(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	out := []lockJSON{}
	for _, l := range ov.Locks {
		out = append(out, lockJSON{l.Key.Repo, l.Key.Dir, l.Key.Workspace, l.Owner.Number, l.Owner.Author, l.Owner.HeadSHA, l.Owner.Time})
	}
	writeJSON(w, http.StatusOK, map[string]any{"locks": out})
}

// apiReleaseLock releases one lock: body {"repo", "dir", "workspace"}.
func (s *Server) apiReleaseLock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Repo      string `json:"repo"`
		Dir       string `json:"dir"`
		Workspace string `json:"workspace"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil || !strings.Contains(req.Repo, "/") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be {"repo": "owner/name", "dir": "path", "workspace": "default"}`})
		return
	}
	if req.Workspace == "" {
		req.Workspace = "default"
	}
	k := locks.Key{Repo: req.Repo, Dir: req.Dir, Workspace: req.Workspace}
	l, ok, err := s.cfg.Engine.ReleaseLock(r.Context(), k, "the API token "+strings.TrimPrefix(actorOf(r), "api:"))
	switch {
	case errors.Is(err, locks.ErrInvalid):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such lock"})
	default:
		s.record(r.Context(), audit.Entry{Actor: actorOf(r), Action: "lock.released", Repo: k.Repo, Number: l.Owner.Number,
			Project: k.Dir, Workspace: k.Workspace, SHA: l.Owner.HeadSHA, Outcome: "ok", Details: map[string]string{"via": "API"}})
		writeJSON(w, http.StatusOK, map[string]any{"released": true})
	}
}

// apiAudit streams the audit trail as JSON lines, oldest first.
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/jsonl")
	if s.cfg.Audit == nil {
		return
	}
	enc := json.NewEncoder(w)
	fl, _ := w.(http.Flusher)
	n := 0
	err := s.cfg.Audit.Read(r.Context(), auditFilter(r), func(rec audit.Record) error {
		n++
		if fl != nil && n%500 == 0 {
			fl.Flush()
		}
		return enc.Encode(rec)
	})
	if err != nil {
		s.log.Error("audit read", "err", err)
	}
}

func (s *Server) apiTokens(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Tokens == nil {
		writeJSON(w, http.StatusOK, map[string]any{"tokens": []Token{}})
		return
	}
	toks, err := s.cfg.Tokens.List(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	for i := range toks {
		toks[i].Hash = ""
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": toks})
}

// apiTokenCreate makes a token: body {"name", "scope", "expires": "90d"};
// the answer holds the secret, shown only this once.
func (s *Server) apiTokenCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name    string `json:"name"`
		Scope   string `json:"scope"`
		Expires string `json:"expires"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be {"name": "ci", "scope": "read|write|admin", "expires": "90d"}`})
		return
	}
	scope, err := ParseScope(req.Scope)
	var ttl time.Duration
	if err == nil && req.Expires != "" {
		ttl, err = ParseTTL(req.Expires)
	}
	if err != nil || s.cfg.Tokens == nil {
		if err == nil {
			err = errors.New("this server keeps no tokens")
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	secret, tok, err := s.cfg.Tokens.Create(r.Context(), req.Name, scope, ttl, time.Now())
	switch {
	case errors.Is(err, ErrTokenExists):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	s.record(r.Context(), audit.Entry{Actor: actorOf(r), Action: "token.created", Outcome: "ok",
		Details: map[string]string{"name": tok.Name, "scope": string(tok.Scope)}})
	tok.Hash = ""
	writeJSON(w, http.StatusCreated, map[string]any{"token": secret, "info": tok})
}

func (s *Server) apiTokenRevoke(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Tokens == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such token"})
		return
	}
	err := s.cfg.Tokens.Revoke(r.Context(), r.PathValue("name"))
	switch {
	case errors.Is(err, ErrNoToken):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	default:
		s.record(r.Context(), audit.Entry{Actor: actorOf(r), Action: "token.revoked", Outcome: "ok",
			Details: map[string]string{"name": r.PathValue("name")}})
		writeJSON(w, http.StatusOK, map[string]any{"revoked": true})
	}
}

// ParseTTL reads a lifetime: Go durations ("36h") or days ("90d").
func ParseTTL(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, errors.New("expires: use a number of days (90d) or a duration (36h)")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	t, err := time.ParseDuration(s)
	if err != nil || t <= 0 {
		return 0, errors.New("expires: use a number of days (90d) or a duration (36h)")
	}
	return t, nil
}
