package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/templates"
)

// view is what every page gets: who is signed in, the CSRF token for its
// forms, and the page's own data.
type view struct {
	Title string
	User  string
	CSRF  string
	Admin bool
	Data  any
}

// refuse answers 403 with a refusal rendered by its template, as plain
// text.
func (s *Server) refuse(w http.ResponseWriter, m templates.Message) {
	s.fail(w, http.StatusForbidden, m)
}

// fail answers status with m rendered by its template, as plain text;
// without pages (or when m does not render) the body is the status text.
func (s *Server) fail(w http.ResponseWriter, status int, m templates.Message) {
	text := http.StatusText(status)
	if s.cfg.Pages != nil {
		if out, err := s.cfg.Pages.RenderMessage(m); err == nil {
			text = strings.TrimSpace(out)
		} else {
			s.log.Error("render error text", "template", m.Template(), "err", err)
		}
	}
	http.Error(w, text, status)
}

// failInternal logs err and answers 500 with web_error.tmpl's words for
// an internal error: the details stay in atoll's log.
func (s *Server) failInternal(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, "err", err)
	s.fail(w, http.StatusInternalServerError, templates.WebError{Kind: templates.WebInternal})
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	if s.cfg.Pages == nil {
		s.fail(w, http.StatusNotFound, templates.WebError{Kind: templates.WebInternal}) // without pages: "Not Found"
		return
	}
	v := view{Title: title, Data: data}
	if sess := sessionOf(r); sess != nil {
		v.User, v.CSRF, v.Admin = sess.Login, sess.CSRF, s.isAdmin(r.Context(), sess.Login)
	}
	body, err := s.cfg.Pages.Page(name, v)
	if err != nil {
		s.log.Error("render page", "page", name, "err", err)
		s.fail(w, http.StatusInternalServerError, templates.WebError{Kind: templates.WebInternal})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
	_, _ = io.WriteString(w, s.cfg.Mask(string(body)))
}

// visible is the overview cut down to what the request's user may see.
type visible struct {
	runner.Overview
	Repos []string
}

func (s *Server) visibleOverview(r *http.Request) (visible, error) {
	ov, err := s.cfg.Engine.Overview(r.Context())
	if err != nil {
		return visible{}, err
	}
	all, err := s.servedRepos(r.Context())
	if err != nil {
		return visible{}, err
	}
	for _, l := range ov.Locks {
		all = append(all, l.Key.Repo)
	}
	for _, j := range ov.Jobs {
		all = append(all, j.Repo.FullName())
	}
	for _, d := range ov.Drift {
		all = append(all, d.Repo)
	}
	sort.Strings(all)
	seen := s.visibleRepos(r, compact(all))
	v := visible{Overview: ov}
	v.Locks, v.Jobs, v.Drift = nil, nil, nil
	for _, l := range ov.Locks {
		if seen[l.Key.Repo] {
			v.Locks = append(v.Locks, l)
		}
	}
	for _, j := range ov.Jobs {
		if seen[j.Repo.FullName()] {
			v.Jobs = append(v.Jobs, j)
		}
	}
	for _, d := range ov.Drift {
		if seen[d.Repo] {
			v.Drift = append(v.Drift, d)
		}
	}
	for repo := range seen {
		v.Repos = append(v.Repos, repo)
	}
	sort.Strings(v.Repos)
	return v, nil
}

func compact(ss []string) []string {
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// repoSummary is one repository on the front page.
type repoSummary struct {
	Repo     string
	Projects []projectSummary
}

type projectSummary struct {
	Name                string
	Plan, Apply, Drift  string
	PlanJob, ApplyJob   string
	LastPlan, LastApply time.Time
}

func summarize(v visible) []repoSummary {
	byRepo := map[string]map[string]*projectSummary{}
	get := func(repo, name string) *projectSummary {
		if byRepo[repo] == nil {
			byRepo[repo] = map[string]*projectSummary{}
		}
		if byRepo[repo][name] == nil {
			byRepo[repo][name] = &projectSummary{Name: name}
		}
		return byRepo[repo][name]
	}
	for _, repo := range v.Repos {
		if byRepo[repo] == nil {
			byRepo[repo] = map[string]*projectSummary{}
		}
	}
	for _, j := range v.Jobs { // newest first: the first seen is the last
		p := get(j.Repo.FullName(), j.Project.Name)
		switch j.Kind {
		case runner.JobPlan:
			if p.Plan == "" {
				p.Plan, p.PlanJob, p.LastPlan = j.Outcome.Status, j.ID, j.Created
			}
		case runner.JobApply:
			if p.Apply == "" {
				p.Apply, p.ApplyJob, p.LastApply = j.Outcome.Status, j.ID, j.Created
			}
		}
	}
	for _, d := range v.Drift {
		p := get(d.Repo, d.Project.Name)
		if n := len(d.History); n > 0 {
			p.Drift = d.History[n-1].Status
		}
	}
	var out []repoSummary
	for repo, ps := range byRepo {
		rs := repoSummary{Repo: repo}
		for _, p := range ps {
			rs.Projects = append(rs.Projects, *p)
		}
		sort.Slice(rs.Projects, func(i, j int) bool { return rs.Projects[i].Name < rs.Projects[j].Name })
		out = append(out, rs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Repo < out[j].Repo })
	return out
}

// index is the front page: the repositories the user may see with their
// projects' last plan, apply and drift; the apply lock.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	v, err := s.visibleOverview(r)
	if err != nil {
		s.failInternal(w, "index", err)
		return
	}
	s.render(w, r, "index.html.tmpl", "overview", struct {
		visible
		Summary []repoSummary
	}{v, summarize(v)})
}

