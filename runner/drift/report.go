package drift

import (
	"context"
	"log/slog"

	"github.com/atollhq/atoll/runner/records"
)

// ReportStore is what a report writes of its drift run (records.Records
// is one).
type ReportStore interface {
	ClaimDriftReport(ctx context.Context, id string) (bool, error)
	FinishDriftReport(ctx context.Context, id string, results map[string]records.DriftProject) error
}

// ReportHooks is what a report asks of the engine for each project
// checked.
type ReportHooks interface {
	// Issue keeps the project's drift issue in step with the check (a
	// Tracker's Track) and returns its number (0: none open).
	Issue(ctx context.Context, j records.Job, status string) (int, error)
	// CheckRun writes the project's `atoll/drift` check run.
	CheckRun(ctx context.Context, j records.Job, status string)
	// AutoRemediate remediates a drifted project whose atoll.yaml turns
	// auto_remediate on; the gate decides whether it may.
	AutoRemediate(ctx context.Context, j records.Job, issue int) error
	// Done ends the repository's check (Checks.Done): its follow-up, if
	// any, starts.
	Done(repo, id string)
}

// Report turns a finished drift run's jobs into issue lifecycles, check
// runs, auto-remediations and the run's results. Jobs finishing together
// may each see the run complete: the report is claimed in the store, so
// it is written once (a call that loses the claim does nothing). Failures
// of one project are logged and do not stop the others.
func Report(ctx context.Context, store ReportStore, hooks ReportHooks, log *slog.Logger, run records.Run, jobs []records.Job) {
	claimed, err := store.ClaimDriftReport(ctx, run.DriftRun)
	if err != nil {
		log.Error("claim drift report", "run", run.DriftRun, "err", err)
	}
	if !claimed {
		return
	}
	defer hooks.Done(run.Repo.FullName(), run.DriftRun)
	results := map[string]records.DriftProject{}
	for _, j := range jobs {
		dp := records.DriftProject{Repo: j.Repo.FullName(), Project: j.Project.Name, Status: Status(j.Outcome)}
		issue, err := hooks.Issue(ctx, j, dp.Status)
		if err != nil {
			log.Error("drift issue", "repo", dp.Repo, "project", dp.Project, "err", err)
		}
		if issue > 0 {
			n := issue
			dp.Issue = &n
		}
		hooks.CheckRun(ctx, j, dp.Status)
		results[j.Project.Name] = dp
		if dp.Status == records.DriftDrifted && j.Project.AutoRemediate && issue > 0 {
			if err := hooks.AutoRemediate(ctx, j, issue); err != nil {
				log.Error("auto-remediate", "project", dp.Project, "err", err)
			}
		}
	}
	if err := store.FinishDriftReport(ctx, run.DriftRun, results); err != nil {
		log.Error("store drift run", "run", run.DriftRun, "err", err)
	}
}
