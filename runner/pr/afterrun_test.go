package pr

import (
	"context"
	"testing"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

// What a finished run leaves: nothing while a job runs; an open PR whose
// plans are all applied at its head is merged when automerge is on; a
// merged PR's applied projects are released and a failed one is told.
func TestAfterRunDone(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, func(s *config.Server) { s.Automerge.Enabled = true })
	w.openPR(6, "h6")
	w.storePlan(t, 6, "h6", "app", records.PlanApplied, true)
	run := records.Run{ID: "r6", Repo: testRepo, Number: 6, Command: "apply", HeadSHA: "h6"}
	if err := w.rec.Put(ctx, records.Runs, run.ID, run); err != nil {
		t.Fatal(err)
	}
	app := records.Job{Kind: records.JobApply, Repo: testRepo, Number: 6,
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default"}},
		State:   records.JobRunning}
	w.engine.jobs = []records.Job{app}
	w.life.AfterRunDone(ctx, run.ID)
	if len(w.host.merged) != 0 {
		t.Fatalf("merged while a job runs: %v", w.host.merged)
	}
	app.State, app.Outcome.Status = records.JobSucceeded, string(templates.StatusApplied)
	w.engine.jobs = []records.Job{app}
	w.life.AfterRunDone(ctx, run.ID)
	if len(w.host.merged) != 1 || w.host.merged[0] != 6 {
		t.Fatalf("all applied with automerge on: merged %v, want [6]", w.host.merged)
	}

	// A merged PR: the applied project's lock is released, the failed
	// one's kept for a retry, and the failure told.
	pr := w.openPR(7, "h7")
	pr.State, pr.Merged = "closed", true
	w.host.prs[7] = pr
	for _, dir := range []string{"app", "net"} {
		if _, _, err := w.db.TryLock(ctx, locks.Key{Repo: testRepo.FullName(), Dir: dir, Workspace: "default"},
			locks.Owner{Repo: testRepo.FullName(), Number: 7, HeadSHA: "h7"}); err != nil {
			t.Fatal(err)
		}
	}
	merged := records.Run{ID: "r7", Repo: testRepo, Number: 7, Command: "apply-after-merge"}
	if err := w.rec.Put(ctx, records.Runs, merged.ID, merged); err != nil {
		t.Fatal(err)
	}
	ok := records.Job{Kind: records.JobPlanApply, Repo: testRepo, Number: 7, State: records.JobSucceeded,
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default"}},
		Outcome: records.Outcome{Status: string(templates.StatusApplied)}}
	failed := ok
	failed.Project = records.Project{ProjectCore: config.ProjectCore{Name: "net", Dir: "net", Workspace: "default"}}
	failed.State, failed.Outcome.Status = records.JobFailed, string(templates.StatusApplyFailed)
	w.engine.jobs = []records.Job{ok, failed}
	w.life.AfterRunDone(ctx, merged.ID)
	held, err := w.db.ListByOwner(ctx, testRepo.FullName(), 7)
	if err != nil || len(held) != 1 || held[0].Key.Dir != "net" {
		t.Errorf("locks after the merge's apply: %+v (err %v); want net's only", held, err)
	}
	if w.lastSaid() != (templates.MergedApplyFailed{}).Template() {
		t.Errorf("last reply %q, want the merged apply's failure", w.lastSaid())
	}
	if len(w.host.merged) != 1 {
		t.Errorf("a merged PR merged again: %v", w.host.merged)
	}

	// A plan run's labels.
	plan := records.Run{ID: "r8", Repo: testRepo, Number: 6, Command: "plan"}
	if err := w.rec.Put(ctx, records.Runs, plan.ID, plan); err != nil {
		t.Fatal(err)
	}
	w.engine.jobs = []records.Job{{Kind: records.JobPlan, State: records.JobSucceeded, Outcome: records.Outcome{Status: string(templates.StatusPlanned)}}}
	w.life.AfterRunDone(ctx, plan.ID)
	if len(w.host.labels[6]) == 0 {
		t.Errorf("a finished plan run set no labels")
	}
}
