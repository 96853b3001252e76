package runner

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/records"
)

func orderTestRunner(t *testing.T) *Runner {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return testRunner(t, Config{Store: db})
}

// Jobs of a run start group by group; with abort_on_execution_order_fail a
// failure in an earlier group skips the later ones.
func TestExecutionOrderGroups(t *testing.T) {
	ctx := context.Background()
	r := orderTestRunner(t)
	jobs := []Job{
		{ID: "a", RunID: "r1", State: JobRunning, Project: Project{Name: "network", OrderGroup: 0}},
		{ID: "b", RunID: "r1", State: JobQueued, Project: Project{Name: "database", OrderGroup: 1}},
		{ID: "c", RunID: "r1", State: JobQueued, Project: Project{Name: "app", OrderGroup: 2, AbortOnOrderFail: true}},
		{ID: "d", RunID: "r1", State: JobQueued, Project: Project{Name: "dns", OrderGroup: 0}},
	}
	put := func(j Job) {
		t.Helper()
		if err := r.rec.Put(ctx, records.Jobs, j.ID, j); err != nil {
			t.Fatal(err)
		}
	}
	for _, j := range jobs {
		put(j)
	}
	if err := r.rec.Put(ctx, records.Runs, "r1", Run{ID: "r1", JobIDs: []string{"a", "b", "c", "d"}, Ordered: true}); err != nil {
		t.Fatal(err)
	}
	if r.orderWait(ctx, "d") {
		t.Error("a job of the lowest group waited")
	}
	if !r.orderWait(ctx, "b") || !r.orderWait(ctx, "c") {
		t.Error("jobs of later groups started while the first group runs")
	}
	jobs[0].State, jobs[3].State = JobSucceeded, JobSucceeded
	put(jobs[0])
	put(jobs[3])
	if r.orderWait(ctx, "b") {
		t.Error("group 1 waits although group 0 is done")
	}
	if !r.orderWait(ctx, "c") {
		t.Error("group 2 starts while group 1 is queued")
	}
	r.releaseOrdered(ctx, "r1")
	var queued []string
	for len(r.queue) > 0 {
		queued = append(queued, <-r.queue)
	}
	if !reflect.DeepEqual(queued, []string{"b", "c"}) { // d and a are final
		t.Errorf("released %v, want the queued jobs of later groups [b c]", queued)
	}

	jobs[1].State = JobFailed
	put(jobs[1])
	out, skip := r.orderAborted(ctx, jobs[2])
	if !skip || !strings.Contains(out.Error, "database, in an earlier execution order group, failed") {
		t.Errorf("abort_on_execution_order_fail: skip %v, %q", skip, out.Error)
	}
	jobs[2].Project.AbortOnOrderFail = false
	if _, skip := r.orderAborted(ctx, jobs[2]); skip {
		t.Error("a later group was skipped without abort_on_execution_order_fail")
	}
}

func TestPendingDependencies(t *testing.T) {
	prod := Plan{Project: Project{Name: "production", OrderGroup: 3, DependsOn: []string{"staging", "development"}}}
	plans := map[string]Plan{
		"staging":     {Project: Project{Name: "staging", OrderGroup: 2}, State: PlanPlanned, HasChanges: true},
		"development": {Project: Project{Name: "development"}, State: PlanApplied, HasChanges: true},
	}
	if got := pendingDependencies(prod, plans, map[string]int{"production": 3}); len(got) != 1 || got[0] != "staging" {
		t.Errorf("staging not applied: %v", got)
	}
	if got := pendingDependencies(prod, plans, map[string]int{"production": 3, "staging": 2}); len(got) != 0 {
		t.Errorf("staging applied first by the same apply (earlier group): %v", got)
	}
	if got := pendingDependencies(prod, map[string]Plan{}, nil); len(got) != 0 {
		t.Errorf("dependencies this pull request does not change: %v", got)
	}
}

// parallel_plan: false runs a run's plans one after another.
func TestSerialPlans(t *testing.T) {
	ctx := context.Background()
	r := orderTestRunner(t)
	jobs := []Job{
		{ID: "a", RunID: "r1", Kind: JobPlan, State: JobRunning, Project: Project{Name: "a", SerialPlan: true}},
		{ID: "b", RunID: "r1", Kind: JobPlan, State: JobQueued, Project: Project{Name: "b", SerialPlan: true}},
		{ID: "c", RunID: "r1", Kind: JobApply, State: JobQueued, Project: Project{Name: "c", SerialPlan: true}},
	}
	for _, j := range jobs {
		if err := r.rec.Put(ctx, records.Jobs, j.ID, j); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.rec.Put(ctx, records.Runs, "r1", Run{ID: "r1", JobIDs: []string{"a", "b", "c"}, Ordered: true}); err != nil {
		t.Fatal(err)
	}
	if !r.orderWait(ctx, "b") {
		t.Error("a serial plan started while the plan before it runs")
	}
	if r.orderWait(ctx, "c") {
		t.Error("an apply waited for parallel_plan: false")
	}
	if r.orderWait(ctx, "a") {
		t.Error("the first plan waited")
	}
}
