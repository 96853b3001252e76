package emulator

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// The GraphQL the gh CLI needs to list and show pull requests:
// repository(owner, name) with pullRequests(states, baseRefName,
// headRefName, first, after) and pullRequest(number), and the scalar
// fields of PullRequest, Repository and their authors.

// repository resolves Query.repository. Callers hold s.mu.
func (g *gqlRun) repository(f *ast.Field, path []any) (any, bool) {
	owner, _ := g.arg(f, "owner").(string)
	name, _ := g.arg(f, "name").(string)
	rp := g.s.repoLocked(owner, name)
	if rp == nil || (rp.private && !g.s.canReadLocked(g.c, rp)) {
		g.errors = append(g.errors, gqlError{Type: "NOT_FOUND", Path: path,
			Message: fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", owner, name)})
		return nil, true
	}
	return g.object("Repository", f.SelectionSet, path, g.repoFields(rp)), true
}

func (g *gqlRun) repoFields(rp *repo) resolver {
	return func(f *ast.Field, path []any) (any, bool) {
		switch f.Name {
		case "id":
			return nodeID("R", rp.id), true
		case "databaseId":
			return rp.id, true
		case "name":
			return rp.name, true
		case "nameWithOwner":
			return rp.fullName(), true
		case "url":
			return g.u.web + "/" + rp.fullName(), true
		case "isPrivate":
			return rp.private, true
		case "isFork", "isArchived", "isEmpty":
			return false, true
		case "hasIssuesEnabled", "hasWikiEnabled":
			return true, true
		case "viewerPermission":
			return g.viewerPermission(rp), true
		case "owner":
			return g.userObject(rp.owner.account, f, path), true
		case "defaultBranchRef":
			return g.object("Ref", f.SelectionSet, path, func(sf *ast.Field, _ []any) (any, bool) {
				switch sf.Name {
				case "name":
					return rp.defaultBranch, true
				case "id":
					return nodeID("REF", rp.id), true
				}
				return nil, false
			}), true
		case "pullRequest":
			n := g.intArg(f, "number")
			is := rp.issues[n]
			if is == nil || is.pr == nil {
				g.errors = append(g.errors, gqlError{Type: "NOT_FOUND", Path: path,
					Message: fmt.Sprintf("Could not resolve to a PullRequest with the number of %d.", n)})
				return nil, true
			}
			return g.object("PullRequest", f.SelectionSet, path, g.pullFields(rp, is)), true
		case "pullRequests":
			return g.pullConnection(rp, f, path), true
		}
		return nil, false
	}
}

// viewerPermission is the caller's role, in GraphQL's upper case.
func (g *gqlRun) viewerPermission(rp *repo) string {
	switch {
	case g.c.kind == userToken:
		if role := g.s.permissionLocked(rp, g.c.user.login); role != "none" {
			return strings.ToUpper(role)
		}
		return "READ"
	case g.c.kind == installationToken && g.c.inst == rp.owner.inst:
		return "WRITE"
	}
	return "READ"
}

func (g *gqlRun) userObject(u *user, f *ast.Field, path []any) obj {
	return g.object(u.typ, f.SelectionSet, path, func(sf *ast.Field, _ []any) (any, bool) {
		switch sf.Name {
		case "id":
			return nodeID("U", u.id), true
		case "login":
			return u.login, true
		case "name":
			return u.login, true
		case "url":
			return g.u.web + "/" + u.login, true
		case "databaseId":
			return u.id, true
		}
		return nil, false
	})
}

// pullConnection resolves Repository.pullRequests, newest first, with
// cursor paging over first/after.
func (g *gqlRun) pullConnection(rp *repo, f *ast.Field, path []any) obj {
	states := map[string]bool{}
	switch v := g.arg(f, "states").(type) {
	case []any:
		for _, s := range v {
			if str, ok := s.(string); ok {
				states[str] = true
			}
		}
	case string:
		states[v] = true
	}
	base, _ := g.arg(f, "baseRefName").(string)
	head, _ := g.arg(f, "headRefName").(string)
	var all []*issue
	for _, is := range rp.issues {
		if is.pr == nil || (base != "" && is.pr.baseRef != base) || (head != "" && is.pr.headRef != head) {
			continue
		}
		if len(states) > 0 && !states[pullState(is)] {
			continue
		}
		all = append(all, is)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].number > all[j].number })
	start := 0
	if after, _ := g.arg(f, "after").(string); after != "" {
		if _, n, ok := parseNodeID(after); ok {
			start = int(n)
		}
	}
	start = min(start, len(all))
	page := all[start:]
	if first := g.intArg(f, "first"); first > 0 && first < len(page) {
		page = page[:first]
	}
	end := start + len(page)
	return g.object("PullRequestConnection", f.SelectionSet, path, func(sf *ast.Field, p []any) (any, bool) {
		switch sf.Name {
		case "totalCount":
			return len(all), true
		case "nodes":
			out := []obj{}
			for i, is := range page {
				out = append(out, g.object("PullRequest", sf.SelectionSet, append(slices.Clone(p), i), g.pullFields(rp, is)))
			}
			return out, true
		case "pageInfo":
			return g.object("PageInfo", sf.SelectionSet, p, func(pf *ast.Field, _ []any) (any, bool) {
				switch pf.Name {
				case "hasNextPage":
					return end < len(all), true
				case "hasPreviousPage":
					return start > 0, true
				case "endCursor":
					return nodeID("C", int64(end)), true
				case "startCursor":
					return nodeID("C", int64(start)), true
				}
				return nil, false
			}), true
		}
		return nil, false
	})
}

