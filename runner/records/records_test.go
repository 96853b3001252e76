package records_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
)

// open returns Records over a real store in a temp dir.
func open(t *testing.T) records.Records {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return records.New(db)
}

func TestPlansOfListsOnePullRequest(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	for _, p := range []records.Plan{
		{Repo: "acme/infra", Number: 1, Project: records.Project{ProjectCore: config.ProjectCore{Name: "app"}}},
		{Repo: "acme/infra", Number: 1, Project: records.Project{ProjectCore: config.ProjectCore{Name: "db"}}},
		{Repo: "acme/infra", Number: 10, Project: records.Project{ProjectCore: config.ProjectCore{Name: "app"}}},
		{Repo: "acme/infra-old", Number: 1, Project: records.Project{ProjectCore: config.ProjectCore{Name: "app"}}},
	} {
		if err := r.Put(ctx, records.Plans, records.PlanKey(p.Repo, p.Number, p.Project.Name), p); err != nil {
			t.Fatal(err)
		}
	}
	plans, err := r.PlansOf(ctx, "acme/infra", 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range plans {
		got = append(got, p.Repo+"#"+p.Project.Name)
	}
	if want := []string{"acme/infra#app", "acme/infra#db"}; !slices.Equal(got, want) {
		t.Errorf("plans of acme/infra#1 = %v, want %v (not #10's, not another repo's)", got, want)
	}
}

func TestSetPlanState(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	key := records.PlanKey("acme/infra", 3, "app")
	// A plan that is gone stays gone.
	if err := r.SetPlanState(ctx, key, records.PlanApplied, "j1"); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Get(ctx, records.Plans, key, &records.Plan{}); ok || err != nil {
		t.Fatalf("a missing plan was written by SetPlanState (ok %v, err %v)", ok, err)
	}
	if err := r.Put(ctx, records.Plans, key, records.Plan{State: records.PlanPlanned, ApplyJob: "j0"}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		state records.PlanState
		job   string
		want  string // apply job afterwards
	}{
		{records.PlanApplying, "j1", "j1"},
		{records.PlanPlanned, "", "j1"}, // "" keeps the apply job
		{records.PlanApplyFailed, "j2", "j2"},
	}
	for _, s := range steps {
		if err := r.SetPlanState(ctx, key, s.state, s.job); err != nil {
			t.Fatal(err)
		}
		var p records.Plan
		if _, err := r.Get(ctx, records.Plans, key, &p); err != nil {
			t.Fatal(err)
		}
		if p.State != s.state || p.ApplyJob != s.want {
			t.Errorf("after SetPlanState(%s, %q): state %s, apply job %q; want %s, %q", s.state, s.job, p.State, p.ApplyJob, s.state, s.want)
		}
	}
}

func TestRecordApproval(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	key := records.ApprovalKey("acme/infra", 3, "abc", "app", "cost")
	users := func() []string {
		t.Helper()
		var a records.PolicyApproval
		if _, err := r.Get(ctx, records.Approvals, key, &a); err != nil {
			t.Fatal(err)
		}
		if a.Set != "cost" || a.Project != "app" {
			t.Fatalf("approval names set %q project %q", a.Set, a.Project)
		}
		return a.Users
	}
	for _, step := range []struct {
		user  string
		clear bool
		want  []string
	}{
		{"alice", false, []string{"alice"}},
		{"ALICE", false, []string{"ALICE"}}, // once, whatever the case
		{"bob", false, []string{"ALICE", "bob"}},
		{"alice", true, []string{"bob"}},
	} {
		if err := r.RecordApproval(ctx, key, "cost", "app", step.user, step.clear); err != nil {
			t.Fatal(err)
		}
		if got := users(); !slices.Equal(got, step.want) {
			t.Errorf("after %s (clear %v): approvers %v, want %v", step.user, step.clear, got, step.want)
		}
	}
	// Approvals bind to a head: another head's prefix lists none of them.
	other, err := records.List[records.PolicyApproval](ctx, r, records.Approvals, records.ApprovalPrefix("acme/infra", 3, "def"))
	if err != nil || len(other) != 0 {
		t.Errorf("approvals at another head: %v, %v; want none", other, err)
	}
}

func TestUpdateAbortWritesNothing(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	err := records.Update(ctx, r, records.Runs, "r1", func(v *records.Run, exists bool) error {
		v.ID = "r1"
		return records.ErrAbort
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.Get(ctx, records.Runs, "r1", &records.Run{}); ok {
		t.Error("an aborted Update wrote its record")
	}
	boom := errors.New("boom")
	if err := records.Update(ctx, r, records.Runs, "r1", func(*records.Run, bool) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Update returned %v, want the function's error", err)
	}
	// In a batch, an aborted update leaves its record as it was and the
	// rest of the batch is written.
	batch := []locks.RecordUpdate{
		records.TypedUpdate(records.Runs, "r2", func(*records.Run, bool) error { return records.ErrAbort }),
		records.PutUpdate(records.Runs, "r3", records.Run{ID: "r3"}),
	}
	if err := r.Store().UpdateRecords(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.Get(ctx, records.Runs, "r2", &records.Run{}); ok {
		t.Error("an aborted batch update wrote its record")
	}
	var run records.Run
	if ok, _ := r.Get(ctx, records.Runs, "r3", &run); !ok || run.ID != "r3" {
		t.Error("the rest of the batch was not written")
	}
}

func TestNewIDSortsByAgeAndIsUnguessable(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	day := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	a, err := r.NewID(ctx, records.Jobs, day)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.NewID(ctx, records.Jobs, day)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, "20261207-") || a >= b {
		t.Errorf("ids %q, %q: want the day first and a later id sorting after", a, b)
	}
	if parts := strings.Split(a, "-"); len(parts) != 3 || len(parts[2]) != 32 {
		t.Errorf("id %q: want day-counter-128 random bits in hex", a)
	}
}

func TestOnceMarksOnce(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	for i, want := range []bool{true, false, false} {
		first, err := r.Once(ctx, "acme/infra", 4, "note#fork", []byte("1"))
		if err != nil || first != want {
			t.Errorf("call %d: first = %v, %v; want %v", i+1, first, err, want)
		}
	}
	// Another pull request, or another mark, is its own.
	if first, _ := r.Once(ctx, "acme/infra", 5, "note#fork", nil); !first {
		t.Error("the mark of #4 counted for #5")
	}
	if first, _ := r.Once(ctx, "acme/infra", 4, "merged", []byte("abc")); !first {
		t.Error("another mark of #4 was taken as marked")
	}
}

// Two appliers claim one plan: exactly one wins, and a plan that was
// replaced (another plan job) or is not planned any more is never claimed.
func TestClaimPlanOnce(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	key := records.PlanKey("acme/infra", 6, "app")
	if err := r.Put(ctx, records.Plans, key, records.Plan{State: records.PlanPlanned, PlanJob: "j1"}); err != nil {
		t.Fatal(err)
	}
	same := func(p records.Plan) bool { return p.PlanJob == "j1" }
	if ok, err := r.ClaimPlan(ctx, key, func(p records.Plan) bool { return p.PlanJob == "j0" }); ok || err != nil {
		t.Fatalf("a replaced plan was claimed (%v, %v)", ok, err)
	}
	if ok, err := r.ClaimPlan(ctx, key, same); !ok || err != nil {
		t.Fatalf("first claim = %v, %v; want claimed", ok, err)
	}
	if ok, err := r.ClaimPlan(ctx, key, same); ok || err != nil {
		t.Fatalf("second claim = %v, %v; want refused: the plan is being applied", ok, err)
	}
	var p records.Plan
	if _, err := r.Get(ctx, records.Plans, key, &p); err != nil || p.State != records.PlanApplying {
		t.Errorf("claimed plan state %s, %v; want applying", p.State, err)
	}
	if ok, _ := r.ClaimPlan(ctx, records.PlanKey("acme/infra", 6, "gone"), same); ok {
		t.Error("a missing plan was claimed")
	}
}

// A remediation approval binds to the plan job: a new plan of the issue's
// project starts with no approvers.
func TestRecordRemediationApproval(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	get := func() records.RemediationApproval {
		t.Helper()
		var a records.RemediationApproval
		if _, err := r.Get(ctx, records.Approvals, records.RemediationApprovalKey("acme/infra", 12, "app"), &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, step := range []struct {
		job, user string
		clear     bool
		want      []string
	}{
		{"p1", "alice", false, []string{"alice"}},
		{"p1", "bob", false, []string{"alice", "bob"}},
		{"p1", "Alice", true, []string{"bob"}},
		{"p2", "carol", false, []string{"carol"}}, // a new plan: bob's approval was of p1
	} {
		if err := r.RecordRemediationApproval(ctx, "acme/infra", 12, "app", step.job, step.user, step.clear); err != nil {
			t.Fatal(err)
		}
		if a := get(); a.PlanJob != step.job || !slices.Equal(a.Users, step.want) {
			t.Errorf("after %s on %s (clear %v): %+v, want %v", step.user, step.job, step.clear, a, step.want)
		}
	}
}

// At a merge, plans not applied move to merged (no apply comment can
// claim them any more); applied and applying plans are reported as such.
func TestMarkPlansMerged(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	for name, p := range map[string]records.Plan{
		"planned":  {State: records.PlanPlanned},
		"failed":   {State: records.PlanApplyFailed},
		"applying": {State: records.PlanApplying},
		"applied":  {State: records.PlanApplied, HasChanges: true},
		"nochange": {State: records.PlanApplied},
	} {
		p.Repo, p.Number, p.Project = "acme/infra", 9, records.Project{ProjectCore: config.ProjectCore{Name: name}}
		if err := r.Put(ctx, records.Plans, records.PlanKey(p.Repo, p.Number, name), p); err != nil {
			t.Fatal(err)
		}
	}
	applied, applying, err := r.MarkPlansMerged(ctx, "acme/infra", 9)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 2 || !applied["applying"] || !applied["applied"] || len(applying) != 1 || applying[0].Name != "applying" {
		t.Errorf("applied %v, applying %v", applied, applying)
	}
	plans, _ := r.PlansOf(ctx, "acme/infra", 9)
	for _, p := range plans {
		want := map[string]records.PlanState{"planned": records.PlanMerged, "failed": records.PlanMerged, "applying": records.PlanApplying,
			"applied": records.PlanApplied, "nochange": records.PlanApplied}[p.Project.Name]
		if p.State != want {
			t.Errorf("%s: state %s, want %s", p.Project.Name, p.State, want)
		}
	}
	if ok, _ := r.ClaimPlan(ctx, records.PlanKey("acme/infra", 9, "planned"), func(records.Plan) bool { return true }); ok {
		t.Error("a merged plan was claimed for apply")
	}
}
