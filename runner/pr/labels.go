package pr

import (
	"context"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// PR labels that say what the latest plan run found, so a reviewer sees
// a destroy in the PR list before opening the PR.
const (
	LabelDestroy   = "atoll:destroy"
	LabelChanges   = "atoll:changes"
	LabelNoChanges = "atoll:no-changes"
	LabelPlanError = "atoll:plan-error"
)

// Labels are the labels a finished plan run of jobs earns (add) and
// atoll's others, which it no longer earns (remove). Both are empty when
// nothing was planned.
func Labels(jobs []records.Job) (add, remove []string) {
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
	earned := map[string]bool{LabelPlanError: failed, LabelDestroy: destroy, LabelChanges: changes,
		LabelNoChanges: !failed && !changes && planned}
	if !failed && !changes && !planned {
		return nil, nil
	}
	for _, l := range []string{LabelPlanError, LabelDestroy, LabelChanges, LabelNoChanges} {
		if earned[l] {
			add = append(add, l)
		} else {
			remove = append(remove, l)
		}
	}
	return add, remove
}

// LabelSetter sets and removes a pull request's labels (the code host's).
type LabelSetter interface {
	SetLabels(ctx context.Context, repo vcs.Repo, number int, add, remove []string) error
}

// SetPlanLabels gives pull request number of repo the labels its finished
// plan run of jobs earns and removes those it no longer earns; a run that
// planned nothing changes none.
func SetPlanLabels(ctx context.Context, host LabelSetter, repo vcs.Repo, number int, jobs []records.Job) error {
	add, remove := Labels(jobs)
	if len(add) == 0 {
		return nil
	}
	return host.SetLabels(ctx, repo, number, add, remove)
}

// labelPlanRun sets the PR's atoll labels from a finished plan run (see
// SetPlanLabels). Labels are a courtesy: a failure is logged, never
// fatal.
func (l *Life) labelPlanRun(ctx context.Context, run records.Run, jobs []records.Job) {
	if err := SetPlanLabels(ctx, l.d.Host, run.Repo, run.Number, jobs); err != nil {
		l.d.Log.Warn("set PR labels", "pr", run.Number, "err", err)
	}
}