// repoPage is one repository: projects, open PRs with their runs, locks,
// drift history.
func (s *Server) repoPage(w http.ResponseWriter, r *http.Request) {
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	if !s.canSee(r, repo) {
		http.NotFound(w, r)
		return
	}
	v, err := s.visibleOverview(r)
	if err != nil {
		s.failInternal(w, "repoPage", err)
		return
	}
	one := visible{Repos: []string{repo}}
	for _, l := range v.Locks {
		if l.Key.Repo == repo {
			one.Locks = append(one.Locks, l)
		}
	}
	prs := map[int][]runner.Job{}
	var numbers []int
	for _, j := range v.Jobs {
		if j.Repo.FullName() != repo {
			continue
		}
		one.Jobs = append(one.Jobs, j)
		if j.Number > 0 && j.Kind != runner.JobDrift {
			if prs[j.Number] == nil {
				numbers = append(numbers, j.Number)
			}
			prs[j.Number] = append(prs[j.Number], j)
		}
	}
	for _, d := range v.Drift {
		if d.Repo == repo {
			one.Drift = append(one.Drift, d)
		}
	}
	type pr struct {
		Number int
		Jobs   []runner.Job
	}
	var list []pr
	for _, n := range numbers {
		list = append(list, pr{n, prs[n]})
	}
	sums := summarize(one)
	s.render(w, r, "repo.html.tmpl", repo, struct {
		Repo    string
		Summary []repoSummary
		PRs     []pr
		Locks   []locks.Lock
		Drift   []runner.DriftRecord
	}{repo, sums, list, one.Locks, one.Drift})
}

// locksPage lists the locks the user may see, each with a release button.
func (s *Server) locksPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.visibleOverview(r)
	if err != nil {
		s.failInternal(w, "locksPage", err)
		return
	}
	s.render(w, r, "locks.html.tmpl", "locks", v.Locks)
}

// releaseForm releases a lock: the first post shows a confirmation, the
// second (confirm=yes) releases, when the user may `atoll unlock` there.
func (s *Server) releaseForm(w http.ResponseWriter, r *http.Request) {
	k := locks.Key{Repo: r.PostForm.Get("repo"), Dir: r.PostForm.Get("dir"), Workspace: r.PostForm.Get("workspace")}
	if !s.canSee(r, k.Repo) {
		http.NotFound(w, r)
		return
	}
	if missing := s.mayRun(r, k.Repo, "unlock"); missing != "" {
		s.record(r.Context(), audit.Entry{Actor: actorOf(r), Action: "lock.release", Repo: k.Repo, Project: k.Dir,
			Workspace: k.Workspace, Outcome: "refused", Details: map[string]string{"missing": missing, "via": "web UI"}})
		s.refuse(w, templates.WebRefused{Action: templates.WebReleaseLock, Need: missing})
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		s.render(w, r, "release.html.tmpl", "release a lock", k)
		return
	}
	l, ok, err := s.cfg.Engine.ReleaseLock(r.Context(), k, "@"+sessionOf(r).Login+" in atoll's web UI")
	if err != nil {
		s.failInternal(w, "releaseForm", err)
		return
	}
	if ok {
		s.record(r.Context(), audit.Entry{Actor: actorOf(r), Action: "lock.released", Repo: k.Repo, Number: l.Owner.Number,
			Project: k.Dir, Workspace: k.Workspace, SHA: l.Owner.HeadSHA, Outcome: "ok", Details: map[string]string{"via": "web UI"}})
	}
	http.Redirect(w, r, "/locks", http.StatusSeeOther)
}

