package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Operations that change git and the model, shared by the REST API and
// the control API. Each takes repo.gitMu for its git work and s.mu only
// around the model; none holds s.mu while git runs.

// opError is a failed operation with the HTTP status and message GitHub
// would answer.
type opError struct {
	status int
	msg    string
}

func (e *opError) Error() string { return e.msg }

func fail(status int, format string, args ...any) error {
	return &opError{status: status, msg: fmt.Sprintf(format, args...)}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// createRepo makes a repository with one commit holding files.
func (s *Server) createRepo(ctx context.Context, u urls, in CreateRepo) (RepoInfo, error) {
	if !nameRE.MatchString(in.Owner) || !nameRE.MatchString(in.Name) || strings.HasSuffix(in.Name, ".git") {
		return RepoInfo{}, fail(http.StatusUnprocessableEntity, "invalid owner or name %q/%q", in.Owner, in.Name)
	}
	if in.DefaultBranch == "" {
		in.DefaultBranch = "main"
	}
	if len(in.Files) == 0 {
		in.Files = map[string]string{"README.md": "# " + in.Name + "\n"}
	}
	files := map[string]*string{}
	for p, c := range in.Files {
		files[p] = &c
	}
	dir := filepath.Join(s.cfg.DataDir, strings.ToLower(in.Owner), strings.ToLower(in.Name)+".git")
	s.mu.Lock()
	exists := s.repoLocked(in.Owner, in.Name) != nil
	s.mu.Unlock()
	if exists {
		return RepoInfo{}, fail(http.StatusUnprocessableEntity, "name already exists on this account")
	}
	if err := s.initBare(ctx, dir, in.DefaultBranch); err != nil {
		return RepoInfo{}, err
	}
	sha, err := s.commitFiles(ctx, dir, in.DefaultBranch, "", s.signatureFor(in.Owner), "Initial commit", files, nil)
	if err != nil {
		return RepoInfo{}, fail(http.StatusUnprocessableEntity, "initial commit: %v", err)
	}
	commits, err := s.commitsBetween(ctx, dir, "", sha, 20)
	if err != nil {
		return RepoInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repoLocked(in.Owner, in.Name) != nil {
		return RepoInfo{}, fail(http.StatusUnprocessableEntity, "name already exists on this account")
	}
	o, created := s.orgLocked(in.Owner)
	now := s.now()
	rp := &repo{
		id: s.newID(), owner: o, name: in.Name, private: in.Private, defaultBranch: in.DefaultBranch,
		created: now, pushed: now, dir: dir, branches: map[string]string{in.DefaultBranch: sha},
		perms: map[string]string{}, issues: map[int]*issue{}, labels: map[string]*label{},
	}
	s.repos[strings.ToLower(rp.fullName())] = rp
	o.inst.repos = append(o.inst.repos, rp)
	s.sendInstallation(u, rp, created, o.account)
	s.sendPush(u, rp, "refs/heads/"+in.DefaultBranch, zeroSHA, sha, commits, o.account)
	return RepoInfo{FullName: rp.fullName(), DefaultBranch: rp.defaultBranch, HeadSHA: sha}, nil
}

func (s *Server) findRepo(owner, name string) (*repo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repoLocked(owner, name)
	if rp == nil {
		return nil, fail(http.StatusNotFound, "repository %s/%s not found", owner, name)
	}
	return rp, nil
}

// commit makes a commit on a branch, creating the branch from `from`
// (default: the default branch) when needed, then sends push (and
// synchronize for the branch's open pull requests).
func (s *Server) commit(ctx context.Context, u urls, rp *repo, in Commit) (string, error) {
	if in.Author == "" {
		return "", fail(http.StatusUnprocessableEntity, "author is required")
	}
	if in.Message == "" {
		in.Message = "Update files"
	}
	rp.gitMu.Lock()
	defer rp.gitMu.Unlock()
	s.mu.Lock()
	if in.Branch == "" {
		in.Branch = rp.defaultBranch
	}
	tip, exists := rp.branches[in.Branch]
	from := in.From
	if from == "" {
		from = rp.defaultBranch
	}
	if sha, ok := rp.branches[from]; ok {
		from = sha
	}
	sender := s.userLocked(in.Author)
	s.mu.Unlock()
	parent := tip
	if !exists {
		sha, err := s.revParse(ctx, rp.dir, from)
		if err != nil {
			return "", fail(http.StatusUnprocessableEntity, "unknown from %q", in.From)
		}
		parent = sha
	}
	sha, err := s.commitFiles(ctx, rp.dir, in.Branch, parent, s.signatureFor(in.Author), in.Message, in.Files, in.Symlinks)
	if err != nil {
		return "", fail(http.StatusUnprocessableEntity, "commit: %v", err)
	}
	before := tip
	if !exists {
		before = zeroSHA
	}
	return sha, s.branchMoved(ctx, u, rp, in.Branch, before, sha, parent, sender)
}

// branchMoved records a branch's new tip (its ref already written), points
// refs/pull/N/head of the open pull requests on it, and sends push and
// pull_request synchronize. exclude bounds the commits listed in the push.
// Callers hold rp.gitMu.
func (s *Server) branchMoved(ctx context.Context, u urls, rp *repo, branch, before, after, exclude string, sender *user) error {
	commits, err := s.commitsBetween(ctx, rp.dir, exclude, after, 20)
	if err != nil {
		return err
	}
	s.mu.Lock()
	rp.branches[branch] = after
	rp.pushed = s.now()
	var prs []*issue
	for _, is := range rp.issues {
		if is.pr != nil && is.state == "open" && is.pr.headRef == branch {
			prs = append(prs, is)
		}
	}
	s.mu.Unlock()
	stats := make([]prStats, len(prs))
	for i, is := range prs {
		if err := s.updateRef(ctx, rp.dir, fmt.Sprintf("refs/pull/%d/head", is.number), after); err != nil {
			return err
		}
		s.mu.Lock()
		snap := s.snapshot(rp, is)
		s.mu.Unlock()
		snap.head = after
		stats[i] = s.stats(ctx, snap, false)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendPush(u, rp, "refs/heads/"+branch, before, after, commits, sender)
	for i, is := range prs {
		prevHead := is.pr.headSHA
		is.pr.headSHA = after
		is.updated = s.now()
		s.sendPullRequest(u, rp, is, "synchronize", sender, stats[i], obj{"before": prevHead, "after": after})
	}
	return nil
}

// openPull opens a pull request from head into base.
func (s *Server) openPull(ctx context.Context, u urls, rp *repo, in OpenPR) (int, error) {
	if in.Author == "" || in.Head == "" {
		return 0, fail(http.StatusUnprocessableEntity, "author and head are required")
	}
	rp.gitMu.Lock()
	defer rp.gitMu.Unlock()
	s.mu.Lock()
	if in.Base == "" {
		in.Base = rp.defaultBranch
	}
	if in.Title == "" {
		in.Title = in.Head
	}
	headSHA, okH := rp.branches[in.Head]
	baseSHA, okB := rp.branches[in.Base]
	var dup bool
	for _, is := range rp.issues {
		if is.pr != nil && is.state == "open" && is.pr.headRef == in.Head && is.pr.baseRef == in.Base {
			dup = true
		}
	}
	s.mu.Unlock()
	switch {
	case !okH || !okB:
		return 0, fail(http.StatusUnprocessableEntity, "Validation Failed: head %q or base %q does not exist", in.Head, in.Base)
	case dup:
		return 0, fail(http.StatusUnprocessableEntity, "A pull request already exists for %s:%s.", rp.owner.account.login, in.Head)
	case s.isAncestor(ctx, rp.dir, headSHA, baseSHA):
		return 0, fail(http.StatusUnprocessableEntity, "No commits between %s and %s", in.Base, in.Head)
	}
	s.mu.Lock()
	rp.nextNumber++
	n := rp.nextNumber
	now := s.now()
	author := s.userLocked(in.Author)
	is := &issue{
		id: s.newID(), number: n, title: in.Title, body: in.Body, user: author, state: "open",
		created: now, updated: now,
		pr: &pull{id: s.newID(), headRef: in.Head, baseRef: in.Base, headSHA: headSHA, draft: in.Draft},
	}
	if in.Fork != "" && !strings.EqualFold(in.Fork, rp.owner.account.login) {
		is.pr.fork, is.pr.forkID = s.userLocked(in.Fork), s.newID()
	}
	rp.issues[n] = is
	snap := s.snapshot(rp, is)
	s.mu.Unlock()
	if err := s.updateRef(ctx, rp.dir, fmt.Sprintf("refs/pull/%d/head", n), headSHA); err != nil {
		return 0, err
	}
	st := s.stats(ctx, snap, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendPullRequest(u, rp, is, "opened", author, st, nil)
	return n, nil
}

// mergeRequest asks to merge a pull request.
type mergeRequest struct {
	method, sha, title, message string
	actor                       *user
}

// mergePull merges a pull request into its base with a real commit: 405
// when it does not merge cleanly (or is closed or a draft), 409 when sha
// is not the head. It sends pull_request closed (merged) and push.
func (s *Server) mergePull(ctx context.Context, u urls, rp *repo, number int, in mergeRequest) (string, error) {
	rp.gitMu.Lock()
	defer rp.gitMu.Unlock()
	s.mu.Lock()
	is := rp.issues[number]
	if is == nil || is.pr == nil {
		s.mu.Unlock()
		return "", fail(http.StatusNotFound, "Not Found")
	}
	snap := s.snapshot(rp, is)
	title, headRef, baseRef := is.title, is.pr.headRef, is.pr.baseRef
	s.mu.Unlock()
	switch {
	case !snap.open:
		return "", fail(http.StatusMethodNotAllowed, "Pull Request is not mergeable")
	case snap.draft:
		return "", fail(http.StatusMethodNotAllowed, "Pull Request is still a draft")
	case in.sha != "" && in.sha != snap.head:
		return "", fail(http.StatusConflict, "Head branch was modified. Review and try the merge again.")
	}
	tree, conflict, err := s.mergeTree(ctx, rp.dir, snap.base, snap.head)
	if err != nil {
		return "", err
	}
	if conflict {
		return "", fail(http.StatusMethodNotAllowed, "Pull Request is not mergeable")
	}
	parents := []string{snap.base, snap.head}
	msg := fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s", number, rp.owner.account.login, headRef, title)
	if in.method != "merge" {
		parents = parents[:1]
		msg = fmt.Sprintf("%s (#%d)", title, number)
	}
	if in.title != "" {
		msg = in.title
	}
	if in.message != "" {
		msg += "\n\n" + in.message
	}
	sha, err := s.commitTree(ctx, rp.dir, tree, parents, s.signatureFor(in.actor.login), msg)
	if err != nil {
		return "", err
	}
	if err := s.updateRef(ctx, rp.dir, "refs/heads/"+baseRef, sha); err != nil {
		return "", err
	}
	st := s.stats(ctx, snap, false)
	s.mu.Lock()
	now := s.now()
	is.state, is.closed, is.closedBy, is.updated = "closed", now, in.actor, now
	is.pr.merged, is.pr.mergedAt, is.pr.mergedBy, is.pr.mergeSHA = true, now, in.actor, sha
	is.pr.openBaseSHA = snap.base
	// As on GitHub, a reader who sees the PR merged sees its base moved.
	rp.branches[baseRef] = sha
	s.sendPullRequest(u, rp, is, "closed", in.actor, st, nil)
	s.mu.Unlock()
	return sha, s.branchMoved(ctx, u, rp, baseRef, snap.base, sha, snap.base, in.actor)
}

// closePull closes a pull request without merging.
func (s *Server) closePull(ctx context.Context, u urls, rp *repo, number int, author string) error {
	s.mu.Lock()
	is := rp.issues[number]
	if is == nil || is.pr == nil {
		s.mu.Unlock()
		return fail(http.StatusNotFound, "pull request #%d not found", number)
	}
	if is.state != "open" {
		s.mu.Unlock()
		return fail(http.StatusUnprocessableEntity, "pull request #%d is not open", number)
	}
	snap := s.snapshot(rp, is)
	s.mu.Unlock()
	st := s.stats(ctx, snap, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	who := s.userLocked(author)
	is.state, is.closed, is.closedBy, is.updated = "closed", now, who, now
	is.pr.openBaseSHA = snap.base
	s.sendPullRequest(u, rp, is, "closed", who, st, nil)
	return nil
}

// reopenPull reopens a pull request closed without merge and sends
// pull_request reopened.
func (s *Server) reopenPull(ctx context.Context, u urls, rp *repo, number int, author string) error {
	s.mu.Lock()
	is := rp.issues[number]
	switch {
	case is == nil || is.pr == nil:
		s.mu.Unlock()
		return fail(http.StatusNotFound, "pull request #%d not found", number)
	case is.state == "open" || is.pr.merged:
		s.mu.Unlock()
		return fail(http.StatusUnprocessableEntity, "pull request #%d is open or merged: it cannot be reopened", number)
	}
	is.state, is.closed, is.closedBy, is.pr.openBaseSHA = "open", time.Time{}, nil, ""
	is.updated = s.now()
	snap := s.snapshot(rp, is)
	s.mu.Unlock()
	st := s.stats(ctx, snap, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendPullRequest(u, rp, is, "reopened", s.userLocked(author), st, nil)
	return nil
}

// readyPull marks a draft pull request ready for review and sends
// pull_request ready_for_review.
func (s *Server) readyPull(ctx context.Context, u urls, rp *repo, number int, author string) error {
	s.mu.Lock()
	is := rp.issues[number]
	switch {
	case is == nil || is.pr == nil:
		s.mu.Unlock()
		return fail(http.StatusNotFound, "pull request #%d not found", number)
	case is.state != "open" || !is.pr.draft:
		s.mu.Unlock()
		return fail(http.StatusUnprocessableEntity, "pull request #%d is not an open draft", number)
	}
	is.pr.draft = false
	is.updated = s.now()
	snap := s.snapshot(rp, is)
	s.mu.Unlock()
	st := s.stats(ctx, snap, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendPullRequest(u, rp, is, "ready_for_review", s.userLocked(author), st, nil)
	return nil
}

// writeOpError answers an operation's error: its own status, or 500.
func writeOpError(w http.ResponseWriter, err error) {
	var oe *opError
	if errors.As(err, &oe) {
		if oe.status == http.StatusUnprocessableEntity {
			writeJSON(w, oe.status, obj{"message": oe.msg, "errors": []obj{}, "documentation_url": docsURL, "status": "422"})
			return
		}
		writeError(w, oe.status, oe.msg)
		return
	}
	writeError(w, http.StatusInternalServerError, err.Error())
}
