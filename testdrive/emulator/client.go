package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Control is the Go client of the emulator's control API (/_testdrive/).
// BaseURL is the emulator's base URL ("http://127.0.0.1:PORT"); HTTP
// defaults to http.DefaultClient. Repositories are named "owner/name".
type Control struct {
	BaseURL string
	HTTP    *http.Client
}

// CreateRepo asks for a repository with one commit holding Files (a
// README when empty). DefaultBranch defaults to "main".
type CreateRepo struct {
	Owner         string            `json:"owner"`
	Name          string            `json:"name"`
	Private       bool              `json:"private,omitempty"`
	DefaultBranch string            `json:"default_branch,omitempty"`
	Files         map[string]string `json:"files,omitempty"`
}

// RepoInfo describes a created repository.
type RepoInfo struct {
	FullName      string `json:"full_name"`
	DefaultBranch string `json:"default_branch"`
	HeadSHA       string `json:"head_sha"`
}

// Commit asks for one commit on Branch (default: the default branch),
// creating the branch from From (a branch or sha; default: the default
// branch) when it does not exist. A nil file content deletes the file.
type Commit struct {
	Repo    string             `json:"-"`
	Branch  string             `json:"branch,omitempty"`
	From    string             `json:"from,omitempty"`
	Author  string             `json:"author"`
	Message string             `json:"message,omitempty"`
	Files   map[string]*string `json:"files"`
	// Symlinks are symbolic links to commit (mode 120000): path -> target.
	Symlinks map[string]string `json:"symlinks,omitempty"`
}

// OpenPR asks for a pull request from Head into Base (default: the
// default branch), opened by Author. With Fork (a login), the head branch
// is shown as living in Fork's fork of the repository (FORK/NAME), as for
// a pull request from a fork; its commits stay in the repository.
type OpenPR struct {
	Repo   string `json:"-"`
	Head   string `json:"head"`
	Base   string `json:"base,omitempty"`
	Title  string `json:"title,omitempty"`
	Author string `json:"author"`
	Body   string `json:"body,omitempty"`
	Draft  bool   `json:"draft,omitempty"`
	Fork   string `json:"fork,omitempty"`
}

// OpenIssue asks for a plain issue.
type OpenIssue struct {
	Repo   string   `json:"-"`
	Title  string   `json:"title"`
	Body   string   `json:"body,omitempty"`
	Author string   `json:"author"`
	Labels []string `json:"labels,omitempty"`
}

// Comment is a comment by a person on an issue or pull request.
type Comment struct {
	Repo   string `json:"-"`
	Number int    `json:"-"`
	Author string `json:"author"`
	Body   string `json:"body"`
}

// CommentState is a comment as the emulator holds it, minimized or not.
type CommentState struct {
	ID              int64    `json:"id"`
	NodeID          string   `json:"node_id"`
	Number          int      `json:"number"`
	Author          string   `json:"author"`
	Body            string   `json:"body"`
	IsMinimized     bool     `json:"is_minimized"`
	MinimizedReason string   `json:"minimized_reason,omitempty"`
	Reactions       []string `json:"reactions"`
	// Updated is when the body was last set (created or edited), to the
	// nanosecond: the REST API's updated_at has GitHub's whole seconds.
	Updated time.Time `json:"updated"`
}

// Review is a pull request review; State is APPROVED, CHANGES_REQUESTED or
// COMMENTED. GitHub refuses approving or requesting changes on one's own
// pull request (422).
type Review struct {
	Repo   string `json:"-"`
	Number int    `json:"-"`
	Author string `json:"author"`
	State  string `json:"state"`
	Body   string `json:"body,omitempty"`
}

// DismissReview dismisses review ID of a pull request, as Author (a
// maintainer) would on GitHub's page.
type DismissReview struct {
	Repo   string `json:"-"`
	Number int    `json:"-"`
	ID     int64  `json:"-"`
	Author string `json:"author"`
}

// Merge merges a pull request as Author would on GitHub's page. Method
// is merge (default), squash or rebase; SHA, when set, must be the head.
type Merge struct {
	Repo   string `json:"-"`
	Number int    `json:"-"`
	Author string `json:"author"`
	Method string `json:"method,omitempty"`
	SHA    string `json:"sha,omitempty"`
}

// ClosePR closes a pull request without merging.
type ClosePR struct {
	Repo   string `json:"-"`
	Number int    `json:"-"`
	Author string `json:"author"`
}

// PRAction is a person acting on a pull request: reopening it, or
// marking a draft ready for review.
type PRAction struct {
	Repo   string `json:"-"`
	Number int    `json:"-"`
	Author string `json:"author"`
}

// EditComment edits a comment's body as Author (its author, or a
// maintainer) would on GitHub's page.
type EditComment struct {
	Repo   string `json:"-"`
	ID     int64  `json:"-"`
	Author string `json:"author"`
	Body   string `json:"body"`
}

