package drift_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// issueHost is an in-memory code host's issues and comments.
type issueHost struct {
	issues   map[int]*vcs.Issue
	comments map[int][]string
	updates  int
	fail     error // returned by every write while set
}

func newIssueHost() *issueHost {
	return &issueHost{issues: map[int]*vcs.Issue{}, comments: map[int][]string{}}
}

func (h *issueHost) CreateIssue(_ context.Context, _ vcs.Repo, i vcs.Issue) (vcs.Issue, error) {
	if h.fail != nil {
		return vcs.Issue{}, h.fail
	}
	i.Number, i.State = 100+len(h.issues), "open"
	h.issues[i.Number] = &i
	return i, nil
}

func (h *issueHost) UpdateIssue(_ context.Context, _ vcs.Repo, n int, u vcs.IssueUpdate) error {
	if h.fail != nil {
		return h.fail
	}
	i := h.issues[n]
	if i == nil {
		return fmt.Errorf("no issue #%d", n)
	}
	h.updates++
	if u.Title != nil {
		i.Title = *u.Title
	}
	if u.Body != nil {
		i.Body = *u.Body
	}
	if u.State != nil {
		i.State = *u.State
	}
	return nil
}

func (h *issueHost) ListIssues(_ context.Context, _ vcs.Repo, label, state string) ([]vcs.Issue, error) {
	var out []vcs.Issue
	for _, i := range h.issues {
		if i.State == state && slices.Contains(i.Labels, label) {
			out = append(out, *i)
		}
	}
	return out, nil
}

func (h *issueHost) CreateComment(_ context.Context, _ vcs.Repo, n int, body string) (vcs.Comment, error) {
	if h.fail != nil {
		return vcs.Comment{}, h.fail
	}
	h.comments[n] = append(h.comments[n], body)
	return vcs.Comment{}, nil
}

type fixture struct {
	host   *issueHost
	rec    records.Records
	t      drift.Tracker
	now    time.Time
	audits []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{host: newIssueHost(), rec: records.New(db), now: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)}
	f.t = drift.Tracker{Host: f.host, Render: tmpl, Records: f.rec,
		Now:  func() time.Time { return f.now },
		Mask: func(s string) string { return strings.ReplaceAll(s, "hunter2", "***") },
		Audit: func(_ context.Context, j records.Job, action string, issue int) {
			f.audits = append(f.audits, fmt.Sprintf("%s #%d %s", action, issue, j.Project.Name))
		}}
	return f
}

func job(status templates.ProjectStatus, hash, plan string) records.Job {
	return records.Job{Kind: records.JobDrift, Repo: vcs.Repo{Owner: "acme", Name: "infra", DefaultBranch: "main"},
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default"}}, Commit: "0123456789abcdef",
		Outcome: records.Outcome{Status: string(status), Hash: hash, PlanText: plan}}
}

// check tracks one check of job j, an hour after the last one.
func (f *fixture) check(t *testing.T, j records.Job) int {
	t.Helper()
	f.now = f.now.Add(time.Hour)
	status := drift.Status(j.Outcome)
	n, err := f.t.Track(context.Background(), j, status, templates.ProjectResult{Name: j.Project.Name,
		Status: templates.ProjectStatus(j.Outcome.Status), PlanText: j.Outcome.PlanText})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) record(t *testing.T) records.DriftRecord {
	t.Helper()
	var rec records.DriftRecord
	if ok, err := f.rec.Get(context.Background(), records.Drift, records.DriftKey("acme/infra", "app"), &rec); err != nil || !ok {
		t.Fatalf("drift record: found %v, %v", ok, err)
	}
	return rec
}

