package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/templates"
)

// The apply lock: while it is held every apply is refused with its reason.
// The API (an admin token) and the web UI's form (an admin team's member,
// signed in) set and lift it.
//
//	GET    /api/apply-lock                        200 {"locked","reason","by","since"}
//	POST   /api/apply-lock {"reason": "why"}      200 the lock; 400 without a reason
//	DELETE /api/apply-lock                        200 {"locked": false}
//	POST   /apply-lock (form: csrf, action=lock|unlock, reason)
//	                                              303 to /; 403 not an admin; 400 no reason

func (s *Server) applyLockStatus(w http.ResponseWriter, r *http.Request) {
	l, err := s.cfg.Engine.GetApplyLock(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *Server) applyLockSet(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be {"reason": "why applies stop"}`})
		return
	}
	l, err := s.cfg.Engine.SetApplyLock(r.Context(), req.Reason, "API")
	if err == nil {
		s.record(r.Context(), audit.Entry{Actor: actorOf(r), Action: "apply_lock.lock", Outcome: "ok",
			Details: map[string]string{"reason": req.Reason, "via": "API"}})
	}
	switch {
	case errors.Is(err, runner.ErrNoReason):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error() + `: body must be {"reason": "why applies stop"}`})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, l)
	}
}

func (s *Server) applyLockClear(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Engine.ClearApplyLock(r.Context()); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	s.record(r.Context(), audit.Entry{Actor: actorOf(r), Action: "apply_lock.unlock", Outcome: "ok", Details: map[string]string{"via": "API"}})
	writeJSON(w, http.StatusOK, runner.ApplyLock{})
}

// applyLockForm is the web UI's form (session and CSRF token checked by
// pageAuth); only members of ui.admin_teams may use it.
func (s *Server) applyLockForm(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	if !s.isAdmin(r.Context(), sess.Login) {
		s.refuse(w, templates.WebError{Kind: templates.WebApplyLockAdmins})
		return
	}
	var err error
	action := r.PostForm.Get("action")
	switch action {
	case "lock":
		_, err = s.cfg.Engine.SetApplyLock(r.Context(), r.PostForm.Get("reason"), "web UI ("+sess.Login+")")
	case "unlock":
		err = s.cfg.Engine.ClearApplyLock(r.Context())
	default:
		s.fail(w, http.StatusBadRequest, templates.WebError{Kind: templates.WebApplyLockAction})
		return
	}
	switch {
	case errors.Is(err, runner.ErrNoReason):
		s.fail(w, http.StatusBadRequest, templates.WebError{Kind: templates.WebApplyLockReason})
	case err != nil:
		s.failInternal(w, "apply lock form", err)
	default:
		s.record(r.Context(), audit.Entry{Actor: sess.Login, Action: "apply_lock." + action, Outcome: "ok",
			Details: map[string]string{"reason": r.PostForm.Get("reason"), "via": "web UI"}})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}
