package github

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/vcs"
)

// maxPRFiles is GitHub's cap on the files the PR files endpoint lists.
const maxPRFiles = 3000

// GetPullRequest returns one pull request. Mergeable is nil while GitHub
// still computes it: ask again later.
func (c *Client) GetPullRequest(ctx context.Context, repo vcs.Repo, number int) (vcs.PullRequest, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return vcs.PullRequest{}, err
	}
	p, _, err := in.api().PullRequests.Get(ctx, repo.Owner, repo.Name, number)
	if err != nil {
		return vcs.PullRequest{}, wrapErr(fmt.Sprintf("get pull request %s#%d", repo.FullName(), number), err)
	}
	return toPullRequest(withInstallation(repo, in), p), nil
}

// ListOpenPullRequests returns every open pull request of repo.
func (c *Client) ListOpenPullRequests(ctx context.Context, repo vcs.Repo) ([]vcs.PullRequest, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return nil, err
	}
	ps, err := paginate(ctx, func(o gh.ListOptions) ([]*gh.PullRequest, *gh.Response, error) {
		return in.api().PullRequests.List(ctx, repo.Owner, repo.Name, &gh.PullRequestListOptions{State: "open", ListOptions: o})
	})
	if err != nil {
		return nil, wrapErr("list open pull requests of "+repo.FullName(), err)
	}
	repo = withInstallation(repo, in)
	out := make([]vcs.PullRequest, 0, len(ps))
	for _, p := range ps {
		out = append(out, toPullRequest(repo, p))
	}
	return out, nil
}

// ListPullRequestFiles returns the paths a pull request changes; a renamed
// file gives both its old and its new path. complete is false when the PR
// changes more files than GitHub lists (3000): the caller must then diff
// with git.
func (c *Client) ListPullRequestFiles(ctx context.Context, repo vcs.Repo, number int) (files []string, complete bool, err error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return nil, false, err
	}
	op := fmt.Sprintf("list files of %s#%d", repo.FullName(), number)
	fs, err := paginate(ctx, func(o gh.ListOptions) ([]*gh.CommitFile, *gh.Response, error) {
		return in.api().PullRequests.ListFiles(ctx, repo.Owner, repo.Name, number, &o)
	})
	if err != nil {
		return nil, false, wrapErr(op, err)
	}
	seen := make(map[string]bool, len(fs))
	for _, f := range fs {
		for _, name := range []string{f.GetPreviousFilename(), f.GetFilename()} {
			if name != "" && !seen[name] {
				seen[name] = true
				files = append(files, name)
			}
		}
	}
	if len(fs) < maxPRFiles {
		return files, true, nil
	}
	// At the cap: complete only if the PR really has that many files.
	p, _, err := in.api().PullRequests.Get(ctx, repo.Owner, repo.Name, number)
	if err != nil {
		return nil, false, wrapErr(op, err)
	}
	return files, p.GetChangedFiles() <= len(fs), nil
}

// MergePullRequest merges a pull request with method ("merge", "squash"
// or "rebase"; "" is GitHub's default), guarded by sha when non-empty, and
// returns the merge commit's SHA. ErrNotMergeable (405) and ErrHeadChanged
// (409) are wrapped when GitHub refuses.
func (c *Client) MergePullRequest(ctx context.Context, repo vcs.Repo, number int, method, sha string) (string, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return "", err
	}
	op := fmt.Sprintf("merge %s#%d", repo.FullName(), number)
	res, _, err := in.api().PullRequests.Merge(ctx, repo.Owner, repo.Name, number, "", &gh.PullRequestOptions{MergeMethod: method, SHA: sha})
	switch statusOf(err) {
	case http.StatusMethodNotAllowed:
		return "", fmt.Errorf("%s: %w: %w", op, ErrNotMergeable, err)
	case http.StatusConflict:
		return "", fmt.Errorf("%s: %w: %w", op, ErrHeadChanged, err)
	}
	if err != nil {
		return "", wrapErr(op, err)
	}
	if !res.GetMerged() {
		return "", fmt.Errorf("%s: %w: %s", op, ErrNotMergeable, res.GetMessage())
	}
	return res.GetSHA(), nil
}

// DeleteBranch deletes branch of repo (GitHub's "Delete a reference" on
// heads/branch). A branch already gone is not an error.
func (c *Client) DeleteBranch(ctx context.Context, repo vcs.Repo, branch string) error {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return err
	}
	_, err = in.api().Git.DeleteRef(ctx, repo.Owner, repo.Name, "heads/"+branch)
	if statusOf(err) == http.StatusUnprocessableEntity && strings.Contains(err.Error(), "Reference does not exist") {
		return nil
	}
	return wrapErr(fmt.Sprintf("delete branch %s of %s", branch, repo.FullName()), err)
}

// ListReviews returns a pull request's reviews in chronological order,
// states upper case. Each user's latest review is the one that counts;
// reducing to it is the caller's job.
func (c *Client) ListReviews(ctx context.Context, repo vcs.Repo, number int) ([]vcs.Review, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return nil, err
	}
	rs, err := paginate(ctx, func(o gh.ListOptions) ([]*gh.PullRequestReview, *gh.Response, error) {
		return in.api().PullRequests.ListReviews(ctx, repo.Owner, repo.Name, number, &o)
	})
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("list reviews of %s#%d", repo.FullName(), number), err)
	}
	out := make([]vcs.Review, 0, len(rs))
	for _, r := range rs {
		out = append(out, toReview(r))
	}
	return out, nil
}

// withInstallation returns repo with its resolved installation id.
func withInstallation(repo vcs.Repo, in *installation) vcs.Repo {
	repo.InstallationID = in.id
	return repo
}
