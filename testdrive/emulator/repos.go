package emulator

import (
	"context"
	"encoding/base64"
	"net/http"
	"path"
	"regexp"
	"strings"
)

var shaRE = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

func (s *Server) handleGetRepo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.visibleRepo(w, r, false)
	if rp == nil {
		return
	}
	m := s.fullRepoJSON(urlsOf(r), rp)
	switch c := callerOf(r); {
	case c.owns(rp):
		m["permissions"] = obj{"admin": false, "maintain": false, "push": true, "triage": true, "pull": true}
	case c.kind == userToken:
		role := s.permissionLocked(rp, c.user.login)
		m["permissions"] = obj{"admin": role == "admin", "maintain": role == "maintain" || role == "admin",
			"push": s.canWriteLocked(c, rp), "triage": role != "read" && role != "none", "pull": role != "none" || !rp.private}
	}
	writeJSON(w, http.StatusOK, m)
}

// handleRepoInstallation needs the App's JWT, as on GitHub.
func (s *Server) handleRepoInstallation(w http.ResponseWriter, r *http.Request) {
	if !requireJWT(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repoLocked(r.PathValue("owner"), r.PathValue("repo"))
	if rp == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.restInstallationJSON(urlsOf(r), rp.owner.inst))
}

// resolveRef turns a branch name, refs/heads/NAME, or a sha into a commit
// sha; "" when unknown. Callers hold s.mu; a sha is checked later by git.
func resolveRefLocked(rp *repo, ref string) string {
	if ref == "" {
		return rp.branches[rp.defaultBranch]
	}
	ref = strings.TrimPrefix(ref, "refs/heads/")
	if sha, ok := rp.branches[ref]; ok {
		return sha
	}
	if shaRE.MatchString(ref) {
		return ref
	}
	return ""
}

// commitJSON is REST's "commit" object.
func (s *Server) commitJSON(u urls, rp *repo, c commitMeta) obj {
	api := repoURL(u, rp)
	web := u.web + "/" + rp.fullName()
	gitUser := func(g signature) obj { return obj{"name": g.name, "email": g.email, "date": ts(g.when)} }
	parents := []obj{}
	for _, p := range c.parents {
		parents = append(parents, obj{"sha": p, "url": api + "/commits/" + p, "html_url": web + "/commit/" + p})
	}
	var author, committer any
	s.mu.Lock()
	if x, ok := s.users[strings.ToLower(c.author.name)]; ok {
		author = s.userJSON(u, x)
	}
	if x, ok := s.users[strings.ToLower(c.committer.name)]; ok {
		committer = s.userJSON(u, x)
	}
	s.mu.Unlock()
	return obj{
		"url": api + "/commits/" + c.sha, "sha": c.sha, "node_id": "C_" + c.sha,
		"html_url": web + "/commit/" + c.sha, "comments_url": api + "/commits/" + c.sha + "/comments",
		"commit": obj{
			"url": api + "/git/commits/" + c.sha, "author": gitUser(c.author), "committer": gitUser(c.committer),
			"message": c.message, "comment_count": 0,
			"tree":         obj{"sha": c.tree, "url": api + "/git/trees/" + c.tree},
			"verification": obj{"verified": false, "reason": "unsigned", "payload": nil, "signature": nil, "verified_at": nil},
		},
		"author": author, "committer": committer, "parents": parents,
	}
}

func (s *Server) handleGetBranch(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rp := s.visibleRepo(w, r, false)
	if rp == nil {
		s.mu.Unlock()
		return
	}
	name := r.PathValue("branch")
	sha, ok := rp.branches[name]
	dir := rp.dir
	var prot *protection
	if p := rp.protection[name]; p != nil {
		cp := *p
		prot = &cp
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Branch not found")
		return
	}
	c, err := s.commitInfo(r.Context(), dir, sha)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	u := urlsOf(r)
	api := repoURL(u, rp) + "/branches/" + escapePath(name)
	writeJSON(w, http.StatusOK, obj{
		"name": name, "commit": s.commitJSON(u, rp, c), "protected": prot != nil,
		"protection":     protectionJSON(prot),
		"protection_url": api + "/protection",
		"_links":         obj{"self": api, "html": u.web + "/" + rp.fullName() + "/tree/" + escapePath(name)},
	})
}

