package drift_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// hooks records what a report asked of the engine.
type hooks struct {
	mu        sync.Mutex
	calls     []string
	issueErr  error
	nextIssue int
}

func (h *hooks) note(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, s)
}

func (h *hooks) Issue(_ context.Context, j records.Job, status string) (int, error) {
	h.note("issue " + j.Project.Name + " " + status)
	if status != records.DriftDrifted {
		return 0, h.issueErr
	}
	h.nextIssue++
	return h.nextIssue, h.issueErr
}

func (h *hooks) CheckRun(_ context.Context, j records.Job, status string) {
	h.note("check " + j.Project.Name + " " + status)
}

func (h *hooks) AutoRemediate(_ context.Context, j records.Job, issue int) error {
	h.note(fmt.Sprintf("remediate %s #%d", j.Project.Name, issue))
	return nil
}

func (h *hooks) Done(repo, id string) { h.note("done " + repo + " " + id) }

// A finished drift run reports each project once, however many jobs see
// it complete: issue, check run, auto-remediation of a drifted project
// that asks for it; the run's results are stored and the check ends.
func TestReportOnce(t *testing.T) {
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec := records.New(db)
	ctx := context.Background()
	if err := rec.Put(ctx, records.DriftRuns, "d1", records.DriftRun{ID: "d1", Repo: "acme/infra", State: records.DriftRunQueued}); err != nil {
		t.Fatal(err)
	}
	if err := rec.StartDriftRun(ctx, "d1", "abc", []string{"app", "db", "net"}); err != nil {
		t.Fatal(err)
	}
	r := vcs.Repo{Owner: "acme", Name: "infra", DefaultBranch: "main"}
	jobs := []records.Job{
		{Repo: r, Project: records.Project{ProjectCore: config.ProjectCore{Name: "app", AutoRemediate: true}},
			Outcome: records.Outcome{Status: string(templates.StatusPlanned)}},
		{Repo: r, Project: records.Project{ProjectCore: config.ProjectCore{Name: "db"}},
			Outcome: records.Outcome{Status: string(templates.StatusNoChanges)}},
		{Repo: r, Project: records.Project{ProjectCore: config.ProjectCore{Name: "net", AutoRemediate: true}},
			Outcome: records.Outcome{Status: string(templates.StatusPlanError)}},
	}
	h := &hooks{}
	run := records.Run{Repo: r, DriftRun: "d1"}
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			drift.Report(ctx, rec, h, slog.New(slog.DiscardHandler), run, jobs)
		}()
	}
	wg.Wait()
	want := []string{"issue app drifted", "check app drifted", "remediate app #1",
		"issue db in_sync", "check db in_sync", "issue net error", "check net error", "done acme/infra d1"}
	if !slices.Equal(h.calls, want) {
		t.Fatalf("five reports of one run asked\n%v\nwant once\n%v", h.calls, want)
	}
	var dr records.DriftRun
	if _, err := rec.Get(ctx, records.DriftRuns, "d1", &dr); err != nil {
		t.Fatal(err)
	}
	if dr.State != records.DriftRunDone || len(dr.Projects) != 3 {
		t.Fatalf("run after the report: %s with %d projects", dr.State, len(dr.Projects))
	}
	for _, p := range dr.Projects {
		if p.Project == "app" && (p.Issue == nil || *p.Issue != 1 || p.Status != records.DriftDrifted) {
			t.Errorf("app's result: %+v", p)
		}
		if p.Project != "app" && p.Issue != nil {
			t.Errorf("%s has issue %d", p.Project, *p.Issue)
		}
	}

	// An issue that could not be written neither stops the report nor
	// remediates.
	h2 := &hooks{issueErr: errors.New("github down")}
	if err := rec.Put(ctx, records.DriftRuns, "d2", records.DriftRun{ID: "d2", Repo: "acme/infra", State: records.DriftRunQueued}); err != nil {
		t.Fatal(err)
	}
	if err := rec.StartDriftRun(ctx, "d2", "abc", []string{"app"}); err != nil {
		t.Fatal(err)
	}
	h2.nextIssue = -1 // the failing host returns no issue
	drift.Report(ctx, rec, h2, slog.New(slog.DiscardHandler), records.Run{Repo: r, DriftRun: "d2"}, jobs[:1])
	if want := []string{"issue app drifted", "check app drifted", "done acme/infra d2"}; !slices.Equal(h2.calls, want) {
		t.Errorf("report with a failing issue: %v, want %v", h2.calls, want)
	}
}