// pullState is a pull request's GraphQL state: OPEN, CLOSED or MERGED.
func pullState(is *issue) string {
	switch {
	case is.pr.merged:
		return "MERGED"
	case is.state == "closed":
		return "CLOSED"
	}
	return "OPEN"
}

// emptyConnection answers a connection the emulator does not model
// (labels, assignees, reviews, ...) with no nodes.
func (g *gqlRun) emptyConnection(typename string, f *ast.Field, path []any) obj {
	return g.object(typename, f.SelectionSet, path, func(sf *ast.Field, p []any) (any, bool) {
		switch sf.Name {
		case "totalCount":
			return 0, true
		case "nodes", "edges":
			return []obj{}, true
		case "pageInfo":
			return g.object("PageInfo", sf.SelectionSet, p, func(pf *ast.Field, _ []any) (any, bool) {
				switch pf.Name {
				case "hasNextPage", "hasPreviousPage":
					return false, true
				case "endCursor", "startCursor":
					return nil, true
				}
				return nil, false
			}), true
		}
		return nil, false
	})
}

func (g *gqlRun) pullFields(rp *repo, is *issue) resolver {
	pr := is.pr
	return func(f *ast.Field, path []any) (any, bool) {
		switch f.Name {
		case "id":
			return nodeID("PR", pr.id), true
		case "databaseId", "fullDatabaseId":
			return pr.id, true
		case "number":
			return is.number, true
		case "title":
			return is.title, true
		case "body":
			return is.body, true
		case "state":
			return pullState(is), true
		case "url":
			return issueHTML(g.u, rp, is), true
		case "headRefName":
			return pr.headRef, true
		case "baseRefName":
			return pr.baseRef, true
		case "headRefOid":
			return pr.headSHA, true
		case "isCrossRepository":
			return pr.fork != nil, true
		case "maintainerCanModify", "locked":
			return false, true
		case "isDraft":
			return pr.draft, true
		case "closed":
			return is.state == "closed", true
		case "merged":
			return pr.merged, true
		case "createdAt":
			return ts(is.created), true
		case "updatedAt":
			return ts(is.updated), true
		case "closedAt":
			return ts(is.closed), true
		case "mergedAt":
			return ts(pr.mergedAt), true
		case "mergeable":
			if pr.mergeCache.conflict {
				return "CONFLICTING", true
			}
			return "MERGEABLE", true
		case "author":
			return g.userObject(is.user, f, path), true
		case "headRepositoryOwner":
			if pr.fork != nil {
				return g.userObject(pr.fork, f, path), true
			}
			return g.userObject(rp.owner.account, f, path), true
		case "headRepository", "baseRepository", "repository":
			return g.object("Repository", f.SelectionSet, path, g.repoFields(rp)), true
		case "additions", "deletions", "changedFiles":
			return 0, true
		case "milestone", "mergedBy", "autoMergeRequest":
			return nil, true
		case "reviewDecision":
			return nil, true
		case "labels":
			return g.emptyConnection("LabelConnection", f, path), true
		case "assignees":
			return g.emptyConnection("UserConnection", f, path), true
		case "projectCards":
			return g.emptyConnection("ProjectCardConnection", f, path), true
		case "projectItems":
			return g.emptyConnection("ProjectV2ItemConnection", f, path), true
		case "reviewRequests":
			return g.emptyConnection("ReviewRequestConnection", f, path), true
		case "latestReviews", "reviews":
			return g.emptyConnection("PullRequestReviewConnection", f, path), true
		case "comments":
			return g.emptyConnection("IssueCommentConnection", f, path), true
		case "reactionGroups":
			return []obj{}, true
		case "commits":
			return g.object("PullRequestCommitConnection", f.SelectionSet, path, func(sf *ast.Field, p []any) (any, bool) {
				switch sf.Name {
				case "totalCount":
					return 1, true
				case "nodes":
					return []obj{g.object("PullRequestCommit", sf.SelectionSet, append(slices.Clone(p), 0), func(cf *ast.Field, cp []any) (any, bool) {
						if cf.Name != "commit" {
							return nil, false
						}
						return g.object("Commit", cf.SelectionSet, cp, g.commitFields(rp, pr.headSHA)), true
					})}, true
				}
				return nil, false
			}), true
		}
		return nil, false
	}
}

