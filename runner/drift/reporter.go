package drift

import (
	"context"
	"log/slog"
	"time"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// ReportHost is the part of the code host a drift report writes: the
// project's drift issue and its `atoll/drift` check run.
type ReportHost interface {
	IssueHost
	CreateCheckRun(ctx context.Context, repo vcs.Repo, run vcs.CheckRun) (vcs.CheckRun, error)
}

// ReportRenderer renders a report's issue, comments and check run
// (templates.Renderer is one).
type ReportRenderer interface {
	Renderer
	RenderCheckSummary(c templates.CheckSummary) (templates.CheckOutput, error)
}

// Views is how a report shows a finished job (view.View).
type Views interface {
	// ProjectResult is a job's result as templates show it.
	ProjectResult(ctx context.Context, j records.Job) templates.ProjectResult
	// Mask hides secrets in a text posted.
	Mask(s string) string
}

// Trail is the audit trail of drift issues (trail.Trail).
type Trail interface {
	// Drift records a drift issue opened ("drift.found") or closed
	// ("drift.resolved") for a drift job.
	Drift(ctx context.Context, j records.Job, action string, issue int)
}

// Remediator remediates a drifted project whose atoll.yaml turns
// auto_remediate on; the gate decides whether it may.
type Remediator interface {
	AutoRemediate(ctx context.Context, repo vcs.Repo, issue int, p records.Project) error
}

// Reporter turns a finished drift run into issue lifecycles, check runs,
// auto-remediations and the run's results (see Report).
type Reporter struct {
	Records records.Records
	Host    ReportHost
	Render  ReportRenderer
	Views   Views
	Trail   Trail
	// JobURL is the address of a job's page ("" when atoll has none).
	JobURL func(jobID string) string
	// Remedy auto-remediates drifted projects.
	Remedy Remediator
	// Done ends a repository's check (Checker.Done).
	Done func(repo, id string)
	Now  func() time.Time
	Log  *slog.Logger
}

// Report reports a finished drift run once (see the package's Report).
func (p *Reporter) Report(ctx context.Context, run records.Run, jobs []records.Job) {
	Report(ctx, p.Records, reportHooks{p}, p.Log, run, jobs)
}

// reportHooks are a Reporter's answers to Report.
type reportHooks struct{ p *Reporter }

func (h reportHooks) Issue(ctx context.Context, j records.Job, status string) (int, error) {
	p := h.p
	t := Tracker{Host: p.Host, Render: p.Render, Records: p.Records, Now: p.Now, Mask: p.Views.Mask, Audit: p.Trail.Drift}
	return t.Track(ctx, j, status, p.Views.ProjectResult(ctx, j))
}

// CheckRun writes the `atoll/drift: NAME` check run on the default
// branch head.
func (h reportHooks) CheckRun(ctx context.Context, j records.Job, status string) {
	p := h.p
	out, err := p.Render.RenderCheckSummary(templates.CheckSummary{Stage: templates.CheckDrift, Project: p.Views.ProjectResult(ctx, j)})
	if err != nil {
		return
	}
	conclusion := map[string]string{records.DriftInSync: vcs.ConclusionSuccess, records.DriftDrifted: vcs.ConclusionNeutral,
		records.DriftError: vcs.ConclusionFailure}[status]
	_, err = p.Host.CreateCheckRun(ctx, j.Repo, vcs.CheckRun{Name: out.Name, HeadSHA: j.Commit, Status: vcs.CheckCompleted,
		Conclusion: conclusion, Title: out.Title, Summary: p.Views.Mask(out.Summary), DetailsURL: p.JobURL(j.ID)})
	if err != nil {
		p.Log.Warn("drift check run", "project", j.Project.Name, "err", err)
	}
}

func (h reportHooks) AutoRemediate(ctx context.Context, j records.Job, issue int) error {
	return h.p.Remedy.AutoRemediate(ctx, j.Repo, issue, j.Project)
}

func (h reportHooks) Done(repo, id string) { h.p.Done(repo, id) }