// handleDeleteRef deletes a branch (ref "heads/NAME"), as GitHub's
// "Delete a reference": 204, or 422 "Reference does not exist". The
// default branch is refused (422), as GitHub refuses it. No webhook is
// sent: atoll subscribes to none that a deletion fires.
func (s *Server) handleDeleteRef(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rp := s.visibleRepo(w, r, true)
	s.mu.Unlock()
	if rp == nil {
		return
	}
	name, isBranch := strings.CutPrefix(r.PathValue("ref"), "heads/")
	rp.gitMu.Lock()
	defer rp.gitMu.Unlock()
	s.mu.Lock()
	_, ok := rp.branches[name]
	def := rp.defaultBranch
	s.mu.Unlock()
	switch {
	case !isBranch || !ok:
		writeError(w, http.StatusUnprocessableEntity, "Reference does not exist")
		return
	case name == def:
		writeError(w, http.StatusUnprocessableEntity, "Cannot delete the default branch")
		return
	}
	if _, err := s.run(r.Context(), rp.dir, nil, "update-ref", "-d", "refs/heads/"+name); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.mu.Lock()
	delete(rp.branches, name)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// handleGetContents serves a file (base64, as GitHub sends it) or a
// directory listing at ?ref= (default: the default branch).
func (s *Server) handleGetContents(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rp := s.visibleRepo(w, r, false)
	if rp == nil {
		s.mu.Unlock()
		return
	}
	ref := r.URL.Query().Get("ref")
	sha := resolveRefLocked(rp, ref)
	dir := rp.dir
	s.mu.Unlock()
	p := strings.Trim(r.PathValue("path"), "/")
	if sha == "" {
		writeError(w, http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	if ref == "" {
		ref = sha
	}
	ctx := r.Context()
	u := urlsOf(r)
	es, err := s.lsTree(ctx, dir, sha, p, false)
	if err != nil || (p != "" && len(es) == 0) {
		notFound(w)
		return
	}
	if p == "" || es[0].kind == "tree" {
		children, err := s.lsTree(ctx, dir, sha, p, true)
		if err != nil {
			notFound(w)
			return
		}
		out := []obj{}
		for _, e := range children {
			out = append(out, contentEntry(u, rp, ref, e, nil))
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	if es[0].kind != "blob" {
		notFound(w)
		return
	}
	data, err := s.catBlob(ctx, dir, es[0].sha)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, contentEntry(u, rp, ref, es[0], data))
}

// contentEntry is a "content-file" (data non-nil) or a directory item.
func contentEntry(u urls, rp *repo, ref string, e treeEntry, data []byte) obj {
	kind := map[string]string{"blob": "file", "tree": "dir", "commit": "submodule"}[e.kind]
	if e.mode == "120000" {
		kind = "symlink"
	}
	self := repoURL(u, rp) + "/contents/" + escapePath(e.path) + "?ref=" + ref
	html := u.web + "/" + rp.fullName() + "/blob/" + ref + "/" + escapePath(e.path)
	gitURL := repoURL(u, rp) + "/git/blobs/" + e.sha
	var download any
	if kind == "file" {
		download = u.web + "/" + rp.fullName() + "/raw/" + ref + "/" + escapePath(e.path)
	} else if kind == "dir" {
		gitURL = repoURL(u, rp) + "/git/trees/" + e.sha
		html = u.web + "/" + rp.fullName() + "/tree/" + ref + "/" + escapePath(e.path)
	}
	m := obj{
		"type": kind, "size": e.size, "name": path.Base(e.path), "path": e.path, "sha": e.sha,
		"url": self, "git_url": gitURL, "html_url": html, "download_url": download,
		"_links": obj{"self": self, "git": gitURL, "html": html},
	}
	if data != nil {
		m["encoding"] = "base64"
		m["content"] = wrap60(base64.StdEncoding.EncodeToString(data))
	}
	return m
}

// wrap60 breaks base64 into lines of 60 characters, as GitHub does.
func wrap60(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60])
		b.WriteByte('\n')
		s = s[60:]
	}
	b.WriteString(s)
	b.WriteByte('\n')
	return b.String()
}

// handleCompare serves GET compare/{base}...{head}.
func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request) {
	base, head, ok := strings.Cut(r.PathValue("basehead"), "...")
	if !ok {
		notFound(w)
		return
	}
	s.mu.Lock()
	rp := s.visibleRepo(w, r, false)
	if rp == nil {
		s.mu.Unlock()
		return
	}
	b, h, dir := resolveRefLocked(rp, base), resolveRefLocked(rp, head), rp.dir
	s.mu.Unlock()
	ctx := r.Context()
	var err error
	if b, err = s.revParse(ctx, dir, b); err != nil || b == "" {
		notFound(w)
		return
	}
	if h, err = s.revParse(ctx, dir, h); err != nil || h == "" {
		notFound(w)
		return
	}
	mb, err := s.run(ctx, dir, nil, "merge-base", b, h)
	if err != nil {
		writeError(w, http.StatusNotFound, "No common ancestor between "+base+" and "+head+".")
		return
	}
	out, err := s.compare(ctx, urlsOf(r), rp, dir, b, h, strings.TrimSpace(string(mb)))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out["url"] = repoURL(urlsOf(r), rp) + "/compare/" + base + "..." + head
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) compare(ctx context.Context, u urls, rp *repo, dir, base, head, mergeBase string) (obj, error) {
	ahead, err := s.commitsBetween(ctx, dir, mergeBase, head, 250)
	if err != nil {
		return nil, err
	}
	behind, err := s.commitsBetween(ctx, dir, mergeBase, base, 10000)
	if err != nil {
		return nil, err
	}
	baseC, err := s.commitInfo(ctx, dir, base)
	if err != nil {
		return nil, err
	}
	mbC, err := s.commitInfo(ctx, dir, mergeBase)
	if err != nil {
		return nil, err
	}
	files, err := s.changedFiles(ctx, dir, base, head, true)
	if err != nil {
		return nil, err
	}
	if len(files) > 300 {
		files = files[:300]
	}
	status := "diverged"
	switch {
	case len(ahead) == 0 && len(behind) == 0:
		status = "identical"
	case len(behind) == 0:
		status = "ahead"
	case len(ahead) == 0:
		status = "behind"
	}
	commits := []obj{}
	for _, c := range ahead {
		commits = append(commits, s.commitJSON(u, rp, c))
	}
	fs := []obj{}
	for _, f := range files {
		fs = append(fs, diffEntryJSON(u, rp, head, f))
	}
	web := u.web + "/" + rp.fullName() + "/compare/" + base + "..." + head
	return obj{
		"html_url": web, "permalink_url": web, "diff_url": web + ".diff", "patch_url": web + ".patch",
		"base_commit": s.commitJSON(u, rp, baseC), "merge_base_commit": s.commitJSON(u, rp, mbC),
		"status": status, "ahead_by": len(ahead), "behind_by": len(behind), "total_commits": len(ahead),
		"commits": commits, "files": fs,
	}, nil
}

