package runner

import (
	"context"
	"sort"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/records"
)

// GetJob returns a job by id.
func (r *Runner) GetJob(ctx context.Context, id string) (Job, bool, error) {
	var j Job
	ok, err := r.rec.Get(ctx, records.Jobs, id, &j)
	return j, ok, err
}

// Overview is what the web UI's front page shows.
type Overview struct {
	Locks []locks.Lock
	Jobs  []Job         // the latest jobs, newest first
	Drift []DriftRecord // every project with a drift record
	// ApplyLock is the server-wide apply lock; ApplyDisabled is the
	// configuration's disable_apply.
	ApplyLock     ApplyLock
	ApplyDisabled bool
}

// overviewJobs bounds Overview.Jobs.
const overviewJobs = 50

// Overview gathers the locks, the latest jobs and the drift state.
func (r *Runner) Overview(ctx context.Context) (Overview, error) {
	var ov Overview
	var err error
	if ov.Locks, err = r.cfg.Store.List(ctx); err != nil {
		return ov, err
	}
	jobs, err := records.List[Job](ctx, r.rec, records.Jobs, "")
	if err != nil {
		return ov, err
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].ID > jobs[b].ID })
	if len(jobs) > overviewJobs {
		jobs = jobs[:overviewJobs]
	}
	ov.Jobs = jobs
	if ov.Drift, err = records.List[DriftRecord](ctx, r.rec, records.Drift, ""); err != nil {
		return ov, err
	}
	ov.ApplyDisabled = r.srv.DisableApply
	if ov.ApplyLock, err = r.GetApplyLock(ctx); err != nil {
		return ov, err
	}
	return ov, nil
}

// Repos lists the repositories atoll serves ("owner/name"): every
// allowlisted repository of every installation.
func (r *Runner) Repos(ctx context.Context) ([]string, error) {
	repos, err := r.servedRepos(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(repos))
	for _, repo := range repos {
		out = append(out, repo.FullName())
	}
	sort.Strings(out)
	return out, nil
}
