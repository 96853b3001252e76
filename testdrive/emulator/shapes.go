package emulator

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The JSON GitHub sends. Each builder gives exactly the properties of the
// webhook schema's definition (whose objects forbid other properties) and
// every property the REST schema requires; REST-only fields are added by the
// callers that serve REST. Callers hold s.mu.

type obj = map[string]any

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// nodeID makes a GraphQL global id: a type prefix and the database id.
func nodeID(prefix string, id int64) string {
	return prefix + "_" + base64.RawURLEncoding.EncodeToString([]byte("0:"+strconv.FormatInt(id, 10)))
}

// parseNodeID reverses nodeID.
func parseNodeID(s string) (prefix string, id int64, ok bool) {
	prefix, enc, found := strings.Cut(s, "_")
	if !found {
		return "", 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !strings.HasPrefix(string(b), "0:") {
		return "", 0, false
	}
	id, err = strconv.ParseInt(string(b[2:]), 10, 64)
	return prefix, id, err == nil
}

func (s *Server) userJSON(u urls, x *user) obj {
	if x == nil {
		return nil
	}
	api := u.api + "users/" + x.login
	prefix := "U"
	switch x.typ {
	case "Bot":
		prefix = "BOT"
	case "Organization":
		prefix = "O"
	}
	return obj{
		"login": x.login, "id": x.id, "node_id": nodeID(prefix, x.id),
		"avatar_url":          fmt.Sprintf("%s/avatars/u/%d?v=4", u.web, x.id),
		"gravatar_id":         "",
		"url":                 api,
		"html_url":            u.web + "/" + strings.TrimSuffix(x.login, "[bot]"),
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"type":                x.typ,
		"site_admin":          false,
	}
}

// orgJSON is the webhook "organization" object.
func (s *Server) orgJSON(u urls, o *org) obj {
	api := u.api + "orgs/" + o.account.login
	return obj{
		"login": o.account.login, "id": o.account.id, "node_id": nodeID("O", o.account.id),
		"url": api, "repos_url": api + "/repos", "events_url": api + "/events",
		"hooks_url": api + "/hooks", "issues_url": api + "/issues",
		"members_url": api + "/members{/member}", "public_members_url": api + "/public_members{/member}",
		"avatar_url":  fmt.Sprintf("%s/avatars/u/%d?v=4", u.web, o.account.id),
		"description": nil,
	}
}

func repoURL(u urls, r *repo) string { return u.api + "repos/" + r.fullName() }

// repoJSON is the webhook "repository" object (also valid REST
// "repository").
func (s *Server) repoJSON(u urls, r *repo) obj {
	api := repoURL(u, r)
	html := u.web + "/" + r.fullName()
	visibility := "public"
	if r.private {
		visibility = "private"
	}
	issues := 0
	for _, is := range r.issues {
		if is.state == "open" {
			issues++
		}
	}
	return obj{
		"id": r.id, "node_id": nodeID("R", r.id), "name": r.name, "full_name": r.fullName(),
		"private": r.private, "owner": s.userJSON(u, r.owner.account), "html_url": html,
		"description": nil, "fork": false, "url": api,
		"forks_url": api + "/forks", "keys_url": api + "/keys{/key_id}",
		"collaborators_url": api + "/collaborators{/collaborator}", "teams_url": api + "/teams",
		"hooks_url": api + "/hooks", "issue_events_url": api + "/issues/events{/number}",
		"events_url": api + "/events", "assignees_url": api + "/assignees{/user}",
		"branches_url": api + "/branches{/branch}", "tags_url": api + "/tags",
		"blobs_url": api + "/git/blobs{/sha}", "git_tags_url": api + "/git/tags{/sha}",
		"git_refs_url": api + "/git/refs{/sha}", "trees_url": api + "/git/trees{/sha}",
		"statuses_url": api + "/statuses/{sha}", "languages_url": api + "/languages",
		"stargazers_url": api + "/stargazers", "contributors_url": api + "/contributors",
		"subscribers_url": api + "/subscribers", "subscription_url": api + "/subscription",
		"commits_url": api + "/commits{/sha}", "git_commits_url": api + "/git/commits{/sha}",
		"comments_url": api + "/comments{/number}", "issue_comment_url": api + "/issues/comments{/number}",
		"contents_url": api + "/contents/{+path}", "compare_url": api + "/compare/{base}...{head}",
		"merges_url": api + "/merges", "archive_url": api + "/{archive_format}{/ref}",
		"downloads_url": api + "/downloads", "issues_url": api + "/issues{/number}",
		"pulls_url": api + "/pulls{/number}", "milestones_url": api + "/milestones{/number}",
		"notifications_url": api + "/notifications{?since,all,participating}",
		"labels_url":        api + "/labels{/name}", "releases_url": api + "/releases{/id}",
		"deployments_url": api + "/deployments",
		"created_at":      ts(r.created), "updated_at": ts(r.pushed), "pushed_at": ts(r.pushed),
		"git_url":   "git://" + strings.TrimPrefix(strings.TrimPrefix(u.web, "http://"), "https://") + "/" + r.fullName() + ".git",
		"ssh_url":   "git@" + strings.TrimPrefix(strings.TrimPrefix(u.web, "http://"), "https://") + ":" + r.fullName() + ".git",
		"clone_url": html + ".git", "svn_url": html, "homepage": nil, "size": 0,
		"stargazers_count": 0, "watchers_count": 0, "language": nil,
		"has_issues": true, "has_projects": false, "has_downloads": true, "has_wiki": false,
		"has_pages": false, "has_discussions": false, "forks_count": 0, "mirror_url": nil,
		"archived": false, "disabled": false, "open_issues_count": issues, "license": nil,
		"forks": 0, "open_issues": issues, "watchers": 0, "default_branch": r.defaultBranch,
		"allow_squash_merge": true, "allow_merge_commit": true, "allow_rebase_merge": true,
		"allow_auto_merge": false, "delete_branch_on_merge": false, "allow_forking": true,
		"is_template": false, "web_commit_signoff_required": false, "topics": []string{},
		"visibility": visibility, "custom_properties": obj{},
	}
}

// fullRepoJSON is REST's "full-repository".
func (s *Server) fullRepoJSON(u urls, r *repo) obj {
	m := s.repoJSON(u, r)
	m["subscribers_count"] = 0
	m["network_count"] = 0
	m["organization"] = s.userJSON(u, r.owner.account)
	return m
}

// repoLiteJSON is the short repository of installation webhooks.
func repoLiteJSON(r *repo) obj {
	return obj{"id": r.id, "node_id": nodeID("R", r.id), "name": r.name, "full_name": r.fullName(), "private": r.private}
}

func installationLite(inst *installation) obj {
	return obj{"id": inst.id, "node_id": nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", inst.id)}
}

var appPermissions = obj{
	"checks": "write", "contents": "write", "issues": "write", "metadata": "read",
	"pull_requests": "write", "members": "read", "statuses": "write",
}

var appEvents = []string{"check_run", "issue_comment", "issues", "pull_request", "pull_request_review", "push"}

// installationJSON is the "installation" object (REST and webhooks).
func (s *Server) installationJSON(u urls, inst *installation) obj {
	return obj{
		"id": inst.id, "account": s.userJSON(u, inst.account), "repository_selection": "all",
		"access_tokens_url": fmt.Sprintf("%sapp/installations/%d/access_tokens", u.api, inst.id),
		"repositories_url":  u.api + "installation/repositories",
		"html_url":          fmt.Sprintf("%s/organizations/%s/settings/installations/%d", u.web, inst.account.login, inst.id),
		"app_id":            s.ident().id, "app_slug": s.ident().slug, "target_id": inst.account.id,
		"target_type": inst.account.typ, "permissions": s.ident().perms(), "events": s.ident().eventList(),
		"created_at": ts(inst.created), "updated_at": ts(inst.created),
		"single_file_name": nil, "has_multiple_single_files": false, "single_file_paths": []string{},
		"suspended_by": nil, "suspended_at": nil,
	}
}

// appJSON is the App ("integration" in REST, "app" in webhooks).
func (s *Server) appJSON(u urls) obj {
	app := s.ident()
	return obj{
		"id": app.id, "slug": app.slug, "node_id": nodeID("A", app.id),
		"owner": s.userJSON(u, s.appOwner), "name": app.name, "description": app.description,
		"external_url": app.url(u), "html_url": u.web + "/apps/" + app.slug,
		"created_at": ts(s.created), "updated_at": ts(s.created),
		"permissions": app.perms(), "events": app.eventList(),
	}
}

func labelJSON(u urls, r *repo, l *label) obj {
	var desc any
	if l.description != "" {
		desc = l.description
	}
	return obj{
		"id": l.id, "node_id": nodeID("LA", l.id), "url": repoURL(u, r) + "/labels/" + escapePath(l.name),
		"name": l.name, "color": l.color, "default": false, "description": desc,
	}
}

func labelsJSON(u urls, r *repo, ls []*label) []obj {
	out := make([]obj, 0, len(ls))
	for _, l := range ls {
		out = append(out, labelJSON(u, r, l))
	}
	return out
}

func reactionsJSON(url string, rs []*reaction) obj {
	m := obj{"url": url + "/reactions", "total_count": len(rs)}
	for _, c := range reactionContents {
		m[c] = 0
	}
	for _, x := range rs {
		m[x.content] = m[x.content].(int) + 1
	}
	return m
}

var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

func issueURL(u urls, r *repo, is *issue) string {
	return fmt.Sprintf("%s/issues/%d", repoURL(u, r), is.number)
}

func issueHTML(u urls, r *repo, is *issue) string {
	kind := "issues"
	if is.pr != nil {
		kind = "pull"
	}
	return fmt.Sprintf("%s/%s/%s/%d", u.web, r.fullName(), kind, is.number)
}

// issueJSON is the "issue" object (REST and webhooks); pull requests carry
// the pull_request key.
func (s *Server) issueJSON(u urls, r *repo, is *issue) obj {
	api := issueURL(u, r, is)
	var reason any
	if is.stateReason != "" {
		reason = is.stateReason
	}
	var via any
	if is.viaApp {
		via = s.appJSON(u)
	}
	var body any
	if is.body != "" {
		body = is.body
	}
	m := obj{
		"url": api, "repository_url": repoURL(u, r), "labels_url": api + "/labels{/name}",
		"comments_url": api + "/comments", "events_url": api + "/events", "html_url": issueHTML(u, r, is),
		"id": is.id, "node_id": nodeID("I", is.id), "number": is.number, "title": is.title,
		"user": s.userJSON(u, is.user), "labels": labelsJSON(u, r, is.labels), "state": is.state,
		"locked": false, "assignee": nil, "assignees": []obj{}, "milestone": nil,
		"comments": len(is.comments), "created_at": ts(is.created), "updated_at": ts(is.updated),
		"closed_at": ts(is.closed), "author_association": s.association(r, is.user),
		"active_lock_reason": nil, "body": body, "reactions": reactionsJSON(api, nil),
		"timeline_url": api + "/timeline", "performed_via_github_app": via, "state_reason": reason,
	}
	if is.pr != nil {
		m["draft"] = is.pr.draft
		m["pull_request"] = obj{
			"url":      fmt.Sprintf("%s/pulls/%d", repoURL(u, r), is.number),
			"html_url": issueHTML(u, r, is), "diff_url": issueHTML(u, r, is) + ".diff",
			"patch_url": issueHTML(u, r, is) + ".patch", "merged_at": ts(is.pr.mergedAt),
		}
	}
	return m
}

// commentJSON is the "issue-comment" object; rest adds REST-only fields.
func (s *Server) commentJSON(u urls, c *comment, rest bool) obj {
	api := fmt.Sprintf("%s/issues/comments/%d", repoURL(u, c.repo), c.id)
	var via any
	if c.viaApp {
		via = s.appJSON(u)
	}
	m := obj{
		"url": api, "html_url": fmt.Sprintf("%s#issuecomment-%d", issueHTML(u, c.repo, c.issue), c.id),
		"issue_url": issueURL(u, c.repo, c.issue), "id": c.id, "node_id": nodeID("IC", c.id),
		"user": s.userJSON(u, c.user), "created_at": ts(c.created), "updated_at": ts(c.updated),
		"author_association": s.association(c.repo, c.user), "body": c.body,
		"reactions": reactionsJSON(api, c.reactions), "performed_via_github_app": via,
	}
	if rest {
		if c.minimized != "" {
			m["minimized"] = obj{"reason": c.minimized}
		} else {
			m["minimized"] = nil
		}
	}
	return m
}
