package emulator

import (
	"fmt"
	"strings"
)

// Webhook payloads, shaped as GitHub sends them and as
// webhooks-schema.json describes them. Callers hold s.mu.

const zeroSHA = "0000000000000000000000000000000000000000"

// envelope adds what every repository event carries.
func (s *Server) envelope(u urls, rp *repo, sender *user, m obj) obj {
	m["repository"] = s.repoJSON(u, rp)
	m["organization"] = s.orgJSON(u, rp.owner)
	m["installation"] = installationLite(rp.owner.inst)
	m["sender"] = s.userJSON(u, sender)
	return m
}

func (s *Server) sendPullRequest(u urls, rp *repo, is *issue, action string, sender *user, st prStats, extra obj) {
	m := obj{"action": action, "number": is.number, "pull_request": s.pullJSON(u, rp, is, true, st)}
	for k, v := range extra {
		m[k] = v
	}
	s.hooks.send(rp.fullName(), "pull_request", s.envelope(u, rp, sender, m))
}

func (s *Server) sendReview(u urls, rp *repo, is *issue, rv *review, sender *user, st prStats) {
	s.sendReviewAction(u, rp, is, rv, sender, st, "submitted")
}

// sendReviewAction sends pull_request_review with action (submitted,
// dismissed).
func (s *Server) sendReviewAction(u urls, rp *repo, is *issue, rv *review, sender *user, st prStats, action string) {
	m := obj{"action": action, "review": s.reviewJSON(u, rp, is, rv, true), "pull_request": s.pullJSON(u, rp, is, false, st)}
	s.hooks.send(rp.fullName(), "pull_request_review", s.envelope(u, rp, sender, m))
}

func (s *Server) sendIssueComment(u urls, rp *repo, c *comment, action string, sender *user, changes obj) {
	m := obj{"action": action, "issue": s.issueJSON(u, rp, c.issue), "comment": s.commentJSON(u, c, false)}
	if changes != nil {
		m["changes"] = changes
	}
	s.hooks.send(rp.fullName(), "issue_comment", s.envelope(u, rp, sender, m))
}

func (s *Server) sendIssues(u urls, rp *repo, is *issue, action string, sender *user, extra obj) {
	m := obj{"action": action, "issue": s.issueJSON(u, rp, is)}
	for k, v := range extra {
		m[k] = v
	}
	s.hooks.send(rp.fullName(), "issues", s.envelope(u, rp, sender, m))
}

// sendPush sends a push of ref from before to after with its commits
// (oldest first, at most 20 as GitHub lists them).
func (s *Server) sendPush(u urls, rp *repo, ref, before, after string, commits []commitMeta, sender *user) {
	web := u.web + "/" + rp.fullName()
	cs := make([]obj, 0, len(commits))
	for _, c := range commits {
		cs = append(cs, pushCommitJSON(web, c, sender))
	}
	var head any
	if len(cs) > 0 {
		head = cs[len(cs)-1]
	}
	compare := fmt.Sprintf("%s/compare/%s...%s", web, before[:12], after[:12])
	if before == zeroSHA {
		compare = web + "/commit/" + after[:12]
	}
	m := obj{
		"ref": ref, "before": before, "after": after, "created": before == zeroSHA, "deleted": false,
		"forced": false, "base_ref": nil, "compare": compare, "commits": cs, "head_commit": head,
		"pusher": obj{"name": sender.login, "email": sender.login + "@users.noreply.github.com"},
	}
	s.hooks.send(rp.fullName(), "push", s.envelope(u, rp, sender, m))
}

func pushCommitJSON(web string, c commitMeta, sender *user) obj {
	nz := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return obj{
		"id": c.sha, "tree_id": c.tree, "distinct": true, "message": c.message,
		"timestamp": ts(c.committer.when), "url": web + "/commit/" + c.sha,
		"author":    obj{"name": c.author.name, "email": c.author.email, "date": ts(c.author.when), "username": strings.TrimSpace(c.author.name)},
		"committer": obj{"name": c.committer.name, "email": c.committer.email, "date": ts(c.committer.when), "username": strings.TrimSpace(c.committer.name)},
		"added":     nz(c.added), "removed": nz(c.removed), "modified": nz(c.modified),
	}
}

// sendInstallation announces a new installation (the first repository of
// an organization) or a repository added to one.
func (s *Server) sendInstallation(u urls, rp *repo, created bool, sender *user) {
	inst := rp.owner.inst
	if created {
		repos := make([]obj, 0, len(inst.repos))
		for _, r := range inst.repos {
			repos = append(repos, repoLiteJSON(r))
		}
		s.hooks.send(rp.fullName(), "installation", obj{
			"action": "created", "installation": s.installationJSON(u, inst), "repositories": repos,
			"requester": s.userJSON(u, sender), "sender": s.userJSON(u, sender),
		})
		return
	}
	s.hooks.send(rp.fullName(), "installation_repositories", obj{
		"action": "added", "installation": s.installationJSON(u, inst), "repository_selection": "all",
		"repositories_added": []obj{repoLiteJSON(rp)}, "repositories_removed": []obj{},
		"requester": nil, "sender": s.userJSON(u, sender),
	})
}

func (s *Server) sendMember(u urls, rp *repo, member *user, role string) {
	m := obj{"action": "added", "member": s.userJSON(u, member)}
	if role == "write" || role == "admin" {
		m["changes"] = obj{"permission": obj{"to": role}}
	}
	s.hooks.send(rp.fullName(), "member", s.envelope(u, rp, rp.owner.account, m))
}

// sendMembership sends membership with action "added" or "removed".
func (s *Server) sendMembership(u urls, o *org, t *team, member *user, action string) {
	api := u.api + "orgs/" + o.account.login + "/teams/" + t.slug
	s.hooks.send("org:"+o.account.login, "membership", obj{
		"action": action, "scope": "team", "member": s.userJSON(u, member),
		"sender": s.userJSON(u, o.account), "organization": s.orgJSON(u, o),
		"installation": installationLite(o.inst),
		"team": obj{
			"name": t.name, "id": t.id, "node_id": nodeID("T", t.id), "slug": t.slug, "description": nil,
			"privacy": "closed", "url": api, "html_url": u.web + "/orgs/" + o.account.login + "/teams/" + t.slug,
			"members_url": api + "/members{/member}", "repositories_url": api + "/repos",
			"permission": "pull", "parent": nil, "notification_setting": "notifications_enabled",
		},
	})
}
