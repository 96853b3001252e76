package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/vcs"
)

// CreateComment posts a comment on an issue or pull request (they share
// numbers). GitHub refuses bodies over 65,536 characters: split first.
func (c *Client) CreateComment(ctx context.Context, repo vcs.Repo, number int, body string) (vcs.Comment, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return vcs.Comment{}, err
	}
	body = c.mask(body)
	cm, _, err := in.api().Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &gh.IssueComment{Body: &body})
	if err != nil {
		return vcs.Comment{}, wrapErr(fmt.Sprintf("comment on %s#%d", repo.FullName(), number), err)
	}
	return toComment(cm), nil
}

// UpdateComment replaces the body of comment id.
func (c *Client) UpdateComment(ctx context.Context, repo vcs.Repo, id int64, body string) error {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return err
	}
	body = c.mask(body)
	_, _, err = in.api().Issues.EditComment(ctx, repo.Owner, repo.Name, id, &gh.IssueComment{Body: &body})
	return wrapErr(fmt.Sprintf("update comment %d in %s", id, repo.FullName()), err)
}

// ListComments returns every comment of an issue or pull request, oldest
// first.
func (c *Client) ListComments(ctx context.Context, repo vcs.Repo, number int) ([]vcs.Comment, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return nil, err
	}
	cs, err := paginate(ctx, func(o gh.ListOptions) ([]*gh.IssueComment, *gh.Response, error) {
		return in.api().Issues.ListComments(ctx, repo.Owner, repo.Name, number, &gh.IssueListCommentsOptions{ListOptions: o})
	})
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("list comments of %s#%d", repo.FullName(), number), err)
	}
	out := make([]vcs.Comment, 0, len(cs))
	for _, cm := range cs {
		out = append(out, toComment(cm))
	}
	return out, nil
}

// reactions are the reaction contents GitHub accepts.
var reactions = set("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")

// AddReaction reacts to an issue comment with content ("+1", "eyes",
// "rocket"...). Reacting twice with the same content is not an error.
func (c *Client) AddReaction(ctx context.Context, repo vcs.Repo, commentID int64, content string) error {
	if !reactions[content] {
		return fmt.Errorf("add reaction to comment %d: unknown reaction %q", commentID, content)
	}
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return err
	}
	_, _, err = in.api().Reactions.CreateIssueCommentReaction(ctx, repo.Owner, repo.Name, commentID, content)
	return wrapErr(fmt.Sprintf("add reaction to comment %d in %s", commentID, repo.FullName()), err)
}

// classifiers are GraphQL's ReportedContentClassifiers.
var classifiers = set("ABUSE", "DUPLICATE", "OFF_TOPIC", "OUTDATED", "RESOLVED", "SPAM")

const minimizeMutation = `mutation($id: ID!, $classifier: ReportedContentClassifiers!) {
  minimizeComment(input: {subjectId: $id, classifier: $classifier}) { minimizedComment { isMinimized } }
}`

// MinimizeComment hides a comment (nodeID is the REST node_id) with a
// classifier such as "OUTDATED", through GraphQL's minimizeComment.
func (c *Client) MinimizeComment(ctx context.Context, repo vcs.Repo, nodeID, classifier string) error {
	classifier = strings.ToUpper(classifier)
	op := fmt.Sprintf("minimize comment %s in %s", nodeID, repo.FullName())
	if !classifiers[classifier] {
		return fmt.Errorf("%s: unknown classifier %q", op, classifier)
	}
	if nodeID == "" {
		return fmt.Errorf("%s: empty node id", op)
	}
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return err
	}
	var out struct {
		MinimizeComment struct {
			MinimizedComment struct {
				IsMinimized bool `json:"isMinimized"`
			} `json:"minimizedComment"`
		} `json:"minimizeComment"`
	}
	vars := map[string]any{"id": nodeID, "classifier": classifier}
	if err := c.graphQL(ctx, in, minimizeMutation, vars, &out); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if !out.MinimizeComment.MinimizedComment.IsMinimized {
		return fmt.Errorf("%s: GitHub did not minimize it", op)
	}
	return nil
}

// graphQLError is one entry of a GraphQL answer's "errors".
type graphQLError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// graphQL posts one query with the installation's token and decodes its
// "data" into out. A NOT_FOUND error wraps ErrNotFound.
func (c *Client) graphQL(ctx context.Context, in *installation, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.graphqlURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "atoll")
	resp, err := in.http.Do(req)
	if err != nil {
		return fmt.Errorf("graphql: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return fmt.Errorf("graphql: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("graphql: HTTP %d: %s", resp.StatusCode, snippet(data))
		if resp.StatusCode == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return err
	}
	var answer struct {
		Data   json.RawMessage `json:"data"`
		Errors []graphQLError  `json:"errors"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return fmt.Errorf("graphql: decode answer: %w", err)
	}
	if len(answer.Errors) > 0 {
		e := answer.Errors[0]
		err := fmt.Errorf("graphql: %s (%s)", e.Message, e.Type)
		if e.Type == "NOT_FOUND" {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return err
	}
	if len(answer.Data) == 0 || string(answer.Data) == "null" {
		return fmt.Errorf("graphql: answer has no data")
	}
	if err := json.Unmarshal(answer.Data, out); err != nil {
		return fmt.Errorf("graphql: decode data: %w", err)
	}
	return nil
}

// snippet shortens a body for an error message.
func snippet(b []byte) string {
	const n = 200
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
