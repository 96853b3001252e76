package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/atollhq/atoll/runner"
)

// The apply lock: while it is held every apply is refused with its reason.
// The API (bearer token) and the web UI's form (the same token typed in)
// set and lift it.
//
//	GET    /api/apply-lock                        200 {"locked","reason","by","since"}
//	POST   /api/apply-lock {"reason": "why"}      200 the lock; 400 without a reason
//	DELETE /api/apply-lock                        200 {"locked": false}
//	POST   /apply-lock (form: token, action=lock|unlock, reason)
//	                                              303 to /; 401 wrong token; 400 no reason

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
	writeJSON(w, http.StatusOK, runner.ApplyLock{})
}

// applyLockForm is the web UI's form. The API token typed into it is the
// authentication, so a page elsewhere cannot submit it for an admin.
func (s *Server) applyLockForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if !s.tokenOK(r.PostForm.Get("token")) {
		http.Error(w, "wrong API token", http.StatusUnauthorized)
		return
	}
	var err error
	switch r.PostForm.Get("action") {
	case "lock":
		_, err = s.cfg.Engine.SetApplyLock(r.Context(), r.PostForm.Get("reason"), "web UI")
	case "unlock":
		err = s.cfg.Engine.ClearApplyLock(r.Context())
	default:
		http.Error(w, "action must be lock or unlock", http.StatusBadRequest)
		return
	}
	switch {
	case errors.Is(err, runner.ErrNoReason):
		http.Error(w, "an apply lock needs a reason", http.StatusBadRequest)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}