// jobsPage lists jobs, filtered by repo, kind and state.
func (s *Server) jobsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.visibleOverview(r)
	if err != nil {
		s.failInternal(w, "jobsPage", err)
		return
	}
	q := r.URL.Query()
	var jobs []runner.Job
	for _, j := range v.Jobs {
		if (q.Get("repo") == "" || j.Repo.FullName() == q.Get("repo")) && (q.Get("kind") == "" || string(j.Kind) == q.Get("kind")) &&
			(q.Get("state") == "" || string(j.State) == q.Get("state")) {
			jobs = append(jobs, j)
		}
	}
	s.render(w, r, "jobs.html.tmpl", "jobs", struct {
		Jobs              []runner.Job
		Repos             []string
		Repo, Kind, State string
		Kinds, States     []string
	}{jobs, v.Repos, q.Get("repo"), q.Get("kind"), q.Get("state"),
		[]string{"plan", "apply", "drift"}, []string{"queued", "running", "succeeded", "failed", "skipped", "interrupted"}})
}

// visibleJob loads a job the request's user may see; otherwise it answers
// 404 and returns false.
func (s *Server) visibleJob(w http.ResponseWriter, r *http.Request) (runner.Job, bool) {
	job, ok, err := s.cfg.Engine.GetJob(r.Context(), r.PathValue("id"))
	if err != nil {
		s.failInternal(w, "visibleJob", err)
		return job, false
	}
	if !ok || !s.canSee(r, job.Repo.FullName()) {
		http.NotFound(w, r)
		return job, false
	}
	return job, true
}

// jobPage shows one job: its project, state, outcome and log; a script
// follows the log live while the job runs.
func (s *Server) jobPage(w http.ResponseWriter, r *http.Request) {
	job, ok := s.visibleJob(w, r)
	if !ok {
		return
	}
	log, _ := os.ReadFile(job.LogPath)
	s.render(w, r, "job.html.tmpl", job.ID, struct {
		Job     runner.Job
		Log     string
		Running bool
	}{job, string(log), !job.State.Final()})
}

// cancelForm cancels a queued job, when the user may run the command that
// queued it (plan for plans and drift checks, apply for applies).
func (s *Server) cancelForm(w http.ResponseWriter, r *http.Request) {
	job, ok := s.visibleJob(w, r)
	if !ok {
		return
	}
	command := "plan"
	if job.Kind == runner.JobApply {
		command = "apply"
	}
	if missing := s.mayRun(r, job.Repo.FullName(), command); missing != "" {
		s.refuse(w, templates.WebRefused{Action: templates.WebCancelJob, Need: missing})
		return
	}
	_, cancelled, err := s.cfg.Engine.CancelJob(r.Context(), job.ID, "@"+sessionOf(r).Login+" in atoll's web UI")
	if err != nil {
		s.failInternal(w, "cancelForm", err)
		return
	}
	outcome := "ok"
	if !cancelled {
		outcome = "too late"
	}
	s.record(r.Context(), audit.Entry{Actor: actorOf(r), Action: "job.cancel", Repo: job.Repo.FullName(), Number: job.Number,
		Project: job.Project.Name, Workspace: job.Project.Workspace, Outcome: outcome, Details: map[string]string{"job": job.ID, "via": "web UI"}})
	http.Redirect(w, r, "/jobs/"+job.ID, http.StatusSeeOther)
}

// jobLog serves a job's log as plain text.
func (s *Server) jobLog(w http.ResponseWriter, r *http.Request) {
	job, ok := s.visibleJob(w, r)
	if !ok {
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

// jobEvents streams a job's log as Server-Sent Events: "log" events carry
// new lines (id: the byte offset after them, so a reconnect resumes), and
// one "done" event carries the final state.
func (s *Server) jobEvents(w http.ResponseWriter, r *http.Request) {
	job, ok := s.visibleJob(w, r)
	if !ok {
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		s.fail(w, http.StatusInternalServerError, templates.WebError{Kind: templates.WebStreamingOff})
		return
	}
	var offset int64
	fmt.Sscan(r.Header.Get("Last-Event-ID"), &offset)
	if offset == 0 {
		fmt.Sscan(r.URL.Query().Get("from"), &offset)
	}
	// A job may run longer than the server's write timeout: the stream
	// has none (it ends with the job, or when the client goes away).
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		final := job.State.Final()
		offset = sendLog(w, job.LogPath, offset, s.cfg.Mask)
		fl.Flush()
		if final {
			fmt.Fprintf(w, "event: done\ndata: %s\n\n", job.State)
			fl.Flush()
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		j, ok, err := s.cfg.Engine.GetJob(r.Context(), job.ID)
		if err != nil || !ok {
			return
		}
		job = j
	}
}

// sendLog writes the complete lines of path after offset as "log" events
// and returns the new offset.
func sendLog(w io.Writer, path string, offset int64, mask func(string) string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return offset
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return offset
	}
	br := bufio.NewReader(io.LimitReader(f, 4<<20))
	for {
		line, err := br.ReadString('\n')
		if err != nil { // a partial line waits for its end
			return offset
		}
		offset += int64(len(line))
		fmt.Fprintf(w, "event: log\nid: %d\ndata: %s\n\n", offset, mask(strings.TrimRight(line, "\r\n")))
	}
}

// driftPage shows each project's drift status, since when, its issue and
// the last check.
func (s *Server) driftPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.visibleOverview(r)
	if err != nil {
		s.failInternal(w, "driftPage", err)
		return
	}
	s.render(w, r, "drift.html.tmpl", "drift", v.Drift)
}

