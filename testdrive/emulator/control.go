package emulator

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The control API: what people do on GitHub, for tests and the demo. No
// authentication; JSON in and out; errors are {"message": ...}.

func (s *Server) controlRoutes() *http.ServeMux {
	m := http.NewServeMux()
	const p = "/_testdrive"
	m.HandleFunc("POST "+p+"/repos", s.ctlCreateRepo)
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/commits", s.ctlCommit)
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/pulls", s.ctlOpenPR)
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/issues", s.ctlOpenIssue)
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/issues/{number}/comments", s.ctlComment)
	m.HandleFunc("GET "+p+"/repos/{owner}/{repo}/comments/{id}", s.ctlGetComment)
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/pulls/{number}/reviews", s.ctlReview)
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/pulls/{number}/reviews/{id}/dismiss", s.ctlDismissReview)
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/pulls/{number}/merge", s.ctlMerge)
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/pulls/{number}/close", s.ctlPullAction(s.closePull, "closed"))
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/pulls/{number}/reopen", s.ctlPullAction(s.reopenPull, "open"))
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/pulls/{number}/ready", s.ctlPullAction(s.readyPull, "open"))
	m.HandleFunc("PATCH "+p+"/repos/{owner}/{repo}/comments/{id}", s.ctlEditComment)
	m.HandleFunc("PUT "+p+"/repos/{owner}/{repo}/collaborators/{user}", s.ctlSetPermission)
	m.HandleFunc("PUT "+p+"/repos/{owner}/{repo}/branches/{branch}/protection", s.ctlProtectBranch)
	m.HandleFunc("POST "+p+"/repos/{owner}/{repo}/check-runs", s.ctlExternalCheck)
	m.HandleFunc("PUT "+p+"/orgs/{org}/teams/{team}/members/{user}", s.ctlAddTeamMember)
	m.HandleFunc("DELETE "+p+"/orgs/{org}/teams/{team}/members/{user}", s.ctlRemoveTeamMember)
	m.HandleFunc("POST "+p+"/users/{login}/tokens", s.ctlUserToken)
	m.HandleFunc("GET "+p+"/deliveries", s.ctlDeliveries)
	m.HandleFunc("POST "+p+"/deliveries/flush", s.ctlFlush)
	m.HandleFunc("POST "+p+"/deliveries/{id}/redeliver", s.ctlRedeliver)
	m.HandleFunc("POST "+p+"/deliveries/{id}/replay", s.ctlReplay)
	m.HandleFunc("POST "+p+"/deliveries/pause", s.ctlPause)
	m.HandleFunc("POST "+p+"/deliveries/resume", s.ctlResume)
	m.HandleFunc("POST "+p+"/ratelimit", s.ctlRateLimit)
	m.HandleFunc("PUT "+p+"/settings", s.ctlSettings)
	m.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		ctlError(w, http.StatusNotFound, "no such control endpoint")
	})
	return m
}

func ctlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, obj{"message": msg})
}

func ctlOpError(w http.ResponseWriter, err error) {
	if oe, ok := err.(*opError); ok {
		ctlError(w, oe.status, oe.msg)
		return
	}
	ctlError(w, http.StatusInternalServerError, err.Error())
}

func ctlURLs(r *http.Request) urls { return urlsFor(r, "/") }

// ctlRepo finds the repository of the path; 404 otherwise.
func (s *Server) ctlRepo(w http.ResponseWriter, r *http.Request) *repo {
	rp, err := s.findRepo(r.PathValue("owner"), r.PathValue("repo"))
	if err != nil {
		ctlOpError(w, err)
		return nil
	}
	return rp
}

func ctlNumber(w http.ResponseWriter, r *http.Request) (int, bool) {
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || n <= 0 {
		ctlError(w, http.StatusNotFound, "bad number")
		return 0, false
	}
	return n, true
}

func (s *Server) ctlCreateRepo(w http.ResponseWriter, r *http.Request) {
	var in CreateRepo
	if !decodeBody(w, r, &in) {
		return
	}
	info, err := s.createRepo(r.Context(), ctlURLs(r), in)
	if err != nil {
		ctlOpError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, info)
}

