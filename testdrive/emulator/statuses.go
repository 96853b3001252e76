package emulator

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// The commit statuses API: what CI systems and bots other than GitHub
// Apps report on a commit. The combined state follows GitHub's rule: any
// error or failure is failure, else any pending (or none at all) is
// pending, else success.

var statusStates = []string{"error", "failure", "pending", "success"}

// commitStatus is one status a client set on a commit.
type commitStatus struct {
	id          int64
	repo        *repo
	sha         string
	state       string
	targetURL   string
	description string
	context     string
	creator     *user
	created     time.Time
	updated     time.Time
}

func (s *Server) statusJSON(u urls, st *commitStatus, withCreator bool) obj {
	str := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	m := obj{
		"url": repoURL(u, st.repo) + "/statuses/" + st.sha, "avatar_url": "https://avatars.githubusercontent.com/u/" + itoa(st.creator.id) + "?v=4",
		"id": st.id, "node_id": nodeID("SC", st.id), "state": st.state, "description": str(st.description),
		"target_url": str(st.targetURL), "context": st.context, "created_at": ts(st.created), "updated_at": ts(st.updated),
	}
	if withCreator {
		m["creator"] = s.userJSON(u, st.creator)
	}
	return m
}

// handleCreateStatus serves POST statuses/{sha}: a status for the same
// context replaces the earlier one in the combined view, as on GitHub
// (the list keeps them all, newest first).
func (s *Server) handleCreateStatus(w http.ResponseWriter, r *http.Request) {
	var in struct {
		State       *string `json:"state"`
		TargetURL   *string `json:"target_url"`
		Description *string `json:"description"`
		Context     *string `json:"context"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	rp := s.visibleRepo(w, r, true)
	s.mu.Unlock()
	if rp == nil {
		return
	}
	if in.State == nil || !slices.Contains(statusStates, *in.State) {
		writeValidation(w, fieldError{Resource: "Status", Code: "custom", Field: "state", Message: "state is not included in the list"})
		return
	}
	want := r.PathValue("sha")
	sha, err := s.revParse(r.Context(), rp.dir, want)
	if err != nil || !strings.HasPrefix(sha, strings.ToLower(want)) {
		writeValidation(w, fieldError{Resource: "Status", Code: "custom", Field: "sha", Message: "No commit found for SHA: " + want})
		return
	}
	deref := func(p *string, def string) string {
		if p == nil || *p == "" {
			return def
		}
		return *p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	st := &commitStatus{id: s.newID(), repo: rp, sha: sha, state: *in.State, targetURL: deref(in.TargetURL, ""),
		description: deref(in.Description, ""), context: deref(in.Context, "default"), creator: s.actorOf(r), created: now, updated: now}
	if rp.statuses == nil {
		rp.statuses = map[string][]*commitStatus{}
	}
	rp.statuses[sha] = append(rp.statuses[sha], st)
	writeJSON(w, http.StatusCreated, s.statusJSON(urlsOf(r), st, true))
}

// statusesFor resolves the path's ref and returns its statuses, newest
// first; ok false when it sent 404. Callers hold s.mu.
func (s *Server) statusesFor(w http.ResponseWriter, r *http.Request) (rp *repo, sha string, list []*commitStatus, ok bool) {
	rp = s.visibleRepo(w, r, false)
	if rp == nil {
		return nil, "", nil, false
	}
	ref := r.PathValue("ref")
	sha = resolveRefLocked(rp, ref)
	if sha == "" {
		writeError(w, http.StatusNotFound, "No commit found for SHA: "+ref)
		return nil, "", nil, false
	}
	for k, v := range rp.statuses {
		if strings.HasPrefix(k, strings.ToLower(sha)) {
			sha = k
			list = slices.Clone(v)
			break
		}
	}
	slices.Reverse(list)
	return rp, sha, list, true
}

// handleListStatuses serves GET commits/{ref}/statuses.
func (s *Server) handleListStatuses(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, list, ok := s.statusesFor(w, r)
	if !ok {
		return
	}
	u := urlsOf(r)
	out := []obj{}
	for _, st := range paginate(w, r, list) {
		out = append(out, s.statusJSON(u, st, true))
	}
	writeJSON(w, http.StatusOK, out)
}

// handleCombinedStatus serves GET commits/{ref}/status: the latest status
// of each context and their combined state.
func (s *Server) handleCombinedStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, sha, list, ok := s.statusesFor(w, r)
	if !ok {
		return
	}
	u := urlsOf(r)
	seen := map[string]bool{}
	latest := []obj{}
	state := "success"
	if len(list) == 0 {
		state = "pending"
	}
	for _, st := range list {
		k := strings.ToLower(st.context)
		if seen[k] {
			continue
		}
		seen[k] = true
		latest = append(latest, s.statusJSON(u, st, false))
		switch {
		case st.state == "error" || st.state == "failure":
			state = "failure"
		case st.state == "pending" && state != "failure":
			state = "pending"
		}
	}
	writeJSON(w, http.StatusOK, obj{
		"state": state, "statuses": latest, "sha": sha, "total_count": len(latest),
		"repository": s.repoJSON(u, rp), "commit_url": repoURL(u, rp) + "/commits/" + sha,
		"url": repoURL(u, rp) + "/commits/" + sha + "/status",
	})
}
