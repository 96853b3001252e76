package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxBody is GitHub's limit on issue and comment bodies, in characters.
const maxBody = 65536

// issueFor finds the issue (or pull request) of the request path.
// Callers hold s.mu.
func (s *Server) issueFor(w http.ResponseWriter, r *http.Request, write bool) (*repo, *issue) {
	rp := s.visibleRepo(w, r, write)
	if rp == nil {
		return nil, nil
	}
	n, err := strconv.Atoi(r.PathValue("number"))
	is := rp.issues[n]
	if err != nil || is == nil {
		notFound(w)
		return nil, nil
	}
	return rp, is
}

// labelLocked finds or creates a repository label.
func (s *Server) labelLocked(rp *repo, name string) *label {
	k := strings.ToLower(name)
	if l, ok := rp.labels[k]; ok {
		return l
	}
	sum := sha256.Sum256([]byte(k))
	l := &label{id: s.newID(), name: name, color: hex.EncodeToString(sum[:3])}
	rp.labels[k] = l
	return l
}

func (s *Server) setLabels(rp *repo, is *issue, names []string) {
	is.labels = nil
	s.addLabels(rp, is, names)
}

func (s *Server) addLabels(rp *repo, is *issue, names []string) {
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		l := s.labelLocked(rp, n)
		if !slices.Contains(is.labels, l) {
			is.labels = append(is.labels, l)
		}
	}
}

// bodyTooLong is GitHub's 422 for a body over 65,536 characters.
func bodyTooLong(resource, body string) (fieldError, bool) {
	if utf8.RuneCountInString(body) <= maxBody {
		return fieldError{}, false
	}
	return fieldError{Resource: resource, Code: "custom", Field: "body",
		Message: "body is too long (maximum is 65536 characters)"}, true
}

type issueInput struct {
	Title       *string   `json:"title"`
	Body        *string   `json:"body"`
	State       *string   `json:"state"`
	StateReason *string   `json:"state_reason"`
	Labels      *[]string `json:"labels"`
}

func (s *Server) handleCreateIssue(w http.ResponseWriter, r *http.Request) {
	var in issueInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.visibleRepo(w, r, true)
	if rp == nil {
		return
	}
	if in.Title == nil || strings.TrimSpace(*in.Title) == "" {
		writeValidation(w, fieldError{Resource: "Issue", Code: "missing_field", Field: "title"})
		return
	}
	body := ""
	if in.Body != nil {
		body = *in.Body
	}
	if fe, bad := bodyTooLong("Issue", body); bad {
		writeValidation(w, fe)
		return
	}
	is := s.newIssueLocked(rp, *in.Title, body, s.actorOf(r), true)
	if in.Labels != nil {
		s.setLabels(rp, is, *in.Labels)
	}
	u := urlsOf(r)
	s.sendIssues(u, rp, is, "opened", s.actorOf(r), nil)
	writeJSON(w, http.StatusCreated, s.issueJSON(u, rp, is))
}

func (s *Server) newIssueLocked(rp *repo, title, body string, author *user, viaApp bool) *issue {
	rp.nextNumber++
	now := s.now()
	is := &issue{id: s.newID(), number: rp.nextNumber, title: title, body: body, user: author,
		state: "open", created: now, updated: now, viaApp: viaApp}
	rp.issues[is.number] = is
	return is
}

func (s *Server) handleGetIssue(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, is := s.issueFor(w, r, false)
	if is == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.issueJSON(urlsOf(r), rp, is))
}

// handleListIssues lists issues and pull requests (these carry the
// pull_request key), newest first, filtered by state and labels (all
// given labels must be present).
func (s *Server) handleListIssues(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.visibleRepo(w, r, false)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		for _, n := range strings.Split(l, ",") {
			want = append(want, strings.ToLower(strings.TrimSpace(n)))
		}
	}
	var list []*issue
	for _, is := range rp.issues {
		if state != "all" && is.state != state {
			continue
		}
		if !hasLabels(is, want) {
			continue
		}
		list = append(list, is)
	}
	asc := q.Get("direction") == "asc"
	sort.Slice(list, func(i, j int) bool {
		if asc {
			return list[i].number < list[j].number
		}
		return list[i].number > list[j].number
	})
	u := urlsOf(r)
	out := []obj{}
	for _, is := range paginate(w, r, list) {
		out = append(out, s.issueJSON(u, rp, is))
	}
	writeJSON(w, http.StatusOK, out)
}

