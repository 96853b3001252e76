package emulator

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// maxPRFiles is GitHub's cap on the files listed for a pull request.
const maxPRFiles = 3000

// prStats are the figures of a pull request that need git.
type prStats struct {
	commits, additions, deletions, changed int
	known                                  bool // mergeable computed
	mergeable                              bool
	state                                  string
}

// pullSnapshot is what the git side of a pull request needs, read under
// s.mu and used without it.
type pullSnapshot struct {
	dir, base, head string
	open, draft     bool
	gate            gateSnapshot
}

func (s *Server) snapshot(rp *repo, is *issue) pullSnapshot {
	return pullSnapshot{dir: rp.dir, base: s.baseSHA(rp, is), head: is.pr.headSHA, open: is.state == "open", draft: is.pr.draft,
		gate: s.gateSnapshotLocked(rp, is)}
}

func (s *Server) baseSHA(rp *repo, is *issue) string {
	if is.state == "open" || is.pr.openBaseSHA == "" {
		return rp.branches[is.pr.baseRef]
	}
	return is.pr.openBaseSHA
}

// stats computes a pull request's counts and, when withMergeable, whether
// it merges: mergeable false and state "dirty" on conflicts, "draft" for
// drafts, else what the base branch's protection and the head's checks
// make of it (gateState): behind, blocked, unstable or clean.
func (s *Server) stats(ctx context.Context, p pullSnapshot, withMergeable bool) prStats {
	st := prStats{state: "unknown"}
	if out, err := s.run(ctx, p.dir, nil, "rev-list", "--count", p.head, "^"+p.base); err == nil {
		st.commits, _ = strconv.Atoi(strings.TrimSpace(string(out)))
	}
	if fs, err := s.changedFiles(ctx, p.dir, p.base, p.head, true); err == nil {
		st.changed = len(fs)
		for _, f := range fs {
			st.additions += f.additions
			st.deletions += f.deletions
		}
	}
	if !withMergeable || !p.open {
		return st
	}
	_, conflict, err := s.mergeTree(ctx, p.dir, p.base, p.head)
	if err != nil {
		return st
	}
	st.known, st.mergeable = true, !conflict
	switch {
	case conflict:
		st.state = "dirty"
	case p.draft:
		st.state = "draft"
	default:
		st.state = s.gateState(ctx, p)
	}
	return st
}

func pullURL(u urls, rp *repo, n int) string { return fmt.Sprintf("%s/pulls/%d", repoURL(u, rp), n) }

func (s *Server) branchEnd(u urls, rp *repo, ref, sha string) obj {
	return obj{
		"label": rp.owner.account.login + ":" + ref, "ref": ref, "sha": sha,
		"user": s.userJSON(u, rp.owner.account), "repo": s.repoJSON(u, rp),
	}
}

// headEnd is a pull request's head: a branch of rp, or of the fork
// FORKOWNER/NAME for a pull request from a fork.
func (s *Server) headEnd(u urls, rp *repo, pr *pull) obj {
	if pr.fork == nil {
		return s.branchEnd(u, rp, pr.headRef, pr.headSHA)
	}
	fork := &repo{id: pr.forkID, owner: &org{account: pr.fork}, name: rp.name, private: rp.private,
		defaultBranch: rp.defaultBranch, created: rp.created, pushed: rp.pushed}
	r := s.repoJSON(u, fork)
	r["fork"] = true
	return obj{"label": pr.fork.login + ":" + pr.headRef, "ref": pr.headRef, "sha": pr.headSHA,
		"user": s.userJSON(u, pr.fork), "repo": r}
}

// pullJSON is a pull request: full is the "pull-request" object, else the
// simple one of lists and review webhooks.
func (s *Server) pullJSON(u urls, rp *repo, is *issue, full bool, st prStats) obj {
	api := pullURL(u, rp, is.number)
	html := issueHTML(u, rp, is)
	pr := is.pr
	var body, mergeSHA any
	if is.body != "" {
		body = is.body
	}
	if pr.mergeSHA != "" {
		mergeSHA = pr.mergeSHA
	}
	link := func(h string) obj { return obj{"href": h} }
	m := obj{
		"url": api, "id": pr.id, "node_id": nodeID("PR", pr.id), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issueURL(u, rp, is),
		"number": is.number, "state": is.state, "locked": false, "title": is.title,
		"user": s.userJSON(u, is.user), "body": body, "created_at": ts(is.created),
		"updated_at": ts(is.updated), "closed_at": ts(is.closed), "merged_at": ts(pr.mergedAt),
		"merge_commit_sha": mergeSHA, "assignee": nil, "assignees": []obj{},
		"requested_reviewers": []obj{}, "requested_teams": []obj{}, "labels": labelsJSON(u, rp, is.labels),
		"milestone": nil, "draft": pr.draft, "commits_url": api + "/commits",
		"review_comments_url": api + "/comments", "review_comment_url": repoURL(u, rp) + "/pulls/comments{/number}",
		"comments_url": issueURL(u, rp, is) + "/comments", "statuses_url": repoURL(u, rp) + "/statuses/" + pr.headSHA,
		"head": s.headEnd(u, rp, pr), "base": s.branchEnd(u, rp, pr.baseRef, s.baseSHA(rp, is)),
		"_links": obj{
			"self": link(api), "html": link(html), "issue": link(issueURL(u, rp, is)),
			"comments": link(issueURL(u, rp, is) + "/comments"), "review_comments": link(api + "/comments"),
			"review_comment": link(repoURL(u, rp) + "/pulls/comments{/number}"), "commits": link(api + "/commits"),
			"statuses": link(repoURL(u, rp) + "/statuses/" + pr.headSHA),
		},
		"author_association": s.association(rp, is.user), "auto_merge": nil, "active_lock_reason": nil,
	}
	if !full {
		return m
	}
	var mergeable any
	if st.known {
		mergeable = st.mergeable
	}
	m["merged"] = pr.merged
	m["mergeable"] = mergeable
	m["rebaseable"] = mergeable
	m["mergeable_state"] = st.state
	m["merged_by"] = s.userJSON(u, pr.mergedBy)
	m["comments"] = len(is.comments)
	m["review_comments"] = 0
	m["maintainer_can_modify"] = false
	m["commits"] = st.commits
	m["additions"] = st.additions
	m["deletions"] = st.deletions
	m["changed_files"] = st.changed
	return m
}

