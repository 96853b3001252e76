package github

import (
	"context"
	"errors"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/vcs"
)

// CreateIssue opens an issue (Title required; Body and Labels optional)
// and returns it with its number.
func (c *Client) CreateIssue(ctx context.Context, repo vcs.Repo, issue vcs.Issue) (vcs.Issue, error) {
	op := fmt.Sprintf("create issue %q in %s", issue.Title, repo.FullName())
	if issue.Title == "" {
		return vcs.Issue{}, errors.New(op + ": title is required")
	}
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return vcs.Issue{}, err
	}
	title, body := c.mask(issue.Title), c.mask(issue.Body)
	req := &gh.IssueRequest{Title: &title, Body: &body}
	if issue.Labels != nil {
		req.Labels = &issue.Labels
	}
	out, _, err := in.api().Issues.Create(ctx, repo.Owner, repo.Name, req)
	if err != nil {
		return vcs.Issue{}, wrapErr(op, err)
	}
	return toIssue(out), nil
}

// UpdateIssue changes an issue; nil fields of u are left alone and
// u.Labels, when non-nil, replaces the whole label set.
func (c *Client) UpdateIssue(ctx context.Context, repo vcs.Repo, number int, u vcs.IssueUpdate) error {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return err
	}
	req := &gh.IssueRequest{Title: c.maskPtr(u.Title), Body: c.maskPtr(u.Body), State: u.State, StateReason: u.StateReason}
	if u.Labels != nil {
		labels := u.Labels
		req.Labels = &labels
	}
	_, _, err = in.api().Issues.Edit(ctx, repo.Owner, repo.Name, number, req)
	return wrapErr(fmt.Sprintf("update issue %s#%d", repo.FullName(), number), err)
}

// ListIssues returns the issues of repo carrying label ("" for any) in
// state ("open", "closed" or "all"; "" means open). Pull requests are left
// out.
func (c *Client) ListIssues(ctx context.Context, repo vcs.Repo, label, state string) ([]vcs.Issue, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return nil, err
	}
	opts := gh.IssueListByRepoOptions{State: state}
	if label != "" {
		opts.Labels = []string{label}
	}
	is, err := paginate(ctx, func(o gh.ListOptions) ([]*gh.Issue, *gh.Response, error) {
		opts.ListOptions = o
		return in.api().Issues.ListByRepo(ctx, repo.Owner, repo.Name, &opts)
	})
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("list issues of %s", repo.FullName()), err)
	}
	out := []vcs.Issue{}
	for _, i := range is {
		if i == nil || i.IsPullRequest() {
			continue
		}
		out = append(out, toIssue(i))
	}
	return out, nil
}

// SetLabels adds and removes labels on an issue or pull request, leaving
// the others. Removing a label the issue does not carry is not an error.
func (c *Client) SetLabels(ctx context.Context, repo vcs.Repo, number int, add []string, remove []string) error {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return err
	}
	op := fmt.Sprintf("set labels on %s#%d", repo.FullName(), number)
	if len(add) > 0 {
		// The object form: GitHub's description documents only it
		// (go-github's AddLabelsToIssue sends a bare array).
		u := fmt.Sprintf("repos/%s/%s/issues/%d/labels", repo.Owner, repo.Name, number)
		if err := in.do(ctx, "POST", u, map[string][]string{"labels": add}, nil); err != nil {
			return wrapErr(op, err)
		}
	}
	for _, l := range remove {
		if err := checkTraversal(l); err != nil {
			return wrapErr(op, err)
		}
		_, err := in.api().Issues.RemoveLabelForIssue(ctx, repo.Owner, repo.Name, number, l)
		if err != nil && !errors.Is(wrapErr(op, err), ErrNotFound) {
			return wrapErr(op, err)
		}
	}
	return nil
}

// maskPtr masks *s; nil stays nil.
func (c *Client) maskPtr(s *string) *string {
	if s == nil {
		return nil
	}
	m := c.mask(*s)
	return &m
}
