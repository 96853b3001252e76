package github

import (
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/vcs"
)

// This file turns go-github's types into the neutral vcs ones. go-github's
// getters are nil-safe, so a payload missing a field gives a zero value,
// never a panic.

func toRepo(r *gh.Repository) vcs.Repo {
	owner := r.GetOwner().GetLogin()
	name := r.GetName()
	if owner == "" || name == "" {
		// Installation payloads list repositories without an owner object.
		if o, n, ok := strings.Cut(r.GetFullName(), "/"); ok {
			owner, name = o, n
		}
	}
	return vcs.Repo{
		Owner:         owner,
		Name:          name,
		DefaultBranch: r.GetDefaultBranch(),
		Private:       r.GetPrivate(),
	}
}

func toPushRepo(r *gh.PushEventRepository) vcs.Repo {
	owner := r.GetOwner().GetLogin()
	if owner == "" {
		owner = r.GetOwner().GetName() // push payloads name the owner both ways
	}
	name := r.GetName()
	if owner == "" || name == "" {
		if o, n, ok := strings.Cut(r.GetFullName(), "/"); ok {
			owner, name = o, n
		}
	}
	return vcs.Repo{
		Owner:         owner,
		Name:          name,
		DefaultBranch: r.GetDefaultBranch(),
		Private:       r.GetPrivate(),
	}
}

func toUser(u *gh.User) vcs.User {
	return vcs.User{Login: u.GetLogin(), Bot: strings.EqualFold(u.GetType(), "Bot")}
}

// toPullRequest converts a PR; repo is the base repository as the caller
// knows it (its InstallationID is kept).
func toPullRequest(repo vcs.Repo, p *gh.PullRequest) vcs.PullRequest {
	if base := p.GetBase().GetRepo(); base != nil {
		r := toRepo(base)
		if repo.Owner == "" {
			repo.Owner, repo.Name = r.Owner, r.Name
		}
		if repo.DefaultBranch == "" {
			repo.DefaultBranch = r.DefaultBranch
		}
		repo.Private = repo.Private || r.Private
	}
	headRepo := p.GetHead().GetRepo().GetFullName()
	if headRepo == "" && p.GetHead().GetRepo() == nil {
		// The fork was deleted. Name it after the head's owner so that
		// Fork() stays true for a PR that came from someone else.
		if login := p.GetHead().GetUser().GetLogin(); login != "" && !strings.EqualFold(login, repo.Owner) {
			headRepo = login + "/" + repo.Name
		}
	}
	pr := vcs.PullRequest{
		Repo:           repo,
		Number:         p.GetNumber(),
		Title:          p.GetTitle(),
		Author:         p.GetUser().GetLogin(),
		State:          p.GetState(),
		Merged:         p.GetMerged(),
		Draft:          p.GetDraft(),
		HTMLURL:        p.GetHTMLURL(),
		HeadSHA:        p.GetHead().GetSHA(),
		HeadRef:        p.GetHead().GetRef(),
		HeadRepo:       headRepo,
		BaseSHA:        p.GetBase().GetSHA(),
		BaseRef:        p.GetBase().GetRef(),
		Mergeable:      p.Mergeable,
		MergeableState: p.GetMergeableState(),
		UpdatedAt:      p.GetUpdatedAt().Time,
	}
	if pr.Merged {
		pr.MergeCommitSHA = p.GetMergeCommitSHA()
	}
	for _, l := range p.Labels {
		pr.Labels = append(pr.Labels, l.GetName())
	}
	return pr
}

func toComment(c *gh.IssueComment) vcs.Comment {
	return vcs.Comment{
		ID:        c.GetID(),
		NodeID:    c.GetNodeID(),
		Body:      c.GetBody(),
		Author:    toUser(c.GetUser()),
		HTMLURL:   c.GetHTMLURL(),
		CreatedAt: c.GetCreatedAt().Time,
	}
}

func toReview(r *gh.PullRequestReview) vcs.Review {
	return vcs.Review{
		ID:          r.GetID(),
		User:        r.GetUser().GetLogin(),
		State:       strings.ToUpper(r.GetState()),
		CommitID:    r.GetCommitID(),
		SubmittedAt: r.GetSubmittedAt().Time,
	}
}

func toCheckRun(c *gh.CheckRun) vcs.CheckRun {
	return vcs.CheckRun{
		ID:         c.GetID(),
		Name:       c.GetName(),
		HeadSHA:    c.GetHeadSHA(),
		Status:     c.GetStatus(),
		Conclusion: c.GetConclusion(),
		Title:      c.GetOutput().GetTitle(),
		Summary:    c.GetOutput().GetSummary(),
		Text:       c.GetOutput().GetText(),
		DetailsURL: c.GetDetailsURL(),
	}
}

func toIssue(i *gh.Issue) vcs.Issue {
	is := vcs.Issue{
		Number:  i.GetNumber(),
		Title:   i.GetTitle(),
		Body:    i.GetBody(),
		State:   i.GetState(),
		HTMLURL: i.GetHTMLURL(),
		Labels:  []string{},
	}
	for _, l := range i.Labels {
		is.Labels = append(is.Labels, l.GetName())
	}
	return is
}

func labelNames(ls []*gh.Label) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.GetName())
	}
	return out
}