// RateLimit makes the next Count API requests fail as GitHub's limits
// do: Status 403 (default) or 429; with RetryAfter (seconds) or a
// Remaining above zero it is a secondary limit, else a primary one whose
// reset is ResetIn seconds away (default 60).
type RateLimit struct {
	Count      int `json:"count"`
	Status     int `json:"status,omitempty"`
	RetryAfter int `json:"retry_after,omitempty"`
	Remaining  int `json:"remaining,omitempty"`
	ResetIn    int `json:"reset_in,omitempty"`
}

// Error is a control API failure.
type Error struct {
	StatusCode int
	Message    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("emulator control: %d %s", e.StatusCode, e.Message)
}

func splitRepo(full string) (string, error) {
	o, n, ok := strings.Cut(full, "/")
	if !ok || o == "" || n == "" {
		return "", fmt.Errorf("emulator control: repository %q is not owner/name", full)
	}
	return url.PathEscape(o) + "/" + url.PathEscape(n), nil
}

// do sends one request; out, when non-nil, receives the JSON answer.
func (c *Control) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("emulator control: encode: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+"/_testdrive"+path, body)
	if err != nil {
		return fmt.Errorf("emulator control: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("emulator control: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("emulator control: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		if e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return &Error{StatusCode: resp.StatusCode, Message: e.Message}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("emulator control: decode answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// CreateRepo creates a repository (and its organization and App
// installation on first use) and sends installation (or
// installation_repositories) and push webhooks.
func (c *Control) CreateRepo(ctx context.Context, in CreateRepo) (RepoInfo, error) {
	var out RepoInfo
	err := c.do(ctx, http.MethodPost, "/repos", in, &out)
	return out, err
}

// Commit pushes one commit and returns its sha; it sends push, and
// pull_request synchronize for the branch's open pull requests.
func (c *Control) Commit(ctx context.Context, in Commit) (string, error) {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return "", err
	}
	var out struct {
		SHA string `json:"sha"`
	}
	err = c.do(ctx, http.MethodPost, "/repos/"+p+"/commits", in, &out)
	return out.SHA, err
}

// OpenPR opens a pull request and returns its number; it sends
// pull_request opened.
func (c *Control) OpenPR(ctx context.Context, in OpenPR) (int, error) {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return 0, err
	}
	var out struct {
		Number int `json:"number"`
	}
	err = c.do(ctx, http.MethodPost, "/repos/"+p+"/pulls", in, &out)
	return out.Number, err
}

// OpenIssue opens a plain issue and returns its number; it sends issues
// opened.
func (c *Control) OpenIssue(ctx context.Context, in OpenIssue) (int, error) {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return 0, err
	}
	var out struct {
		Number int `json:"number"`
	}
	err = c.do(ctx, http.MethodPost, "/repos/"+p+"/issues", in, &out)
	return out.Number, err
}

// Comment posts a comment and returns its id; it sends issue_comment
// created.
func (c *Control) Comment(ctx context.Context, in Comment) (int64, error) {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return 0, err
	}
	var out struct {
		ID int64 `json:"id"`
	}
	err = c.do(ctx, http.MethodPost, fmt.Sprintf("/repos/%s/issues/%d/comments", p, in.Number), in, &out)
	return out.ID, err
}

// GetComment reads a comment's state, including whether it is minimized.
func (c *Control) GetComment(ctx context.Context, repo string, id int64) (CommentState, error) {
	var out CommentState
	p, err := splitRepo(repo)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, http.MethodGet, fmt.Sprintf("/repos/%s/comments/%d", p, id), nil, &out)
	return out, err
}

// Review submits a review and returns its id; it sends
// pull_request_review submitted.
func (c *Control) Review(ctx context.Context, in Review) (int64, error) {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return 0, err
	}
	var out struct {
		ID int64 `json:"id"`
	}
	err = c.do(ctx, http.MethodPost, fmt.Sprintf("/repos/%s/pulls/%d/reviews", p, in.Number), in, &out)
	return out.ID, err
}

// DismissReview dismisses a review; it sends pull_request_review
// dismissed.
func (c *Control) DismissReview(ctx context.Context, in DismissReview) error {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/repos/%s/pulls/%d/reviews/%d/dismiss", p, in.Number, in.ID), in, nil)
}

// Merge merges a pull request and returns the merge commit's sha; it
// sends pull_request closed (merged) and push to the base.
func (c *Control) Merge(ctx context.Context, in Merge) (string, error) {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return "", err
	}
	var out struct {
		SHA string `json:"sha"`
	}
	err = c.do(ctx, http.MethodPost, fmt.Sprintf("/repos/%s/pulls/%d/merge", p, in.Number), in, &out)
	return out.SHA, err
}

// ClosePR closes a pull request unmerged; it sends pull_request closed.
func (c *Control) ClosePR(ctx context.Context, in ClosePR) error {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/repos/%s/pulls/%d/close", p, in.Number), in, nil)
}