// driftForm re-runs a drift check, when the user may `atoll plan` there.
func (s *Server) driftForm(w http.ResponseWriter, r *http.Request) {
	repo, project := r.PostForm.Get("repo"), r.PostForm.Get("project")
	if !s.canSee(r, repo) {
		http.NotFound(w, r)
		return
	}
	if missing := s.mayRun(r, repo, "plan"); missing != "" {
		s.refuse(w, templates.WebRefused{Action: templates.WebDriftCheck, Need: missing})
		return
	}
	id, err := s.cfg.Engine.TriggerDrift(r.Context(), repo, project)
	if err != nil {
		s.failInternal(w, "driftForm", err)
		return
	}
	s.record(r.Context(), audit.Entry{Actor: actorOf(r), Action: "drift.run", Repo: repo, Project: project, Outcome: "queued",
		Details: map[string]string{"run_id": id, "via": "web UI"}})
	http.Redirect(w, r, "/drift", http.StatusSeeOther)
}

// auditFilter reads the filters of /audit and /api/audit.
func auditFilter(r *http.Request) audit.Filter {
	q := r.URL.Query()
	f := audit.Filter{Repo: q.Get("repo"), Actor: q.Get("actor"), Action: q.Get("action")}
	fmt.Sscan(q.Get("since"), &f.Since)
	for _, p := range []struct {
		key string
		t   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v := q.Get(p.key)
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				if p.key == "to" && layout == "2006-01-02" {
					t = t.Add(24 * time.Hour) // a day "to" includes that day
				}
				*p.t = t
				break
			}
		}
	}
	return f
}

// auditPage shows the audit trail of the repositories the user may see
// (all of it to admins), newest first.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	recs, err := s.visibleAudit(r, 500)
	if err != nil {
		s.failInternal(w, "auditPage", err)
		return
	}
	q := r.URL.Query()
	s.render(w, r, "audit.html.tmpl", "audit trail", struct {
		Records                       []audit.Record
		Repo, Actor, Action, From, To string
		Query                         string
	}{recs, q.Get("repo"), q.Get("actor"), q.Get("action"), q.Get("from"), q.Get("to"), r.URL.RawQuery})
}

// visibleAudit reads the records the user may see, newest first, at most
// limit (0: all).
func (s *Server) visibleAudit(r *http.Request, limit int) ([]audit.Record, error) {
	if s.cfg.Audit == nil {
		return nil, nil
	}
	admin := s.isAdmin(r.Context(), sessionOf(r).Login)
	seen := map[string]bool{}
	var out []audit.Record
	err := s.cfg.Audit.Read(r.Context(), auditFilter(r), func(rec audit.Record) error {
		if !admin {
			if rec.Repo == "" {
				if rec.Actor != sessionOf(r).Login {
					return nil
				}
			} else {
				v, ok := seen[rec.Repo]
				if !ok {
					v = s.canSee(r, rec.Repo)
					seen[rec.Repo] = v
				}
				if !v {
					return nil
				}
			}
		}
		out = append(out, rec)
		return nil
	})
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// auditDownload is the page's JSON-lines download, oldest first.
func (s *Server) auditDownload(w http.ResponseWriter, r *http.Request) {
	recs, err := s.visibleAudit(r, 0)
	if err != nil {
		s.failInternal(w, "auditDownload", err)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Content-Disposition", `attachment; filename="atoll-audit.jsonl"`)
	enc := json.NewEncoder(w)
	for i := len(recs) - 1; i >= 0; i-- {
		_ = enc.Encode(recs[i])
	}
}
