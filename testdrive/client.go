// Package testdrive is atoll's local demo and the toolkit its end-to-end
// tests share: a client that drives the GitHub emulator as a user drives
// GitHub (through the control API) and reads what atoll did the way a user
// would (through the GitHub REST API and atoll's own API). The emulator
// itself is package testdrive/emulator. Production rooms never import
// this package.
package testdrive

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

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// Client drives the emulator and reads GitHub and atoll like a user.
type Client struct {
	Control  *emulator.Control
	REST     *gh.Client
	AtollURL string
	APIToken string
	// Poll is how often Wait* look again (default 200ms).
	Poll time.Duration
}

// NewClient returns a Client for an emulator and an atoll server.
func NewClient(githubURL, atollURL, apiToken string) (*Client, error) {
	rest := gh.NewClient(nil)
	u, err := url.Parse(strings.TrimSuffix(githubURL, "/") + "/")
	if err != nil {
		return nil, err
	}
	rest.BaseURL = u
	return &Client{Control: &emulator.Control{BaseURL: githubURL}, REST: rest, AtollURL: atollURL,
		APIToken: apiToken, Poll: 200 * time.Millisecond}, nil
}

// Comment is an issue or PR comment as a reader sees it.
type Comment struct {
	ID     int64
	Author string
	Body   string
}

func splitFull(repo string) (string, string) {
	o, n, _ := strings.Cut(repo, "/")
	return o, n
}

// Comments lists every comment on an issue or PR, oldest first.
func (c *Client) Comments(ctx context.Context, repo string, number int) ([]Comment, error) {
	owner, name := splitFull(repo)
	var out []Comment
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.REST.Issues.ListComments(ctx, owner, name, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of %s#%d: %w", repo, number, err)
		}
		for _, cm := range page {
			out = append(out, Comment{ID: cm.GetID(), Author: cm.GetUser().GetLogin(), Body: cm.GetBody()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// WaitComment waits until a comment by atoll on repo#number, newer than
// after (a comment id; 0 for any), satisfies match, and returns it. A
// comment atoll edits in place is looked at again on every poll.
func (c *Client) WaitComment(ctx context.Context, repo string, number int, after int64, timeout time.Duration, match func(body string) bool) (Comment, error) {
	deadline := time.Now().Add(timeout)
	var last []Comment
	for {
		comments, err := c.Comments(ctx, repo, number)
		if err == nil {
			last = comments
			for _, cm := range comments {
				if cm.ID > after && strings.HasSuffix(cm.Author, "[bot]") && match(cm.Body) {
					return cm, nil
				}
			}
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, cm := range last {
				if cm.ID > after {
					seen = append(seen, fmt.Sprintf("--- %s (#%d):\n%s", cm.Author, cm.ID, cm.Body))
				}
			}
			return Comment{}, fmt.Errorf("no matching comment on %s#%d within %s; comments seen:\n%s", repo, number, timeout, strings.Join(seen, "\n"))
		}
		select {
		case <-ctx.Done():
			return Comment{}, ctx.Err()
		case <-time.After(c.Poll):
		}
	}
}

// Contains matches a body that contains every one of subs.
func Contains(subs ...string) func(string) bool {
	return func(body string) bool {
		for _, s := range subs {
			if !strings.Contains(body, s) {
				return false
			}
		}
		return true
	}
}

// LastCommentID is the id of the newest comment on repo#number (0 if none).
func (c *Client) LastCommentID(ctx context.Context, repo string, number int) int64 {
	cs, err := c.Comments(ctx, repo, number)
	if err != nil || len(cs) == 0 {
		return 0
	}
	return cs[len(cs)-1].ID
}

// CheckRun is a check run as a reader sees it.
type CheckRun struct {
	Name, Status, Conclusion, Title string
}

// CheckRuns lists the check runs of a commit.
func (c *Client) CheckRuns(ctx context.Context, repo, ref string) ([]CheckRun, error) {
	owner, name := splitFull(repo)
	res, _, err := c.REST.Checks.ListCheckRunsForRef(ctx, owner, name, ref, &gh.ListCheckRunsOptions{ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		return nil, err
	}
	var out []CheckRun
	for _, cr := range res.CheckRuns {
		out = append(out, CheckRun{Name: cr.GetName(), Status: cr.GetStatus(), Conclusion: cr.GetConclusion(), Title: cr.GetOutput().GetTitle()})
	}
	return out, nil
}

// Issue is an issue as a reader sees it.
type Issue struct {
	Number int
	Title  string
	State  string
	Body   string
	Labels []string
}

// Issues lists the issues (not PRs) with a label, in a state (open, closed, all).
func (c *Client) Issues(ctx context.Context, repo, label, state string) ([]Issue, error) {
	owner, name := splitFull(repo)
	list, _, err := c.REST.Issues.ListByRepo(ctx, owner, name, &gh.IssueListByRepoOptions{Labels: []string{label}, State: state,
		ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		return nil, err
	}
	var out []Issue
	for _, is := range list {
		if is.IsPullRequest() {
			continue
		}
		i := Issue{Number: is.GetNumber(), Title: is.GetTitle(), State: is.GetState(), Body: is.GetBody()}
		for _, l := range is.Labels {
			i.Labels = append(i.Labels, l.GetName())
		}
		out = append(out, i)
	}
	return out, nil
}

// PullRequest reads a PR.
func (c *Client) PullRequest(ctx context.Context, repo string, number int) (*gh.PullRequest, error) {
	owner, name := splitFull(repo)
	pr, _, err := c.REST.PullRequests.Get(ctx, owner, name, number)
	return pr, err
}

// DriftRun is atoll's answer to GET /api/drift/runs/{id}.
type DriftRun struct {
	State    string `json:"state"`
	Error    string `json:"error"`
	Projects []struct {
		Repo    string `json:"repo"`
		Project string `json:"project"`
		Status  string `json:"status"`
		Issue   *int   `json:"issue"`
	} `json:"projects"`
}

// StartDrift asks atoll for a drift check (POST /api/drift/run).
func (c *Client) StartDrift(ctx context.Context, repo, project string) (string, error) {
	body, _ := json.Marshal(map[string]string{"repo": repo, "project": project})
	var out struct {
		RunID string `json:"run_id"`
	}
	if err := c.atoll(ctx, http.MethodPost, "/api/drift/run", body, http.StatusAccepted, &out); err != nil {
		return "", err
	}
	return out.RunID, nil
}

// WaitDrift waits until a drift run is done.
func (c *Client) WaitDrift(ctx context.Context, id string, timeout time.Duration) (DriftRun, error) {
	deadline := time.Now().Add(timeout)
	for {
		var dr DriftRun
		if err := c.atoll(ctx, http.MethodGet, "/api/drift/runs/"+id, nil, http.StatusOK, &dr); err != nil {
			return dr, err
		}
		if dr.State == "done" {
			return dr, nil
		}
		if time.Now().After(deadline) {
			return dr, fmt.Errorf("drift run %s not done within %s (state %s)", id, timeout, dr.State)
		}
		select {
		case <-ctx.Done():
			return dr, ctx.Err()
		case <-time.After(c.Poll):
		}
	}
}

func (c *Client) atoll(ctx context.Context, method, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.AtollURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.APIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	return json.Unmarshal(data, out)
}

// Str returns a pointer to s, for commit file contents.
func Str(s string) *string { return &s }
