package view

import (
	"context"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Checks is the part of the code host a View writes a job's check run
// with.
type Checks interface {
	CreateCheckRun(ctx context.Context, repo vcs.Repo, run vcs.CheckRun) (vcs.CheckRun, error)
	UpdateCheckRun(ctx context.Context, repo vcs.Repo, run vcs.CheckRun) error
}

// CheckStage is the check run stage of a job kind.
func CheckStage(k records.JobKind) templates.CheckStage {
	switch k {
	case records.JobApply, records.JobPlanApply:
		return templates.CheckApply
	case records.JobDrift:
		return templates.CheckDrift
	}
	return templates.CheckPlan
}

// OpenCheck creates job j's check run, queued, and returns its id; 0 when
// the code host refused (logged): checks are a courtesy, never a reason
// to fail a job.
func (v *View) OpenCheck(ctx context.Context, j records.Job) int64 {
	progress := v.CheckText(templates.CheckQueued, j)
	cr, err := v.Checks.CreateCheckRun(ctx, j.Repo, vcs.CheckRun{
		Name:       templates.CheckName(CheckStage(j.Kind), j.Project.Name),
		HeadSHA:    j.HeadSHA,
		Status:     vcs.CheckQueued,
		Title:      progress.Title,
		Summary:    progress.Summary,
		DetailsURL: v.Facts.JobURL(j.ID),
	})
	if err != nil {
		v.log().Warn("create check run", "job", j.ID, "err", err)
		return 0
	}
	return cr.ID
}

// ShowCheck shows job j's check run in state (running: in progress;
// queued again: restarting), when j has one. A failure is logged.
func (v *View) ShowCheck(ctx context.Context, j records.Job, state templates.CheckState) {
	if j.CheckRun == 0 {
		return
	}
	status := vcs.CheckInProgress
	if state != templates.CheckRunning {
		status = vcs.CheckQueued
	}
	progress := v.CheckText(state, j)
	err := v.Checks.UpdateCheckRun(ctx, j.Repo, vcs.CheckRun{ID: j.CheckRun,
		Name: templates.CheckName(CheckStage(j.Kind), j.Project.Name), HeadSHA: j.HeadSHA,
		Status: status, Title: progress.Title, Summary: progress.Summary, DetailsURL: v.Facts.JobURL(j.ID)})
	if err != nil {
		v.log().Warn("update check run", "job", j.ID, "err", err)
	}
}

// CompleteCheck completes job j's check run (when it has one) from its
// outcome, shown as pr (ProjectResult): success, neutral when nothing
// changed or the job was skipped, failure otherwise. A failure is logged.
func (v *View) CompleteCheck(ctx context.Context, j records.Job, pr templates.ProjectResult) {
	if j.CheckRun == 0 {
		return
	}
	out, err := v.Templates.RenderCheckSummary(templates.CheckSummary{Stage: CheckStage(j.Kind), Project: pr})
	if err != nil {
		v.log().Error("render check", "job", j.ID, "err", err)
		return
	}
	conclusion := vcs.ConclusionSuccess
	switch templates.ProjectStatus(j.Outcome.Status) {
	case templates.StatusNoChanges, templates.StatusSkipped:
		conclusion = vcs.ConclusionNeutral
	case templates.StatusPlanError, templates.StatusApplyFailed, templates.StatusLocked, templates.StatusInterrupted, templates.StatusRefused:
		conclusion = vcs.ConclusionFailure
	}
	err = v.Checks.UpdateCheckRun(ctx, j.Repo, vcs.CheckRun{ID: j.CheckRun, Name: out.Name, HeadSHA: j.HeadSHA,
		Status: vcs.CheckCompleted, Conclusion: conclusion, Title: out.Title, Summary: v.Mask(out.Summary),
		DetailsURL: v.Facts.JobURL(j.ID)})
	if err != nil {
		v.log().Warn("complete check run", "job", j.ID, "err", err)
	}
}
