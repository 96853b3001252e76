package github

import (
	"context"
	"errors"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/vcs"
)

// maxCheckText is GitHub's limit on a check run's summary and text.
const maxCheckText = 65535

// checkRunBody is the JSON of a check run create or update. go-github's
// UpdateCheckRunOptions always sends "name"; this one leaves out what is
// empty.
type checkRunBody struct {
	Name        string             `json:"name,omitempty"`
	HeadSHA     string             `json:"head_sha,omitempty"`
	DetailsURL  string             `json:"details_url,omitempty"`
	Status      string             `json:"status,omitempty"`
	Conclusion  string             `json:"conclusion,omitempty"`
	CompletedAt *gh.Timestamp      `json:"completed_at,omitempty"`
	Output      *gh.CheckRunOutput `json:"output,omitempty"`
}

func (c *Client) checkRunBody(cr vcs.CheckRun) checkRunBody {
	b := checkRunBody{
		Name:       cr.Name,
		HeadSHA:    cr.HeadSHA,
		DetailsURL: cr.DetailsURL,
		Status:     cr.Status,
		Conclusion: cr.Conclusion,
	}
	if cr.Conclusion != "" {
		b.Status = vcs.CheckCompleted
		b.CompletedAt = &gh.Timestamp{Time: c.now().UTC()}
	}
	if cr.Title != "" || cr.Summary != "" || cr.Text != "" {
		title, summary := c.mask(cr.Title), c.mask(cr.Summary)
		if title == "" {
			title = cr.Name
		}
		if summary == "" {
			summary = title // GitHub requires both
		}
		b.Output = &gh.CheckRunOutput{Title: &title, Summary: gh.String(truncate(summary, maxCheckText))}
		if cr.Text != "" {
			b.Output.Text = gh.String(truncate(c.mask(cr.Text), maxCheckText))
		}
	}
	return b
}

// CreateCheckRun creates a check run (Name and HeadSHA required) and
// returns it with its ID. A Conclusion completes it. Summary and Text are
// cut to GitHub's 65,535 characters.
func (c *Client) CreateCheckRun(ctx context.Context, repo vcs.Repo, cr vcs.CheckRun) (vcs.CheckRun, error) {
	op := fmt.Sprintf("create check run %q on %s", cr.Name, repo.FullName())
	if cr.Name == "" || cr.HeadSHA == "" {
		return vcs.CheckRun{}, fmt.Errorf("%s: name and head sha are required", op)
	}
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return vcs.CheckRun{}, err
	}
	var out gh.CheckRun
	if err := in.do(ctx, "POST", fmt.Sprintf("repos/%s/%s/check-runs", repo.Owner, repo.Name), c.checkRunBody(cr), &out); err != nil {
		return vcs.CheckRun{}, wrapErr(op, err)
	}
	return toCheckRun(&out), nil
}

// UpdateCheckRun changes check run cr.ID: its status, conclusion, output
// and details URL (empty fields are left alone).
func (c *Client) UpdateCheckRun(ctx context.Context, repo vcs.Repo, cr vcs.CheckRun) error {
	op := fmt.Sprintf("update check run %d on %s", cr.ID, repo.FullName())
	if cr.ID == 0 {
		return errors.New(op + ": no id")
	}
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return err
	}
	body := c.checkRunBody(cr)
	body.HeadSHA = "" // not updatable
	return wrapErr(op, in.do(ctx, "PATCH", fmt.Sprintf("repos/%s/%s/check-runs/%d", repo.Owner, repo.Name, cr.ID), body, nil))
}

// ListCheckRuns returns the check runs of a commit (ref is a SHA, branch
// or tag name).
func (c *Client) ListCheckRuns(ctx context.Context, repo vcs.Repo, ref string) ([]vcs.CheckRun, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return nil, err
	}
	if err := checkTraversal(ref); err != nil {
		return nil, wrapErr(fmt.Sprintf("list check runs of %s@%s", repo.FullName(), ref), err)
	}
	crs, err := paginate(ctx, func(o gh.ListOptions) ([]*gh.CheckRun, *gh.Response, error) {
		res, resp, err := in.api().Checks.ListCheckRunsForRef(ctx, repo.Owner, repo.Name, ref, &gh.ListCheckRunsOptions{ListOptions: o})
		if res == nil {
			return nil, resp, err
		}
		return res.CheckRuns, resp, err
	})
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("list check runs of %s@%s", repo.FullName(), ref), err)
	}
	out := make([]vcs.CheckRun, 0, len(crs))
	for _, cr := range crs {
		out = append(out, toCheckRun(cr))
	}
	return out, nil
}

// truncate cuts s to at most n characters (runes), ending with a note.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	const note = "\n\n… (truncated)"
	return string(r[:n-len([]rune(note))]) + note
}