// handlePermission serves collaborators/{user}/permission: permission is
// admin, write, read or none (maintain reads as write, triage as read);
// role_name is the real role.
func (s *Server) handlePermission(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.visibleRepo(w, r, false)
	if rp == nil {
		return
	}
	if callerOf(r).kind == anonymous {
		writeError(w, http.StatusUnauthorized, "Requires authentication")
		return
	}
	who := s.userLocked(r.PathValue("user"))
	role := s.permissionLocked(rp, who.login)
	perm := map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none"}[role]
	u := urlsOf(r)
	collab := s.userJSON(u, who)
	collab["role_name"] = role
	collab["permissions"] = obj{
		"pull": perm != "none", "triage": role != "read" && perm != "none", "push": perm == "write" || perm == "admin",
		"maintain": role == "maintain" || role == "admin", "admin": role == "admin",
	}
	writeJSON(w, http.StatusOK, obj{"permission": perm, "role_name": role, "user": collab})
}

// handleTeamMembership serves orgs/{org}/teams/{slug}/memberships/{user}:
// 200 with state active for a member, 404 otherwise.
func (s *Server) handleTeamMembership(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := callerOf(r)
	if c.kind == anonymous {
		writeError(w, http.StatusUnauthorized, "Requires authentication")
		return
	}
	o := s.orgs[strings.ToLower(r.PathValue("org"))]
	if o == nil || c.kind != installationToken || c.inst != o.inst {
		notFound(w)
		return
	}
	t := o.teams[strings.ToLower(r.PathValue("slug"))]
	login := r.PathValue("user")
	if t == nil || !t.members[strings.ToLower(login)] {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, obj{
		"url":  urlsOf(r).api + "orgs/" + o.account.login + "/teams/" + t.slug + "/memberships/" + login,
		"role": "member", "state": "active",
	})
}