// ReopenPR reopens a pull request closed without merge; it sends
// pull_request reopened.
func (c *Control) ReopenPR(ctx context.Context, in PRAction) error {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/repos/%s/pulls/%d/reopen", p, in.Number), in, nil)
}

// ReadyForReview marks a draft pull request ready for review; it sends
// pull_request ready_for_review.
func (c *Control) ReadyForReview(ctx context.Context, in PRAction) error {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, fmt.Sprintf("/repos/%s/pulls/%d/ready", p, in.Number), in, nil)
}

// EditComment changes a comment's body; it sends issue_comment edited.
func (c *Control) EditComment(ctx context.Context, in EditComment) error {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPatch, fmt.Sprintf("/repos/%s/comments/%d", p, in.ID), in, nil)
}

// SetPermission gives user a role (read, triage, write, maintain, admin)
// on repo; it sends member added.
func (c *Control) SetPermission(ctx context.Context, repo, user, permission string) error {
	p, err := splitRepo(repo)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/repos/"+p+"/collaborators/"+url.PathEscape(user), map[string]string{"permission": permission}, nil)
}

// ProtectBranch sets the protection rule of a branch (replacing any).
func (c *Control) ProtectBranch(ctx context.Context, in BranchProtection) error {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/repos/"+p+"/branches/"+url.PathEscape(in.Branch)+"/protection", in, nil)
}

// ExternalCheck creates a check run of another CI on a commit.
func (c *Control) ExternalCheck(ctx context.Context, in ExternalCheck) error {
	p, err := splitRepo(in.Repo)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, "/repos/"+p+"/check-runs", in, nil)
}

// AddTeamMember adds user to org's team (created if needed); it sends
// membership added.
func (c *Control) AddTeamMember(ctx context.Context, org, team, user string) error {
	return c.do(ctx, http.MethodPut, "/orgs/"+url.PathEscape(org)+"/teams/"+url.PathEscape(team)+"/members/"+url.PathEscape(user), nil, nil)
}

// RemoveTeamMember removes user from org's team; it sends membership
// removed.
func (c *Control) RemoveTeamMember(ctx context.Context, org, team, user string) error {
	return c.do(ctx, http.MethodDelete, "/orgs/"+url.PathEscape(org)+"/teams/"+url.PathEscape(team)+"/members/"+url.PathEscape(user), nil, nil)
}

// Deliveries lists every webhook delivery so far, oldest first.
func (c *Control) Deliveries(ctx context.Context) ([]DeliveryInfo, error) {
	var out []DeliveryInfo
	err := c.do(ctx, http.MethodGet, "/deliveries?payload=1", nil, &out)
	return out, err
}

// Redeliver sends a delivery again, with the same X-GitHub-Delivery, and
// returns its new state.
func (c *Control) Redeliver(ctx context.Context, id string) (DeliveryInfo, error) {
	var out DeliveryInfo
	err := c.do(ctx, http.MethodPost, "/deliveries/"+url.PathEscape(id)+"/redeliver", nil, &out)
	return out, err
}

// ReplayDelivery sends a delivery's signed body again under a new
// X-GitHub-Delivery (a replay, as anyone who captured it can do) and
// returns the new delivery; it is sent asynchronously.
func (c *Control) ReplayDelivery(ctx context.Context, id string) (DeliveryInfo, error) {
	var out DeliveryInfo
	err := c.do(ctx, http.MethodPost, "/deliveries/"+url.PathEscape(id)+"/replay", nil, &out)
	return out, err
}

// PauseDeliveries holds every webhook until ResumeDeliveries.
func (c *Control) PauseDeliveries(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/deliveries/pause", nil, nil)
}

// ResumeDeliveries sends the webhooks PauseDeliveries held, in order.
func (c *Control) ResumeDeliveries(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/deliveries/resume", nil, nil)
}

// FlushDeliveries waits until every queued webhook has been tried.
func (c *Control) FlushDeliveries(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/deliveries/flush", nil, nil)
}

// Settings are the emulator's settings the control API changes.
type Settings struct {
	// RedeliverEach delivers every later webhook this many times (1 to
	// 100), each copy under a delivery id of its own.
	RedeliverEach int `json:"redeliver_each"`
}

// SetSettings changes the emulator's settings.
func (c *Control) SetSettings(ctx context.Context, in Settings) error {
	return c.do(ctx, http.MethodPut, "/settings", in, nil)
}

// ForceRateLimit makes the next API requests fail with a rate limit.
func (c *Control) ForceRateLimit(ctx context.Context, in RateLimit) error {
	return c.do(ctx, http.MethodPost, "/ratelimit", in, nil)
}

// UserToken makes a personal access token for the user login (created
// when missing), for tools that act as a bot user rather than an App.
func (c *Control) UserToken(ctx context.Context, login string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(login)+"/tokens", nil, &out)
	return out.Token, err
}
