package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// addComment records a comment and sends issue_comment created. Callers
// hold s.mu.
func (s *Server) addComment(u urls, rp *repo, is *issue, author *user, body string, viaApp bool) *comment {
	now := s.now()
	c := &comment{id: s.newID(), repo: rp, issue: is, user: author, body: body, created: now, updated: now, viaApp: viaApp}
	is.comments = append(is.comments, c)
	is.updated = now
	s.comments[c.id] = c
	s.sendIssueComment(u, rp, c, "created", author, nil)
	return c
}

func (s *Server) handleCreateComment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body *string `json:"body"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, is := s.issueFor(w, r, true)
	if is == nil {
		return
	}
	if in.Body == nil || *in.Body == "" {
		writeValidation(w, fieldError{Resource: "IssueComment", Code: "missing_field", Field: "body"})
		return
	}
	if fe, bad := bodyTooLong("IssueComment", *in.Body); bad {
		writeValidation(w, fe)
		return
	}
	u := urlsOf(r)
	c := s.addComment(u, rp, is, s.actorOf(r), *in.Body, true)
	w.Header().Set("Location", repoURL(u, rp)+"/issues/comments/"+itoa(c.id))
	writeJSON(w, http.StatusCreated, s.commentJSON(u, c, true))
}

func (s *Server) handleListComments(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, is := s.issueFor(w, r, false)
	if is == nil {
		return
	}
	u := urlsOf(r)
	out := []obj{}
	for _, c := range paginate(w, r, is.comments) {
		out = append(out, s.commentJSON(u, c, true))
	}
	writeJSON(w, http.StatusOK, out)
}

// commentFor finds the comment of the request path in its repository.
// Callers hold s.mu.
func (s *Server) commentFor(w http.ResponseWriter, r *http.Request, write bool) *comment {
	rp := s.visibleRepo(w, r, write)
	if rp == nil {
		return nil
	}
	id, ok := pathInt(w, r, "id")
	if !ok {
		return nil
	}
	c := s.comments[id]
	if c == nil || c.repo != rp {
		notFound(w)
		return nil
	}
	return c
}

func (s *Server) handleGetComment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.commentFor(w, r, false); c != nil {
		writeJSON(w, http.StatusOK, s.commentJSON(urlsOf(r), c, true))
	}
}

func (s *Server) handleUpdateComment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body *string `json:"body"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.commentFor(w, r, true)
	if c == nil {
		return
	}
	if in.Body == nil || *in.Body == "" {
		writeValidation(w, fieldError{Resource: "IssueComment", Code: "missing_field", Field: "body"})
		return
	}
	if fe, bad := bodyTooLong("IssueComment", *in.Body); bad {
		writeValidation(w, fe)
		return
	}
	u := urlsOf(r)
	if *in.Body != c.body {
		old := c.body
		c.body = *in.Body
		c.updated = s.now()
		s.sendIssueComment(u, c.repo, c, "edited", s.actorOf(r), obj{"body": obj{"from": old}})
	}
	writeJSON(w, http.StatusOK, s.commentJSON(u, c, true))
}

// handleCreateReaction answers 201 for a new reaction and 200 with the
// existing one when the same user already reacted with the same content.
func (s *Server) handleCreateReaction(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Content string `json:"content"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.commentFor(w, r, true)
	if c == nil {
		return
	}
	if !slices.Contains(reactionContents, in.Content) {
		writeValidation(w, fieldError{Resource: "Reaction", Code: "invalid", Field: "content"})
		return
	}
	u := urlsOf(r)
	who := s.actorOf(r)
	for _, x := range c.reactions {
		if x.user == who && x.content == in.Content {
			writeJSON(w, http.StatusOK, s.reactionJSON(u, x))
			return
		}
	}
	x := &reaction{id: s.newID(), user: who, content: in.Content, created: s.now()}
	c.reactions = append(c.reactions, x)
	writeJSON(w, http.StatusCreated, s.reactionJSON(u, x))
}

func (s *Server) reactionJSON(u urls, x *reaction) obj {
	return obj{"id": x.id, "node_id": nodeID("REA", x.id), "user": s.userJSON(u, x.user), "content": x.content, "created_at": ts(x.created)}
}

// minimize hides a comment as GraphQL's minimizeComment does.
func (s *Server) minimize(c *comment, classifier string) {
	c.minimized = strings.ReplaceAll(strings.ToLower(classifier), "_", "-")
}
