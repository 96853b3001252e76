package view_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/view"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// checks records the check runs a View writes; refuse fails every call.
type checks struct {
	runs   map[int64]vcs.CheckRun
	refuse bool
}

func (c *checks) CreateCheckRun(_ context.Context, _ vcs.Repo, run vcs.CheckRun) (vcs.CheckRun, error) {
	if c.refuse {
		return vcs.CheckRun{}, errors.New("forbidden")
	}
	run.ID = int64(len(c.runs) + 1)
	c.runs[run.ID] = run
	return run, nil
}

func (c *checks) UpdateCheckRun(_ context.Context, _ vcs.Repo, run vcs.CheckRun) error {
	if c.refuse {
		return errors.New("forbidden")
	}
	c.runs[run.ID] = run
	return nil
}

// A job's check run opens queued, shows it running, and completes with
// the job's conclusion, its summary masked and linked to the job's page;
// a code host that refuses leaves the job without one.
func TestJobCheckRunLife(t *testing.T) {
	ctx := context.Background()
	v := newView(t, &host{})
	c := &checks{runs: map[int64]vcs.CheckRun{}}
	v.Checks = c
	j := records.Job{ID: "j1", Kind: records.JobPlan, Repo: repo, HeadSHA: "abc", Project: records.Project{ProjectCore: config.ProjectCore{Name: "app"}}}
	j.CheckRun = v.OpenCheck(ctx, j)
	if got := c.runs[j.CheckRun]; j.CheckRun == 0 || got.Status != vcs.CheckQueued || got.Name != templates.CheckName(templates.CheckPlan, "app") ||
		got.DetailsURL != "https://atoll.example/jobs/j1" {
		t.Fatalf("opened %+v", got)
	}
	v.ShowCheck(ctx, j, templates.CheckRunning)
	if got := c.runs[j.CheckRun]; got.Status != vcs.CheckInProgress {
		t.Errorf("running: %+v", got)
	}
	j.Outcome = records.Outcome{Status: string(templates.StatusPlanError), Error: "token s3cr3t-token refused"}
	v.CompleteCheck(ctx, j, v.ProjectResult(ctx, j))
	got := c.runs[j.CheckRun]
	if got.Status != vcs.CheckCompleted || got.Conclusion != vcs.ConclusionFailure || strings.Contains(got.Summary, "s3cr3t-token") {
		t.Errorf("completed %+v", got)
	}
	if stage := view.CheckStage(records.JobPlanApply); stage != templates.CheckApply {
		t.Errorf("a plan applied at once is checked as %q", stage)
	}
	c.refuse = true
	if id := v.OpenCheck(ctx, j); id != 0 {
		t.Errorf("a refused check run has id %d", id)
	}
}
