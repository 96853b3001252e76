package records_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// A pull request's state through its life: heads seen, planned, plan
// comments remembered and forgotten, closed, reopened.
func TestPRStateTransitions(t *testing.T) {
	ctx := context.Background()
	r := open(t)
	repo := vcs.Repo{Owner: "acme", Name: "infra"}
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)

	if err := r.MarkClosed(ctx, "acme/infra", 8); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.PRStateOf(ctx, "acme/infra", 8); st.Repo != "" {
		t.Fatalf("closing a PR never seen recorded it: %+v", st)
	}
	last, added, err := r.NoteHead(ctx, "acme/infra", 8, "alice", "aaa", at)
	if err != nil || !added || last.SHA != "aaa" {
		t.Fatalf("first head: %+v %v %v", last, added, err)
	}
	if last, added, _ = r.NoteHead(ctx, "acme/infra", 8, "alice", "aaa", at.Add(time.Hour)); added || !last.At.Equal(at) {
		t.Errorf("the same head again was added (%v) or redated (%s)", added, last.At)
	}
	pr := vcs.PullRequest{Repo: repo, Number: 8, Author: "alice", HeadSHA: "aaa"}
	if err := r.Store().UpdateRecords(ctx, []locks.RecordUpdate{
		records.HeadUpdate(pr, []records.Project{{ProjectCore: config.ProjectCore{Name: "app"}}})}); err != nil {
		t.Fatal(err)
	}
	if err := r.AddPlanComments(ctx, "acme/infra", 8, []string{"C1", "C2"}); err != nil {
		t.Fatal(err)
	}
	st, _ := r.PRStateOf(ctx, "acme/infra", 8)
	if st.HeadSHA != "aaa" || st.Author != "alice" || len(st.Projects) != 1 || !slices.Equal(st.PlanComments, []string{"C1", "C2"}) || len(st.Heads) != 1 {
		t.Fatalf("after planning: %+v", st)
	}
	if err := r.ForgetPlanComments(ctx, "acme/infra", 8); err != nil {
		t.Fatal(err)
	}
	if err := r.MarkClosed(ctx, "acme/infra", 8); err != nil {
		t.Fatal(err)
	}
	st, _ = r.PRStateOf(ctx, "acme/infra", 8)
	if !st.Closed || st.Projects != nil || st.PlanComments != nil || st.HeadSHA != "aaa" {
		t.Fatalf("after closing: %+v (closed, projects forgotten, comments forgotten, head kept)", st)
	}
	pr.HeadSHA = "bbb"
	if err := r.Store().UpdateRecords(ctx, []locks.RecordUpdate{records.HeadUpdate(pr, nil)}); err != nil {
		t.Fatal(err)
	}
	if st, _ = r.PRStateOf(ctx, "acme/infra", 8); st.Closed || st.HeadSHA != "bbb" {
		t.Errorf("after reopening with a new head: %+v", st)
	}
}