// A project's issue opens when drift appears, is left alone while it stays
// the same, is updated when it changes, gets a comment on an error and is
// closed when the drift is gone; the record follows each step.
func TestTrackerIssueLifecycle(t *testing.T) {
	f := newFixture(t)
	n := f.check(t, job(templates.StatusPlanned, "h1", "~ bucket password hunter2"))
	issue := f.host.issues[n]
	if n == 0 || issue == nil || issue.State != "open" {
		t.Fatalf("drift found: issue #%d %+v, want an open issue", n, issue)
	}
	if !slices.Equal(issue.Labels, []string{"atoll:drift", "atoll:drift:app"}) {
		t.Errorf("labels = %v", issue.Labels)
	}
	if !strings.Contains(issue.Body, "acme/infra") || strings.Contains(issue.Body, "hunter2") {
		t.Errorf("issue body does not name the repository or shows a secret:\n%s", issue.Body)
	}
	if rec := f.record(t); rec.Issue != n || rec.Hash != "h1" || !rec.FirstSeen.Equal(f.now) {
		t.Errorf("record after drift found = issue %d hash %q first seen %s", rec.Issue, rec.Hash, rec.FirstSeen)
	}
	firstSeen := f.now

	if got := f.check(t, job(templates.StatusPlanned, "h1", "~ bucket")); got != n {
		t.Fatalf("same drift: issue #%d, want #%d", got, n)
	}
	if f.host.updates != 0 || len(f.host.comments[n]) != 0 || len(f.host.issues) != 1 {
		t.Fatalf("same drift edited the issue: %d updates, comments %v, %d issues", f.host.updates, f.host.comments[n], len(f.host.issues))
	}
	if rec := f.record(t); !rec.LastSeen.Equal(f.now) || !rec.FirstSeen.Equal(firstSeen) {
		t.Errorf("same drift: last seen %s first seen %s", rec.LastSeen, rec.FirstSeen)
	}

	f.check(t, job(templates.StatusPlanned, "h2", "~ bucket, + queue"))
	if f.host.updates != 1 || len(f.host.comments[n]) != 1 || len(f.host.issues) != 1 {
		t.Fatalf("changed drift: %d updates, %d comments, %d issues; want the issue updated once with a comment", f.host.updates, len(f.host.comments[n]), len(f.host.issues))
	}
	if rec := f.record(t); rec.Hash != "h2" || !rec.FirstSeen.Equal(firstSeen) {
		t.Errorf("changed drift: hash %q first seen %s, want h2 and %s", rec.Hash, rec.FirstSeen, firstSeen)
	}

	errJob := job(templates.StatusPlanError, "", "")
	errJob.Outcome.Error = "provider down"
	if got := f.check(t, errJob); got != n || f.host.issues[n].State != "open" || len(f.host.comments[n]) != 2 {
		t.Fatalf("error: issue #%d state %s, %d comments; want #%d open with a second comment", got, f.host.issues[n].State, len(f.host.comments[n]), n)
	}

	if got := f.check(t, job(templates.StatusNoChanges, "", "")); got != 0 {
		t.Fatalf("in sync: issue #%d still reported", got)
	}
	if f.host.issues[n].State != "closed" || len(f.host.comments[n]) != 3 {
		t.Fatalf("in sync: issue %s with %d comments, want closed after a third", f.host.issues[n].State, len(f.host.comments[n]))
	}
	rec := f.record(t)
	if rec.Issue != 0 || rec.Hash != "" || len(rec.History) != 5 {
		t.Errorf("record after in sync = issue %d hash %q, %d checks; want none, none, 5", rec.Issue, rec.Hash, len(rec.History))
	}
	want := []string{records.DriftDrifted, records.DriftDrifted, records.DriftDrifted, records.DriftError, records.DriftInSync}
	for i, h := range rec.History {
		if h.Status != want[i] {
			t.Errorf("history[%d] = %s, want %s", i, h.Status, want[i])
		}
	}
	if !slices.Equal(f.audits, []string{fmt.Sprintf("drift.found #%d app", n), fmt.Sprintf("drift.resolved #%d app", n)}) {
		t.Errorf("audits = %v", f.audits)
	}

	if got := f.check(t, job(templates.StatusPlanned, "h3", "~ bucket")); got == n || got == 0 {
		t.Errorf("drift after the issue closed: issue #%d, want a new one", got)
	}
}

// An open drift issue atoll lost the record of is found by its label and
// updated, not opened twice; an in-sync check with no issue posts nothing.
func TestTrackerFindsLostIssue(t *testing.T) {
	f := newFixture(t)
	f.check(t, job(templates.StatusNoChanges, "", ""))
	if len(f.host.issues) != 0 || len(f.audits) != 0 {
		t.Fatalf("in sync without an issue opened one: %v", f.host.issues)
	}
	lost, _ := f.host.CreateIssue(context.Background(), vcs.Repo{}, vcs.Issue{Title: "old", Labels: []string{"atoll:drift", "atoll:drift:app"}})
	if got := f.check(t, job(templates.StatusPlanned, "h1", "~ bucket")); got != lost.Number {
		t.Fatalf("issue #%d, want the lost #%d", got, lost.Number)
	}
	if len(f.host.issues) != 1 || f.host.updates != 1 || f.host.issues[lost.Number].Title == "old" {
		t.Errorf("lost issue not updated in place: %d issues, %d updates", len(f.host.issues), f.host.updates)
	}
}

// The history keeps the last drift.History checks; a code host that fails
// gives an error and the check is still remembered.
func TestTrackerHistoryAndHostFailure(t *testing.T) {
	f := newFixture(t)
	for range drift.History + 5 {
		f.check(t, job(templates.StatusNoChanges, "", ""))
	}
	if rec := f.record(t); len(rec.History) != drift.History || !rec.History[len(rec.History)-1].At.Equal(f.now) {
		t.Fatalf("history holds %d checks, want the last %d", len(rec.History), drift.History)
	}
	f.host.fail = errors.New("github down")
	f.now = f.now.Add(time.Hour)
	j := job(templates.StatusPlanned, "h1", "~ bucket")
	_, err := f.t.Track(context.Background(), j, drift.Status(j.Outcome), templates.ProjectResult{Name: "app"})
	if err == nil || !strings.Contains(err.Error(), "open drift issue") {
		t.Fatalf("host failure: err = %v", err)
	}
	if rec := f.record(t); rec.History[len(rec.History)-1].Status != records.DriftDrifted || rec.Issue != 0 {
		t.Errorf("host failure: last check %s, issue %d", rec.History[len(rec.History)-1].Status, rec.Issue)
	}
}
