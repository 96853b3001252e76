package order_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/order"
	"github.com/atollhq/atoll/runner/records"
)

// groups is a Groups over a real bbolt store holding jobs, all of run r1
// in their order.
func groups(t *testing.T, jobs ...records.Job) (order.Groups, func(records.Job)) {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rec := records.New(db)
	ctx := context.Background()
	put := func(j records.Job) {
		t.Helper()
		if err := rec.Put(ctx, records.Jobs, j.ID, j); err != nil {
			t.Fatal(err)
		}
	}
	run := records.Run{ID: "r1", Ordered: true}
	for _, j := range jobs {
		put(j)
		run.JobIDs = append(run.JobIDs, j.ID)
	}
	if err := rec.Put(ctx, records.Runs, run.ID, run); err != nil {
		t.Fatal(err)
	}
	return order.Groups{Records: rec}, put
}

// Jobs of a run start group by group; with abort_on_execution_order_fail a
// failure in an earlier group skips the later ones.
func TestExecutionOrderGroups(t *testing.T) {
	ctx := context.Background()
	jobs := []records.Job{
		{ID: "a", RunID: "r1", State: records.JobRunning, Project: records.Project{ProjectCore: config.ProjectCore{Name: "network"}, OrderGroup: 0}},
		{ID: "b", RunID: "r1", State: records.JobQueued, Project: records.Project{ProjectCore: config.ProjectCore{Name: "database"}, OrderGroup: 1}},
		{ID: "c", RunID: "r1", State: records.JobQueued,
			Project: records.Project{ProjectCore: config.ProjectCore{Name: "app"}, OrderGroup: 2, AbortOnOrderFail: true}},
		{ID: "d", RunID: "r1", State: records.JobQueued, Project: records.Project{ProjectCore: config.ProjectCore{Name: "dns"}, OrderGroup: 0}},
	}
	g, put := groups(t, jobs...)
	if g.Wait(ctx, "d") {
		t.Error("a job of the lowest group waited")
	}
	if !g.Wait(ctx, "b") || !g.Wait(ctx, "c") {
		t.Error("jobs of later groups started while the first group runs")
	}
	jobs[0].State, jobs[3].State = records.JobSucceeded, records.JobSucceeded
	put(jobs[0])
	put(jobs[3])
	if g.Wait(ctx, "b") {
		t.Error("group 1 waits although group 0 is done")
	}
	if !g.Wait(ctx, "c") {
		t.Error("group 2 starts while group 1 is queued")
	}
	if got := g.Queued(ctx, "r1"); !reflect.DeepEqual(got, []string{"b", "c"}) { // d and a are final
		t.Errorf("released %v, want the queued jobs of later groups [b c]", got)
	}

	jobs[1].State = records.JobFailed
	put(jobs[1])
	if failed := g.Aborted(ctx, jobs[2]); failed != "database" {
		t.Errorf("abort_on_execution_order_fail: failed %q, want database", failed)
	}
	jobs[2].Project.AbortOnOrderFail = false
	if failed := g.Aborted(ctx, jobs[2]); failed != "" {
		t.Errorf("a later group was skipped without abort_on_execution_order_fail (%q)", failed)
	}
}

// A run without groups releases nothing and never waits.
func TestUnorderedRun(t *testing.T) {
	ctx := context.Background()
	g, _ := groups(t)
	if g.Wait(ctx, "nope") || len(g.Queued(ctx, "nope")) != 0 {
		t.Error("an unknown job or run is ordered")
	}
}

func TestPendingDependencies(t *testing.T) {
	prod := records.Plan{Project: records.Project{ProjectCore: config.ProjectCore{Name: "production"}, OrderGroup: 3,
		DependsOn: []string{"staging", "development"}}}
	plans := map[string]records.Plan{
		"staging": {Project: records.Project{ProjectCore: config.ProjectCore{Name: "staging"}, OrderGroup: 2},
			State: records.PlanPlanned, HasChanges: true},
		"development": {Project: records.Project{ProjectCore: config.ProjectCore{Name: "development"}}, State: records.PlanApplied, HasChanges: true},
	}
	if got := order.PendingDependencies(prod, plans, map[string]int{"production": 3}); len(got) != 1 || got[0] != "staging" {
		t.Errorf("staging not applied: %v", got)
	}
	if got := order.PendingDependencies(prod, plans, map[string]int{"production": 3, "staging": 2}); len(got) != 0 {
		t.Errorf("staging applied first by the same apply (earlier group): %v", got)
	}
	if got := order.PendingDependencies(prod, map[string]records.Plan{}, nil); len(got) != 0 {
		t.Errorf("dependencies this pull request does not change: %v", got)
	}
}

// parallel_plan: false runs a run's plans one after another.
func TestSerialPlans(t *testing.T) {
	ctx := context.Background()
	g, _ := groups(t,
		records.Job{ID: "a", RunID: "r1", Kind: records.JobPlan, State: records.JobRunning,
			Project: records.Project{ProjectCore: config.ProjectCore{Name: "a"}, SerialPlan: true}},
		records.Job{ID: "b", RunID: "r1", Kind: records.JobPlan, State: records.JobQueued,
			Project: records.Project{ProjectCore: config.ProjectCore{Name: "b"}, SerialPlan: true}},
		records.Job{ID: "c", RunID: "r1", Kind: records.JobApply, State: records.JobQueued,
			Project: records.Project{ProjectCore: config.ProjectCore{Name: "c"}, SerialPlan: true}},
	)
	if !g.Wait(ctx, "b") {
		t.Error("a serial plan started while the plan before it runs")
	}
	if g.Wait(ctx, "c") {
		t.Error("an apply waited for parallel_plan: false")
	}
	if g.Wait(ctx, "a") {
		t.Error("the first plan waited")
	}
}
