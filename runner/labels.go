package runner

import (
	"context"

	"github.com/atollhq/atoll/templates"
)

// PR labels that say what the latest plan run found, so a reviewer sees
// a destroy in the PR list before opening the PR.
const (
	LabelDestroy   = "atoll:destroy"
	LabelChanges   = "atoll:changes"
	LabelNoChanges = "atoll:no-changes"
	LabelPlanError = "atoll:plan-error"
)

// planLabels are the labels a finished plan run earns.
func planLabels(jobs []Job) []string {
	var destroy, changes, failed, planned bool
	for _, j := range jobs {
		switch templates.ProjectStatus(j.Outcome.Status) {
		case templates.StatusPlanError:
			failed = true
		case templates.StatusPlanned:
			changes = true
			if s := j.Outcome.Summary; s != nil && s.Delete+s.Replace > 0 {
				destroy = true
			}
		case templates.StatusNoChanges:
			planned = true
		}
	}
	var out []string
	if failed {
		out = append(out, LabelPlanError)
	}
	if destroy {
		out = append(out, LabelDestroy)
	}
	if changes {
		out = append(out, LabelChanges)
	}
	if !failed && !changes && planned {
		out = append(out, LabelNoChanges)
	}
	return out
}

// labelPlanRun sets the PR's atoll labels from a finished plan run and
// removes the ones it no longer earns. Labels are a courtesy: a failure is
// logged, never fatal.
func (r *Runner) labelPlanRun(ctx context.Context, run Run, jobs []Job) {
	add := planLabels(jobs)
	if len(add) == 0 {
		return // nothing was planned (locked, skipped): keep what was there
	}
	earned := map[string]bool{}
	for _, l := range add {
		earned[l] = true
	}
	var remove []string
	for _, l := range []string{LabelDestroy, LabelChanges, LabelNoChanges, LabelPlanError} {
		if !earned[l] {
			remove = append(remove, l)
		}
	}
	if err := r.host.SetLabels(ctx, run.Repo, run.Number, add, remove); err != nil {
		r.log.Warn("set PR labels", "pr", run.Number, "err", err)
	}
}
