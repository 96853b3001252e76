package drift

import (
	"context"
	"fmt"
	"time"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/view"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// History bounds DriftRecord.History: the checks remembered per project.
const History = 50

// IssueHost is the part of the code host drift issues need.
type IssueHost interface {
	CreateIssue(ctx context.Context, repo vcs.Repo, issue vcs.Issue) (vcs.Issue, error)
	UpdateIssue(ctx context.Context, repo vcs.Repo, number int, u vcs.IssueUpdate) error
	ListIssues(ctx context.Context, repo vcs.Repo, label, state string) ([]vcs.Issue, error)
	CreateComment(ctx context.Context, repo vcs.Repo, number int, body string) (vcs.Comment, error)
}

// Renderer renders the drift issue and the comments on it from templates
// (templates.Renderer is one).
type Renderer interface {
	RenderDriftIssue(d templates.DriftIssue) (templates.IssueText, error)
	Render(name string, data any) (string, error)
}

// Store reads and writes a project's DriftRecord (records.Records is one).
type Store interface {
	Get(ctx context.Context, bucket, key string, v any) (bool, error)
	Put(ctx context.Context, bucket, key string, v any) error
}

// Tracker keeps each project's drift issue in step with its checks and
// remembers the checks in the project's DriftRecord. All fields are
// required except Audit (nil: nothing audited) and Mask (nil: text posted
// as rendered).
type Tracker struct {
	Host    IssueHost
	Render  Renderer
	Records Store
	Now     func() time.Time
	// Mask hides secrets in every text posted.
	Mask func(string) string
	// Audit records an issue opened ("drift.found") or closed
	// ("drift.resolved") for a drift job.
	Audit func(ctx context.Context, j records.Job, action string, issue int)
}

// Track records a drift job's check of its project (status as Status
// reports it; pr is the project's result as templates show it) and keeps
// the project's issue in step: opened when drift appears, left alone while
// it stays the same (same Outcome.Hash), updated with a comment when it
// changes, commented on and closed when it is gone. An error is reported
// on an open issue as a comment and changes nothing else. An open issue
// atoll lost the record of is found again by its label (IssueLabel). It
// returns the issue's number (0: none open) and stores the record even
// when the code host fails.
func (t Tracker) Track(ctx context.Context, j records.Job, status string, pr templates.ProjectResult) (int, error) {
	key := records.DriftKey(j.Repo.FullName(), j.Project.Name)
	var rec records.DriftRecord
	if _, err := t.Records.Get(ctx, records.Drift, key, &rec); err != nil {
		return 0, err
	}
	rec.Repo, rec.Project = j.Repo.FullName(), j.Project
	now := t.Now()
	rec.History = append(rec.History, records.DriftResult{At: now, Commit: j.Commit, Status: status,
		Summary: j.Outcome.Summary, Hash: j.Outcome.Hash, Error: j.Outcome.Error})
	if len(rec.History) > History {
		rec.History = rec.History[len(rec.History)-History:]
	}
	if rec.Issue == 0 {
		rec.Issue = t.findIssue(ctx, j.Repo, j.Project.Name)
	}
	var err error
	switch status {
	case records.DriftDrifted:
		err = t.found(ctx, j, &rec, pr, now)
	case records.DriftInSync:
		if rec.Issue > 0 {
			err = t.gone(ctx, j, &rec, pr, now)
		}
		rec.Hash, rec.FirstSeen = "", now
	case records.DriftError:
		if rec.Issue > 0 {
			err = t.comment(ctx, j.Repo, rec.Issue, templates.DriftComment{Kind: templates.DriftError, Commit: j.Commit, At: now, Project: pr})
		}
	}
	issue := rec.Issue
	if perr := t.Records.Put(ctx, records.Drift, key, rec); perr != nil && err == nil {
		err = perr
	}
	return issue, err
}

// found opens the issue, or updates it when the drift changed.
func (t Tracker) found(ctx context.Context, j records.Job, rec *records.DriftRecord, pr templates.ProjectResult, now time.Time) error {
	if rec.Issue > 0 && rec.Hash == j.Outcome.Hash {
		rec.LastSeen = now // the same drift: the issue is not edited again
		return nil
	}
	changed := rec.Issue > 0
	if !changed || rec.FirstSeen.IsZero() {
		rec.FirstSeen = now
	}
	rec.LastSeen, rec.Hash = now, j.Outcome.Hash
	text, err := t.Render.RenderDriftIssue(templates.DriftIssue{ID: "drift:" + records.DriftKey(j.Repo.FullName(), j.Project.Name),
		Repo: j.Repo.FullName(), Branch: j.Repo.DefaultBranch, Commit: j.Commit, FirstSeen: rec.FirstSeen,
		LastSeen: now, Changed: changed, Project: pr})
	if err != nil {
		return err
	}
	body := t.mask(text.Body)
	if !changed {
		issue, err := t.Host.CreateIssue(ctx, j.Repo, vcs.Issue{Title: text.Title, Body: body,
			Labels: []string{LabelDrift, IssueLabel(j.Project.Name)}})
		if err != nil {
			return fmt.Errorf("open drift issue: %w", err)
		}
		rec.Issue = issue.Number
		t.audit(ctx, j, "drift.found", issue.Number)
		return nil
	}
	if err := t.Host.UpdateIssue(ctx, j.Repo, rec.Issue, vcs.IssueUpdate{Title: &text.Title, Body: &body}); err != nil {
		return fmt.Errorf("update drift issue #%d: %w", rec.Issue, err)
	}
	return t.comment(ctx, j.Repo, rec.Issue, templates.DriftComment{Kind: templates.DriftChanged, Commit: j.Commit, At: now, Project: pr})
}

// gone comments on the issue and closes it.
func (t Tracker) gone(ctx context.Context, j records.Job, rec *records.DriftRecord, pr templates.ProjectResult, now time.Time) error {
	if err := t.comment(ctx, j.Repo, rec.Issue, templates.DriftComment{Kind: templates.DriftResolved, Commit: j.Commit, At: now, Project: pr}); err != nil {
		return err
	}
	closed, reason := "closed", "completed"
	if err := t.Host.UpdateIssue(ctx, j.Repo, rec.Issue, vcs.IssueUpdate{State: &closed, StateReason: &reason}); err != nil {
		return fmt.Errorf("close drift issue #%d: %w", rec.Issue, err)
	}
	t.audit(ctx, j, "drift.resolved", rec.Issue)
	rec.Issue = 0
	return nil
}

// findIssue finds an open drift issue of a project by its label, in case
// atoll's own record was lost; 0 when there is none (or the host fails).
func (t Tracker) findIssue(ctx context.Context, repo vcs.Repo, project string) int {
	issues, err := t.Host.ListIssues(ctx, repo, IssueLabel(project), "open")
	if err != nil || len(issues) == 0 {
		return 0
	}
	return issues[0].Number
}

// comment posts drift_comment.tmpl on an issue.
func (t Tracker) comment(ctx context.Context, repo vcs.Repo, number int, c templates.DriftComment) error {
	return view.PostTemplate(ctx, t.Host, t.Render, t.mask, repo, number, "drift_comment.tmpl", c)
}

func (t Tracker) mask(s string) string {
	if t.Mask == nil {
		return s
	}
	return t.Mask(s)
}

func (t Tracker) audit(ctx context.Context, j records.Job, action string, issue int) {
	if t.Audit != nil {
		t.Audit(ctx, j, action, issue)
	}
}