func hasLabels(is *issue, want []string) bool {
	for _, n := range want {
		if !slices.ContainsFunc(is.labels, func(l *label) bool { return strings.ToLower(l.name) == n }) {
			return false
		}
	}
	return true
}

func (s *Server) handleUpdateIssue(w http.ResponseWriter, r *http.Request) {
	var in issueInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, is := s.issueFor(w, r, true)
	if is == nil {
		return
	}
	if in.Body != nil {
		if fe, bad := bodyTooLong("Issue", *in.Body); bad {
			writeValidation(w, fe)
			return
		}
	}
	if in.State != nil && *in.State != "open" && *in.State != "closed" {
		writeValidation(w, fieldError{Resource: "Issue", Code: "invalid", Field: "state"})
		return
	}
	if in.StateReason != nil && !slices.Contains([]string{"completed", "not_planned", "duplicate", "reopened"}, *in.StateReason) {
		writeValidation(w, fieldError{Resource: "Issue", Code: "invalid", Field: "state_reason"})
		return
	}
	changes := obj{}
	if in.Title != nil && *in.Title != is.title {
		changes["title"] = obj{"from": is.title}
		is.title = *in.Title
	}
	if in.Body != nil && *in.Body != is.body {
		changes["body"] = obj{"from": is.body}
		is.body = *in.Body
	}
	if in.Labels != nil {
		s.setLabels(rp, is, *in.Labels)
	}
	action := ""
	now := s.now()
	if in.State != nil && *in.State != is.state {
		action = *in.State
		is.state = *in.State
		if action == "closed" {
			is.closed, is.closedBy, is.stateReason = now, s.actorOf(r), "completed"
		} else {
			action, is.closed, is.closedBy, is.stateReason = "reopened", time.Time{}, nil, "reopened"
		}
	}
	if in.StateReason != nil && is.state == "closed" {
		is.stateReason = *in.StateReason
	}
	is.updated = now
	u := urlsOf(r)
	if is.pr == nil {
		if len(changes) > 0 {
			s.sendIssues(u, rp, is, "edited", s.actorOf(r), obj{"changes": changes})
		}
		if action != "" {
			s.sendIssues(u, rp, is, action, s.actorOf(r), nil)
		}
	}
	writeJSON(w, http.StatusOK, s.issueJSON(u, rp, is))
}

func (s *Server) handleListLabels(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, is := s.issueFor(w, r, false)
	if is == nil {
		return
	}
	writeJSON(w, http.StatusOK, labelsJSON(urlsOf(r), rp, paginate(w, r, is.labels)))
}

// handleAddLabels accepts {"labels":[...]} or a bare array, as GitHub does.
func (s *Server) handleAddLabels(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	if !decodeBody(w, r, &raw) {
		return
	}
	var names []string
	var wrapped struct {
		Labels []string `json:"labels"`
	}
	if json.Unmarshal(raw, &names) != nil {
		if err := json.Unmarshal(raw, &wrapped); err != nil {
			writeValidation(w, fieldError{Resource: "Label", Code: "invalid", Field: "labels"})
			return
		}
		names = wrapped.Labels
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, is := s.issueFor(w, r, true)
	if is == nil {
		return
	}
	s.addLabels(rp, is, names)
	is.updated = s.now()
	writeJSON(w, http.StatusOK, labelsJSON(urlsOf(r), rp, is.labels))
}

func (s *Server) handleRemoveLabel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, is := s.issueFor(w, r, true)
	if is == nil {
		return
	}
	name := strings.ToLower(r.PathValue("name"))
	i := slices.IndexFunc(is.labels, func(l *label) bool { return strings.ToLower(l.name) == name })
	if i < 0 {
		writeError(w, http.StatusNotFound, "Label does not exist")
		return
	}
	is.labels = slices.Delete(is.labels, i, i+1)
	is.updated = s.now()
	writeJSON(w, http.StatusOK, labelsJSON(urlsOf(r), rp, is.labels))
}