func (s *Server) reviewJSON(u urls, rp *repo, is *issue, rv *review, webhook bool) obj {
	html := fmt.Sprintf("%s#pullrequestreview-%d", issueHTML(u, rp, is), rv.id)
	state := rv.state
	if webhook {
		state = strings.ToLower(state)
	}
	return obj{
		"id": rv.id, "node_id": nodeID("PRR", rv.id), "user": s.userJSON(u, rv.user), "body": rv.body,
		"commit_id": rv.commitID, "submitted_at": ts(rv.submitted), "state": state, "html_url": html,
		"pull_request_url": pullURL(u, rp, is.number), "author_association": s.association(rp, rv.user),
		"_links": obj{"html": obj{"href": html}, "pull_request": obj{"href": pullURL(u, rp, is.number)}},
	}
}

// pullFor finds the pull request of the request path; 404 otherwise.
// Callers hold s.mu.
func (s *Server) pullFor(w http.ResponseWriter, r *http.Request, write bool) (*repo, *issue) {
	rp := s.visibleRepo(w, r, write)
	if rp == nil {
		return nil, nil
	}
	n, err := strconv.Atoi(r.PathValue("number"))
	is := rp.issues[n]
	if err != nil || is == nil || is.pr == nil {
		notFound(w)
		return nil, nil
	}
	return rp, is
}

func (s *Server) handleListPulls(w http.ResponseWriter, r *http.Request) {
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
	var list []*issue
	for _, is := range rp.issues {
		if is.pr == nil || (state != "all" && is.state != state) {
			continue
		}
		if h := q.Get("head"); h != "" && h != rp.owner.account.login+":"+is.pr.headRef {
			continue
		}
		if b := q.Get("base"); b != "" && b != is.pr.baseRef {
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
		out = append(out, s.pullJSON(u, rp, is, false, prStats{}))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetPull(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rp, is := s.pullFor(w, r, false)
	if is == nil {
		s.mu.Unlock()
		return
	}
	snap := s.snapshot(rp, is)
	s.mu.Unlock()
	st := s.stats(r.Context(), snap, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.pullJSON(urlsOf(r), rp, is, true, st))
}

func (s *Server) handlePullFiles(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rp, is := s.pullFor(w, r, false)
	if is == nil {
		s.mu.Unlock()
		return
	}
	snap := s.snapshot(rp, is)
	s.mu.Unlock()
	files, err := s.changedFiles(r.Context(), snap.dir, snap.base, snap.head, true)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if len(files) > maxPRFiles {
		files = files[:maxPRFiles]
	}
	u := urlsOf(r)
	out := []obj{}
	for _, f := range paginate(w, r, files) {
		out = append(out, diffEntryJSON(u, rp, snap.head, f))
	}
	writeJSON(w, http.StatusOK, out)
}

func diffEntryJSON(u urls, rp *repo, head string, f fileChange) obj {
	web := u.web + "/" + rp.fullName()
	return obj{
		"sha": f.blob, "filename": f.name, "status": f.status, "additions": f.additions,
		"deletions": f.deletions, "changes": f.additions + f.deletions,
		"blob_url": web + "/blob/" + head + "/" + escapePath(f.name), "raw_url": web + "/raw/" + head + "/" + escapePath(f.name),
		"contents_url": repoURL(u, rp) + "/contents/" + escapePath(f.name) + "?ref=" + head,
	}
}

func (s *Server) handleListReviews(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, is := s.pullFor(w, r, false)
	if is == nil {
		return
	}
	u := urlsOf(r)
	out := []obj{}
	for _, rv := range paginate(w, r, is.pr.reviews) {
		out = append(out, s.reviewJSON(u, rp, is, rv, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleMergePull(w http.ResponseWriter, r *http.Request) {
	var in struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	rp, is := s.pullFor(w, r, true)
	s.mu.Unlock()
	if is == nil {
		return
	}
	switch in.MergeMethod {
	case "":
		in.MergeMethod = "merge"
	case "merge", "squash", "rebase":
	default:
		writeValidation(w, fieldError{Resource: "PullRequest", Code: "invalid", Field: "merge_method",
			Message: "merge_method must be one of merge, squash, rebase"})
		return
	}
	sha, err := s.mergePull(r.Context(), urlsOf(r), rp, is.number, mergeRequest{
		method: in.MergeMethod, sha: in.SHA, title: in.CommitTitle, message: in.CommitMessage, actor: s.actorOf(r),
	})
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, obj{"sha": sha, "merged": true, "message": "Pull Request successfully merged"})
}