// intArg reads an integer argument, inline or from a (JSON) variable.
func (g *gqlRun) intArg(f *ast.Field, name string) int {
	switch v := g.arg(f, name).(type) {
	case int64:
		return int(v)
	case float64:
		return int(v)
	case int:
		return v
	}
	return 0
}

// commitFields resolves a Commit: its oid and statusCheckRollup, the
// commit statuses (latest per context) and check runs set on it.
func (g *gqlRun) commitFields(rp *repo, sha string) resolver {
	return func(f *ast.Field, path []any) (any, bool) {
		switch f.Name {
		case "oid":
			return sha, true
		case "statusCheckRollup":
			return g.rollup(rp, sha, f, path), true
		}
		return nil, false
	}
}

func (g *gqlRun) rollup(rp *repo, sha string, f *ast.Field, path []any) obj {
	type ctx struct {
		typename string
		res      resolver
		state    string // SUCCESS, FAILURE, PENDING
	}
	var all []ctx
	seen := map[string]bool{}
	sts := rp.statuses[sha]
	for i := len(sts) - 1; i >= 0; i-- {
		st := sts[i]
		if seen[strings.ToLower(st.context)] {
			continue
		}
		seen[strings.ToLower(st.context)] = true
		state := map[string]string{"error": "FAILURE", "failure": "FAILURE", "pending": "PENDING", "success": "SUCCESS"}[st.state]
		all = append(all, ctx{"StatusContext", func(cf *ast.Field, _ []any) (any, bool) {
			switch cf.Name {
			case "context":
				return st.context, true
			case "state":
				return strings.ToUpper(st.state), true
			case "targetUrl":
				if st.targetURL == "" {
					return nil, true
				}
				return st.targetURL, true
			case "description":
				return st.description, true
			case "createdAt":
				return ts(st.created), true
			}
			return nil, false
		}, state})
	}
	var runs []*checkRun
	for _, cr := range g.s.checkRuns {
		if cr.repo == rp && cr.headSHA == sha {
			runs = append(runs, cr)
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].id < runs[j].id })
	for _, cr := range runs {
		state := "PENDING"
		switch cr.conclusion {
		case "success", "neutral", "skipped":
			state = "SUCCESS"
		case "":
		default:
			state = "FAILURE"
		}
		all = append(all, ctx{"CheckRun", func(cf *ast.Field, p []any) (any, bool) {
			switch cf.Name {
			case "name":
				return cr.name, true
			case "status":
				return strings.ToUpper(cr.status), true
			case "conclusion":
				if cr.conclusion == "" {
					return nil, true
				}
				return strings.ToUpper(cr.conclusion), true
			case "startedAt":
				return ts(cr.started), true
			case "completedAt":
				return ts(cr.completed), true
			case "detailsUrl":
				if cr.detailsURL == "" {
					return nil, true
				}
				return cr.detailsURL, true
			case "checkSuite":
				return g.object("CheckSuite", cf.SelectionSet, p, func(sf *ast.Field, _ []any) (any, bool) {
					return nil, sf.Name == "workflowRun"
				}), true
			}
			return nil, false
		}, state})
	}
	if len(all) == 0 {
		return nil
	}
	overall := "SUCCESS"
	for _, c := range all {
		if c.state == "FAILURE" {
			overall = "FAILURE"
		} else if c.state == "PENDING" && overall != "FAILURE" {
			overall = "PENDING"
		}
	}
	return g.object("StatusCheckRollup", f.SelectionSet, path, func(sf *ast.Field, p []any) (any, bool) {
		switch sf.Name {
		case "state":
			return overall, true
		case "contexts":
			return g.object("StatusCheckRollupContextConnection", sf.SelectionSet, p, func(cf *ast.Field, cp []any) (any, bool) {
				switch cf.Name {
				case "totalCount":
					return len(all), true
				case "nodes":
					out := []obj{}
					for i, c := range all {
						out = append(out, g.object(c.typename, cf.SelectionSet, append(slices.Clone(cp), i), c.res))
					}
					return out, true
				case "pageInfo":
					return g.object("PageInfo", cf.SelectionSet, cp, func(pf *ast.Field, _ []any) (any, bool) {
						switch pf.Name {
						case "hasNextPage":
							return false, true
						case "endCursor":
							return nil, true
						}
						return nil, false
					}), true
				}
				return nil, false
			}), true
		}
		return nil, false
	})
}
