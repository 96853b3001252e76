package records_test

import (
	"context"
	"testing"

	"github.com/atollhq/atoll/runner/records"
)

// A drift run's life: widened while queued, started, its report claimed
// once, cut off and reopened, finished with its results.
func TestDriftRunTransitions(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	get := func() records.DriftRun {
		t.Helper()
		var dr records.DriftRun
		if _, err := r.Get(ctx, records.DriftRuns, "d1", &dr); err != nil {
			t.Fatal(err)
		}
		return dr
	}
	if err := r.Put(ctx, records.DriftRuns, "d1", records.DriftRun{ID: "d1", Repo: "acme/infra", Project: "app", State: records.DriftRunQueued}); err != nil {
		t.Fatal(err)
	}
	if err := r.WidenDriftRun(ctx, "d1", "app"); err != nil || get().Project != "app" {
		t.Fatalf("asking for the same project widened the run: %+v", get())
	}
	if err := r.WidenDriftRun(ctx, "d1", "db"); err != nil || get().Project != "" {
		t.Fatalf("asking for another project did not widen the run to all: %+v", get())
	}
	if err := r.StartDriftRun(ctx, "d1", "abc", []string{"app", "db"}); err != nil {
		t.Fatal(err)
	}
	if dr := get(); dr.State != records.DriftRunRunning || dr.Commit != "abc" || len(dr.Projects) != 2 || dr.Projects[1].Repo != "acme/infra" {
		t.Fatalf("started: %+v", dr)
	}
	if ok, err := r.ClaimDriftReport(ctx, "d1"); !ok || err != nil {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	if ok, _ := r.ClaimDriftReport(ctx, "d1"); ok {
		t.Fatal("a report was claimed twice")
	}
	if err := r.ReopenDriftReport(ctx, "d1"); err != nil || get().State != records.DriftRunRunning {
		t.Fatalf("reopened: %+v", get())
	}
	if ok, _ := r.ClaimDriftReport(ctx, "d1"); !ok {
		t.Fatal("a reopened report could not be claimed again")
	}
	issue := 12
	err := r.FinishDriftReport(ctx, "d1", map[string]records.DriftProject{
		"app": {Repo: "acme/infra", Project: "app", Status: records.DriftDrifted, Issue: &issue},
	})
	if err != nil {
		t.Fatal(err)
	}
	dr := get()
	if dr.State != records.DriftRunDone || dr.Projects[0].Status != records.DriftDrifted || dr.Projects[1].Status != "" {
		t.Fatalf("finished: %+v", dr)
	}
	if ok, _ := r.ClaimDriftReport(ctx, "d1"); ok {
		t.Fatal("a finished run's report was claimed")
	}
	if err := r.EndDriftRun(ctx, "d2", "", "boom"); err != nil {
		t.Fatal(err)
	}
}
