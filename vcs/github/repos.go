package github

import (
	"context"
	"fmt"
	"net/http"

	gh "github.com/google/go-github/v88/github"

	"github.com/atollhq/atoll/vcs"
)

// GetRepo returns the repository with its default branch, visibility and
// installation id.
func (c *Client) GetRepo(ctx context.Context, repo vcs.Repo) (vcs.Repo, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return vcs.Repo{}, err
	}
	r, _, err := in.gh.Repositories.Get(ctx, repo.Owner, repo.Name)
	if err != nil {
		return vcs.Repo{}, wrapErr("get repository "+repo.FullName(), err)
	}
	out := toRepo(r)
	out.InstallationID = in.id
	return out, nil
}

// BranchSHA returns the commit SHA a branch points at.
func (c *Client) BranchSHA(ctx context.Context, repo vcs.Repo, branch string) (string, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return "", err
	}
	b, _, err := in.gh.Repositories.GetBranch(ctx, repo.Owner, repo.Name, branch, 1)
	if err != nil {
		return "", wrapErr(fmt.Sprintf("get branch %s of %s", branch, repo.FullName()), err)
	}
	sha := b.GetCommit().GetSHA()
	if sha == "" {
		return "", fmt.Errorf("get branch %s of %s: answer has no commit", branch, repo.FullName())
	}
	return sha, nil
}

// ReadFile returns the content of path at ref (a branch, tag or SHA; ""
// is the default branch). A missing file wraps vcs.ErrNotFound; a
// directory is an error.
func (c *Client) ReadFile(ctx context.Context, repo vcs.Repo, ref, path string) ([]byte, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return nil, err
	}
	op := fmt.Sprintf("read %s@%s:%s", repo.FullName(), ref, path)
	file, dir, _, err := in.gh.Repositories.GetContents(ctx, repo.Owner, repo.Name, path, &gh.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		return nil, wrapErr(op, err)
	}
	if file == nil {
		if dir != nil {
			return nil, fmt.Errorf("%s: is a directory", op)
		}
		return nil, fmt.Errorf("%s: %w: empty answer", op, ErrNotFound)
	}
	if file.GetType() != "" && file.GetType() != "file" {
		return nil, fmt.Errorf("%s: is a %s, not a file", op, file.GetType())
	}
	if file.GetEncoding() == "none" || (file.Content == nil && file.GetSize() > 0) {
		// Over 1 MB the contents API sends no content: read the blob.
		b, _, err := in.gh.Git.GetBlobRaw(ctx, repo.Owner, repo.Name, file.GetSHA())
		if err != nil {
			return nil, wrapErr(op, err)
		}
		return b, nil
	}
	s, err := file.GetContent()
	if err != nil {
		return nil, fmt.Errorf("%s: decode: %w", op, err)
	}
	return []byte(s), nil
}

// UserPermission returns user's permission on repo. GitHub's "permission"
// folds maintain into write and triage into read; the real role, when it
// is one of the built-in ones, comes from "role_name".
func (c *Client) UserPermission(ctx context.Context, repo vcs.Repo, user string) (vcs.Permission, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return vcs.PermissionNone, err
	}
	p, _, err := in.gh.Repositories.GetPermissionLevel(ctx, repo.Owner, repo.Name, user)
	if err != nil {
		return vcs.PermissionNone, wrapErr(fmt.Sprintf("permission of %s on %s", user, repo.FullName()), err)
	}
	if role := vcs.Permission(p.GetRoleName()); vcs.ValidPermission(role) {
		return role, nil
	}
	if perm := vcs.Permission(p.GetPermission()); vcs.ValidPermission(perm) {
		return perm, nil
	}
	return vcs.PermissionNone, nil
}

// IsTeamMember reports whether user is an active member (or maintainer)
// of org's team teamSlug; a pending invitation is not membership. The
// request is made with repo's installation.
func (c *Client) IsTeamMember(ctx context.Context, repo vcs.Repo, org, teamSlug, user string) (bool, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return false, err
	}
	m, _, err := in.gh.Teams.GetTeamMembershipBySlug(ctx, org, teamSlug, user)
	if statusOf(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, wrapErr(fmt.Sprintf("membership of %s in %s/%s", user, org, teamSlug), err)
	}
	return m.GetState() == "active", nil
}
