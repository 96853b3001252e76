package server

import (
	"io"
	"net/http"
	"os"

	"github.com/atollhq/atoll/runner"
)

// index is the web UI's front page: locks, recent runs, drift.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	ov, err := s.cfg.Engine.Overview(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.page(w, "index.html.tmpl", ov)
}

// jobPage shows one job: its project, state, outcome and log.
func (s *Server) jobPage(w http.ResponseWriter, r *http.Request) {
	job, ok, err := s.cfg.Engine.GetJob(r.Context(), r.PathValue("id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	log, _ := os.ReadFile(job.LogPath) // masked with the page
	s.page(w, "job.html.tmpl", struct {
		Job runner.Job
		Log string
	}{job, s.cfg.Mask(string(log))})
}

// jobLog serves a job's log as plain text, masked.
func (s *Server) jobLog(w http.ResponseWriter, r *http.Request) {
	job, ok, err := s.cfg.Engine.GetJob(r.Context(), r.PathValue("id"))
	if err != nil || !ok {
		http.NotFound(w, r)
		return
	}
	log, err := os.ReadFile(job.LogPath)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, s.cfg.Mask(string(log)))
}

func (s *Server) page(w http.ResponseWriter, name string, data any) {
	if s.cfg.Pages == nil {
		http.Error(w, "no pages configured", http.StatusNotFound)
		return
	}
	body, err := s.cfg.Pages.Page(name, data)
	if err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, s.cfg.Mask(string(body)))
}