func (s *Server) ctlCommit(w http.ResponseWriter, r *http.Request) {
	var in Commit
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	if rp == nil {
		return
	}
	sha, err := s.commit(r.Context(), ctlURLs(r), rp, in)
	if err != nil {
		ctlOpError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, obj{"sha": sha})
}

func (s *Server) ctlOpenPR(w http.ResponseWriter, r *http.Request) {
	var in OpenPR
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	if rp == nil {
		return
	}
	n, err := s.openPull(r.Context(), ctlURLs(r), rp, in)
	if err != nil {
		ctlOpError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, obj{"number": n})
}

func (s *Server) ctlOpenIssue(w http.ResponseWriter, r *http.Request) {
	var in OpenIssue
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	if rp == nil {
		return
	}
	if in.Author == "" || in.Title == "" {
		ctlError(w, http.StatusUnprocessableEntity, "author and title are required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	author := s.userLocked(in.Author)
	is := s.newIssueLocked(rp, in.Title, in.Body, author, false)
	s.setLabels(rp, is, in.Labels)
	s.sendIssues(ctlURLs(r), rp, is, "opened", author, nil)
	writeJSON(w, http.StatusCreated, obj{"number": is.number})
}

func (s *Server) ctlComment(w http.ResponseWriter, r *http.Request) {
	var in Comment
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	n, ok := ctlNumber(w, r)
	if rp == nil || !ok {
		return
	}
	if in.Author == "" || in.Body == "" {
		ctlError(w, http.StatusUnprocessableEntity, "author and body are required")
		return
	}
	if fe, bad := bodyTooLong("IssueComment", in.Body); bad {
		writeValidation(w, fe)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := rp.issues[n]
	if is == nil {
		ctlError(w, http.StatusNotFound, "no issue or pull request #"+strconv.Itoa(n))
		return
	}
	c := s.addComment(ctlURLs(r), rp, is, s.userLocked(in.Author), in.Body, false)
	writeJSON(w, http.StatusCreated, obj{"id": c.id, "node_id": nodeID("IC", c.id)})
}

func (s *Server) ctlGetComment(w http.ResponseWriter, r *http.Request) {
	rp := s.ctlRepo(w, r)
	if rp == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.comments[id]
	if err != nil || c == nil || c.repo != rp {
		ctlError(w, http.StatusNotFound, "no such comment")
		return
	}
	reactions := []string{}
	for _, x := range c.reactions {
		reactions = append(reactions, x.content)
	}
	writeJSON(w, http.StatusOK, CommentState{
		ID: c.id, NodeID: nodeID("IC", c.id), Number: c.issue.number, Author: c.user.login, Body: c.body,
		IsMinimized: c.minimized != "", MinimizedReason: c.minimized, Reactions: reactions, Updated: c.updated,
	})
}

var reviewStates = []string{"APPROVED", "CHANGES_REQUESTED", "COMMENTED"}

func (s *Server) ctlReview(w http.ResponseWriter, r *http.Request) {
	var in Review
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	n, ok := ctlNumber(w, r)
	if rp == nil || !ok {
		return
	}
	in.State = strings.ToUpper(in.State)
	if in.Author == "" || !slices.Contains(reviewStates, in.State) {
		ctlError(w, http.StatusUnprocessableEntity, "author and state (APPROVED, CHANGES_REQUESTED, COMMENTED) are required")
		return
	}
	s.mu.Lock()
	is := rp.issues[n]
	if is == nil || is.pr == nil {
		s.mu.Unlock()
		ctlError(w, http.StatusNotFound, "no pull request #"+strconv.Itoa(n))
		return
	}
	if in.State != "COMMENTED" && strings.EqualFold(in.Author, is.user.login) {
		s.mu.Unlock()
		verb := map[string]string{"APPROVED": "approve", "CHANGES_REQUESTED": "request changes on"}[in.State]
		ctlError(w, http.StatusUnprocessableEntity, "Can not "+verb+" your own pull request")
		return
	}
	snap := s.snapshot(rp, is)
	s.mu.Unlock()
	st := s.stats(r.Context(), snap, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	author := s.userLocked(in.Author)
	rv := &review{id: s.newID(), user: author, state: in.State, body: in.Body, commitID: is.pr.headSHA, submitted: s.now()}
	is.pr.reviews = append(is.pr.reviews, rv)
	s.sendReview(ctlURLs(r), rp, is, rv, author, st)
	writeJSON(w, http.StatusCreated, obj{"id": rv.id})
}

// ctlDismissReview dismisses a review, as a maintainer does on GitHub's
// page: {"author"} in; it sends pull_request_review dismissed.
func (s *Server) ctlDismissReview(w http.ResponseWriter, r *http.Request) {
	var in DismissReview
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	n, ok := ctlNumber(w, r)
	if rp == nil || !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || in.Author == "" {
		ctlError(w, http.StatusUnprocessableEntity, "a review id and author are required")
		return
	}
	s.mu.Lock()
	is := rp.issues[n]
	var rv *review
	if is != nil && is.pr != nil {
		for _, x := range is.pr.reviews {
			if x.id == id {
				rv = x
			}
		}
	}
	if rv == nil {
		s.mu.Unlock()
		ctlError(w, http.StatusNotFound, "no review "+strconv.FormatInt(id, 10)+" on #"+strconv.Itoa(n))
		return
	}
	if rv.state != "APPROVED" && rv.state != "CHANGES_REQUESTED" {
		s.mu.Unlock()
		ctlError(w, http.StatusUnprocessableEntity, "Can not dismiss a "+strings.ToLower(rv.state)+" pull request review")
		return
	}
	snap := s.snapshot(rp, is)
	s.mu.Unlock()
	st := s.stats(r.Context(), snap, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	rv.state = "DISMISSED"
	s.sendReviewAction(ctlURLs(r), rp, is, rv, s.userLocked(in.Author), st, "dismissed")
	writeJSON(w, http.StatusOK, obj{"id": rv.id, "state": rv.state})
}

func (s *Server) ctlMerge(w http.ResponseWriter, r *http.Request) {
	var in Merge
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	n, ok := ctlNumber(w, r)
	if rp == nil || !ok {
		return
	}
	if in.Author == "" {
		ctlError(w, http.StatusUnprocessableEntity, "author is required")
		return
	}
	if in.Method == "" {
		in.Method = "merge"
	}
	s.mu.Lock()
	actor := s.userLocked(in.Author)
	s.mu.Unlock()
	sha, err := s.mergePull(r.Context(), ctlURLs(r), rp, n, mergeRequest{method: in.Method, sha: in.SHA, actor: actor})
	if err != nil {
		ctlOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, obj{"sha": sha})
}

// ctlPullAction serves a person's action on a pull request (close, reopen,
// ready for review): {"author"} in, {"number","state"} out, state being
// the pull request's state after op.
func (s *Server) ctlPullAction(op func(ctx context.Context, u urls, rp *repo, number int, author string) error, state string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in PRAction
		if !decodeBody(w, r, &in) {
			return
		}
		rp := s.ctlRepo(w, r)
		n, ok := ctlNumber(w, r)
		if rp == nil || !ok {
			return
		}
		if in.Author == "" {
			ctlError(w, http.StatusUnprocessableEntity, "author is required")
			return
		}
		if err := op(r.Context(), ctlURLs(r), rp, n, in.Author); err != nil {
			ctlOpError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, obj{"number": n, "state": state})
	}
}

func (s *Server) ctlEditComment(w http.ResponseWriter, r *http.Request) {
	var in EditComment
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	if rp == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if in.Author == "" || in.Body == "" {
		ctlError(w, http.StatusUnprocessableEntity, "author and body are required")
		return
	}
	if fe, bad := bodyTooLong("IssueComment", in.Body); bad {
		writeValidation(w, fe)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.comments[id]
	if err != nil || c == nil || c.repo != rp {
		ctlError(w, http.StatusNotFound, "no such comment")
		return
	}
	if in.Body != c.body {
		old := c.body
		c.body, c.updated = in.Body, s.now()
		s.sendIssueComment(ctlURLs(r), rp, c, "edited", s.userLocked(in.Author), obj{"body": obj{"from": old}})
	}
	writeJSON(w, http.StatusOK, obj{"id": c.id})
}

var roles = []string{"read", "triage", "write", "maintain", "admin"}

func (s *Server) ctlSetPermission(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Permission string `json:"permission"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	if rp == nil {
		return
	}
	if !slices.Contains(roles, in.Permission) {
		ctlError(w, http.StatusUnprocessableEntity, "permission must be one of read, triage, write, maintain, admin")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	who := s.userLocked(r.PathValue("user"))
	rp.perms[strings.ToLower(who.login)] = in.Permission
	s.sendMember(ctlURLs(r), rp, who, in.Permission)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlAddTeamMember(w http.ResponseWriter, r *http.Request) {
	if !nameRE.MatchString(r.PathValue("org")) || !nameRE.MatchString(r.PathValue("team")) {
		ctlError(w, http.StatusUnprocessableEntity, "invalid org or team")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, _ := s.orgLocked(r.PathValue("org"))
	slug := strings.ToLower(r.PathValue("team"))
	t := o.teams[slug]
	if t == nil {
		t = &team{id: s.newID(), slug: slug, name: r.PathValue("team"), members: map[string]bool{}}
		o.teams[slug] = t
	}
	who := s.userLocked(r.PathValue("user"))
	t.members[strings.ToLower(who.login)] = true
	s.sendMembership(ctlURLs(r), o, t, who, "added")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlRemoveTeamMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[strings.ToLower(r.PathValue("org"))]
	var t *team
	if o != nil {
		t = o.teams[strings.ToLower(r.PathValue("team"))]
	}
	login := strings.ToLower(r.PathValue("user"))
	if t == nil || !t.members[login] {
		ctlError(w, http.StatusNotFound, "no such team member")
		return
	}
	delete(t.members, login)
	s.sendMembership(ctlURLs(r), o, t, s.userLocked(r.PathValue("user")), "removed")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlDeliveries(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.hooks.list(r.URL.Query().Get("payload") == "1"))
}

func (s *Server) ctlFlush(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := s.hooks.flush(ctx); err != nil {
		ctlError(w, http.StatusGatewayTimeout, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlRedeliver(w http.ResponseWriter, r *http.Request) {
	d, ok := s.hooks.redeliver(r.Context(), r.PathValue("id"))
	if !ok {
		ctlError(w, http.StatusNotFound, "no such delivery")
		return
	}
	s.hooks.mu.Lock()
	info := d.info(false)
	s.hooks.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// ctlReplay sends a delivery's signed body again under a new delivery id,
// as an attacker who captured it would; 201 with the new delivery.
func (s *Server) ctlReplay(w http.ResponseWriter, r *http.Request) {
	d, ok := s.hooks.replay(r.PathValue("id"))
	if !ok {
		ctlError(w, http.StatusNotFound, "no such delivery")
		return
	}
	s.hooks.mu.Lock()
	info := d.info(false)
	s.hooks.mu.Unlock()
	writeJSON(w, http.StatusCreated, info)
}

// ctlPause holds webhook deliveries until ctlResume, so that a test can
// make things happen on GitHub before atoll hears of them.
func (s *Server) ctlPause(w http.ResponseWriter, r *http.Request) {
	s.hooks.pause()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlResume(w http.ResponseWriter, r *http.Request) {
	s.hooks.resume()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlRateLimit(w http.ResponseWriter, r *http.Request) {
	var in RateLimit
	if !decodeBody(w, r, &in) {
		return
	}
	if in.Count <= 0 {
		ctlError(w, http.StatusUnprocessableEntity, "count must be positive")
		return
	}
	s.forceRateLimit(forcedLimit{count: in.Count, status: in.Status, retryAfter: in.RetryAfter, remaining: in.Remaining, resetIn: in.ResetIn})
	w.WriteHeader(http.StatusNoContent)
}

// ctlSettings changes the emulator's settings: {"redeliver_each": N}
// delivers every later webhook N times (Config.RedeliverEach). It answers
// the settings now in force.
func (s *Server) ctlSettings(w http.ResponseWriter, r *http.Request) {
	var in Settings
	if !decodeBody(w, r, &in) {
		return
	}
	if in.RedeliverEach < 1 || in.RedeliverEach > 100 {
		ctlError(w, http.StatusUnprocessableEntity, "redeliver_each must be between 1 and 100")
		return
	}
	s.SetRedeliverEach(in.RedeliverEach)
	writeJSON(w, http.StatusOK, in)
}

// ctlUserToken makes a personal access token for a user (see UserToken).
func (s *Server) ctlUserToken(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusCreated, obj{"token": s.UserToken(r.PathValue("login"))})
}
