package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/vcs"
)

// GetRepo returns the repository with its default branch, visibility and
// installation id.
func (c *Client) GetRepo(ctx context.Context, repo vcs.Repo) (vcs.Repo, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return vcs.Repo{}, err
	}
	r, _, err := in.api().Repositories.Get(ctx, repo.Owner, repo.Name)
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
	if err := checkTraversal(url.PathEscape(branch)); err != nil { // as go-github escapes it
		return "", wrapErr(fmt.Sprintf("get branch %s of %s", branch, repo.FullName()), err)
	}
	// GetBranch follows one 301 (a renamed branch) itself: same host only.
	b, _, err := in.rest.apiHostClient().Repositories.GetBranch(ctx, repo.Owner, repo.Name, branch, 1)
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
	file, dir, err := in.getContents(ctx, repo, path, ref)
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
		b, _, err := in.api().Git.GetBlobRaw(ctx, repo.Owner, repo.Name, file.GetSHA())
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

// getContents is GET /repos/{o}/{r}/contents/{path}?ref=, as go-github's
// RepositoriesService.GetContents makes it, but without v60's refusal of
// any path containing "..", which would make a file such as "v1..2.tf"
// unreadable; only a ".." segment is refused (gh.ErrPathForbidden), as
// later go-github versions do. It returns the file, or the directory's
// entries.
func (in *installation) getContents(ctx context.Context, repo vcs.Repo, path, ref string) (*gh.RepositoryContent, []*gh.RepositoryContent, error) {
	escaped := (&url.URL{Path: strings.TrimSuffix(path, "/")}).String()
	if err := checkTraversal(escaped); err != nil {
		return nil, nil, err
	}
	u := fmt.Sprintf("repos/%s/%s/contents/%s", repo.Owner, repo.Name, escaped)
	if ref != "" {
		u += "?" + url.Values{"ref": {ref}}.Encode()
	}
	var raw json.RawMessage
	if err := in.do(ctx, http.MethodGet, u, nil, &raw); err != nil {
		return nil, nil, err
	}
	var file *gh.RepositoryContent
	fileErr := json.Unmarshal(raw, &file)
	if fileErr == nil {
		return file, nil, nil
	}
	var dir []*gh.RepositoryContent
	dirErr := json.Unmarshal(raw, &dir)
	if dirErr == nil {
		return nil, dir, nil
	}
	return nil, nil, fmt.Errorf("unmarshaling failed for both file and directory content: %v and %v", fileErr, dirErr)
}

// permissionLevel is the answer of GET
// /repos/{o}/{r}/collaborators/{user}/permission. go-github v60's
// RepositoryPermissionLevel has no role_name.
type permissionLevel struct {
	Permission string `json:"permission"`
	RoleName   string `json:"role_name"`
}

// UserPermission returns user's permission on repo. GitHub's "permission"
// folds maintain into write and triage into read; the real role, when it
// is one of the built-in ones, comes from "role_name".
func (c *Client) UserPermission(ctx context.Context, repo vcs.Repo, user string) (vcs.Permission, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return vcs.PermissionNone, err
	}
	op := fmt.Sprintf("permission of %s on %s", user, repo.FullName())
	if err := checkTraversal(user); err != nil {
		return vcs.PermissionNone, wrapErr(op, err)
	}
	var p permissionLevel
	if err := in.do(ctx, http.MethodGet, fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", repo.Owner, repo.Name, user), nil, &p); err != nil {
		return vcs.PermissionNone, wrapErr(op, err)
	}
	if role := vcs.Permission(p.RoleName); vcs.ValidPermission(role) {
		return role, nil
	}
	if perm := vcs.Permission(p.Permission); vcs.ValidPermission(perm) {
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
	op := fmt.Sprintf("membership of %s in %s/%s", user, org, teamSlug)
	if err := checkTraversal(org, teamSlug, user); err != nil {
		return false, wrapErr(op, err)
	}
	m, _, err := in.api().Teams.GetTeamMembershipBySlug(ctx, org, teamSlug, user)
	if statusOf(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, wrapErr(op, err)
	}
	return m.GetState() == "active", nil
}

// RequiredStatusChecks returns the status check contexts the branch's
// protection requires (none for an unprotected branch). It reads them from
// the branch itself, which needs only contents: read, where the
// protection endpoints need administration: read.
func (c *Client) RequiredStatusChecks(ctx context.Context, repo vcs.Repo, branch string) ([]string, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("required checks of %s in %s", branch, repo.FullName())
	esc := url.PathEscape(branch)
	if err := checkTraversal(esc); err != nil {
		return nil, wrapErr(what, err)
	}
	cl := in.rest.apiHostClient()
	req, err := cl.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/branches/%s", url.PathEscape(repo.Owner), url.PathEscape(repo.Name), esc), nil)
	if err != nil {
		return nil, wrapErr(what, err)
	}
	var b struct {
		Protected  bool `json:"protected"`
		Protection struct {
			RequiredStatusChecks struct {
				Contexts []string `json:"contexts"`
				Checks   []struct {
					Context string `json:"context"`
				} `json:"checks"`
			} `json:"required_status_checks"`
		} `json:"protection"`
	}
	if _, err := cl.Do(ctx, req, &b); err != nil {
		return nil, wrapErr(what, err)
	}
	if !b.Protected {
		return nil, nil
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range b.Protection.RequiredStatusChecks.Contexts {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, c := range b.Protection.RequiredStatusChecks.Checks {
		if !seen[c.Context] {
			seen[c.Context] = true
			out = append(out, c.Context)
		}
	}
	return out, nil
}
