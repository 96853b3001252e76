package records

import "context"

// Drift run states. A drift run moves queued -> running -> reporting ->
// done; the API shows reporting as running. A run cut off while reporting
// goes back to running, to report again.
const (
	DriftRunQueued    = "queued"
	DriftRunRunning   = "running"
	DriftRunReporting = "reporting"
	DriftRunDone      = "done"
)

// A drift run's state moves only through the functions below.

// WidenDriftRun makes the queued drift run id, asked for one project,
// check every project: another project was asked for before it started.
// A run of all projects, or of project, stays as it is.
func (r Records) WidenDriftRun(ctx context.Context, id, project string) error {
	return Update(ctx, r, DriftRuns, id, func(p *DriftRun, exists bool) error {
		if !exists || p.Project == "" || p.Project == project {
			return ErrAbort
		}
		p.Project = ""
		return nil
	})
}

// StartDriftRun moves drift run id to running at commit, with one
// pending result a project.
func (r Records) StartDriftRun(ctx context.Context, id, commit string, projects []string) error {
	return Update(ctx, r, DriftRuns, id, func(cur *DriftRun, _ bool) error {
		cur.State, cur.Commit, cur.Projects = DriftRunRunning, commit, nil
		for _, p := range projects {
			cur.Projects = append(cur.Projects, DriftProject{Repo: cur.Repo, Project: p})
		}
		return nil
	})
}

// EndDriftRun moves drift run id to done with no results: at commit when
// it had no project to check, or with errText when it could not run.
// Empty arguments leave those fields as they are.
func (r Records) EndDriftRun(ctx context.Context, id, commit, errText string) error {
	return Update(ctx, r, DriftRuns, id, func(cur *DriftRun, _ bool) error {
		cur.State = DriftRunDone
		if commit != "" {
			cur.Commit = commit
		}
		if errText != "" {
			cur.Error = errText
		}
		return nil
	})
}

// ClaimDriftReport moves drift run id to reporting in one transaction and
// reports whether this call did: only one caller writes a run's report.
func (r Records) ClaimDriftReport(ctx context.Context, id string) (bool, error) {
	claimed := false
	err := Update(ctx, r, DriftRuns, id, func(dr *DriftRun, exists bool) error {
		if !exists || dr.State == DriftRunDone || dr.State == DriftRunReporting {
			return ErrAbort
		}
		dr.State, claimed = DriftRunReporting, true
		return nil
	})
	return claimed && err == nil, err
}

// ReopenDriftReport moves a drift run cut off while reporting back to
// running, so that its report is claimed and written again.
func (r Records) ReopenDriftReport(ctx context.Context, id string) error {
	return Update(ctx, r, DriftRuns, id, func(cur *DriftRun, _ bool) error {
		if cur.State == DriftRunReporting {
			cur.State = DriftRunRunning
		}
		return nil
	})
}

// FinishDriftReport moves drift run id to done with its projects'
// results (by project name); a run that is gone stays gone.
func (r Records) FinishDriftReport(ctx context.Context, id string, results map[string]DriftProject) error {
	return Update(ctx, r, DriftRuns, id, func(dr *DriftRun, exists bool) error {
		if !exists {
			return ErrAbort
		}
		dr.State = DriftRunDone
		for i, p := range dr.Projects {
			if res, ok := results[p.Project]; ok {
				dr.Projects[i] = res
			}
		}
		return nil
	})
}
