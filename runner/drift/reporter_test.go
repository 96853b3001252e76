package drift_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// checkHost is an issue host that also keeps the check runs written.
type checkHost struct {
	*issueHost
	checks []vcs.CheckRun
}

func (h *checkHost) CreateCheckRun(_ context.Context, _ vcs.Repo, cr vcs.CheckRun) (vcs.CheckRun, error) {
	h.checks = append(h.checks, cr)
	return cr, nil
}

// views shows a job as its outcome says, masks "hunter2" and records the
// audit entries and auto-remediations asked for.
type views struct {
	audits     []string
	remediated []string
}

func (v *views) ProjectResult(_ context.Context, j records.Job) templates.ProjectResult {
	return templates.ProjectResult{Name: j.Project.Name, Status: templates.ProjectStatus(j.Outcome.Status), PlanText: j.Outcome.PlanText}
}
func (v *views) JobURL(id string) string { return "https://atoll.example/jobs/" + id }
func (v *views) Mask(s string) string    { return strings.ReplaceAll(s, "hunter2", "***") }
func (v *views) Drift(_ context.Context, j records.Job, action string, issue int) {
	v.audits = append(v.audits, fmt.Sprintf("%s #%d %s", action, issue, j.Project.Name))
}
func (v *views) AutoRemediate(_ context.Context, _ vcs.Repo, issue int, p records.Project) error {
	v.remediated = append(v.remediated, fmt.Sprintf("%s #%d", p.Name, issue))
	return nil
}

// A drift run's report opens the drifted project's issue (secrets
// masked), writes each project's check run with the conclusion a user
// reads (neutral for drift, success in sync, failure on error, linking
// the job), auto-remediates the drifted project that asks for it, stores
// the results and ends the check.
func TestReporterWritesIssuesAndChecks(t *testing.T) {
	rec := openStore(t)
	ctx := context.Background()
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Put(ctx, records.DriftRuns, "d1", records.DriftRun{ID: "d1", Repo: "acme/infra", State: records.DriftRunQueued}); err != nil {
		t.Fatal(err)
	}
	if err := rec.StartDriftRun(ctx, "d1", "0123456789abcdef", []string{"app", "db", "net"}); err != nil {
		t.Fatal(err)
	}
	host := &checkHost{issueHost: newIssueHost()}
	v := &views{}
	var done []string
	p := &drift.Reporter{Records: rec, Host: host, Render: tmpl, Views: v, Trail: v, JobURL: v.JobURL, Remedy: v,
		Done: func(repo, id string) { done = append(done, repo+" "+id) },
		Now:  func() time.Time { return time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC) }, Log: quiet}
	r := vcs.Repo{Owner: "acme", Name: "infra", DefaultBranch: "main"}
	mk := func(id, name string, st templates.ProjectStatus, auto bool) records.Job {
		return records.Job{ID: id, Kind: records.JobDrift, Repo: r, Commit: "0123456789abcdef",
			Project: records.Project{ProjectCore: config.ProjectCore{Name: name, Dir: name, Workspace: "default", AutoRemediate: auto}},
			Outcome: records.Outcome{Status: string(st), Hash: "h-" + name, PlanText: "password = hunter2"}}
	}
	jobs := []records.Job{mk("j1", "app", templates.StatusPlanned, true), mk("j2", "db", templates.StatusNoChanges, true),
		mk("j3", "net", templates.StatusPlanError, false)}
	p.Report(ctx, records.Run{ID: "r1", Repo: r, DriftRun: "d1"}, jobs)
	p.Report(ctx, records.Run{ID: "r1", Repo: r, DriftRun: "d1"}, jobs) // a second job seeing the run complete

	if len(host.issues) != 1 {
		t.Fatalf("issues opened: %d, want one (app's)", len(host.issues))
	}
	for n, i := range host.issues {
		if !strings.Contains(i.Body, "***") || strings.Contains(i.Body, "hunter2") {
			t.Errorf("issue #%d's body does not hide the secret:\n%s", n, i.Body)
		}
		if !slicesContain(i.Labels, drift.IssueLabel("app")) {
			t.Errorf("issue #%d labels %v", n, i.Labels)
		}
		if want := fmt.Sprintf("app #%d", n); len(v.remediated) != 1 || v.remediated[0] != want {
			t.Errorf("auto-remediated %v, want [%s] (db is in sync, net did not ask)", v.remediated, want)
		}
	}
	want := map[string]string{"j1": vcs.ConclusionNeutral, "j2": vcs.ConclusionSuccess, "j3": vcs.ConclusionFailure}
	if len(host.checks) != 3 {
		t.Fatalf("check runs %d, want 3", len(host.checks))
	}
	for i, cr := range host.checks {
		id := jobs[i].ID
		if cr.Conclusion != want[id] || cr.HeadSHA != "0123456789abcdef" || cr.DetailsURL != v.JobURL(id) || strings.Contains(cr.Summary, "hunter2") {
			t.Errorf("check run of %s: %+v", jobs[i].Project.Name, cr)
		}
	}
	if len(v.audits) != 1 || !strings.HasPrefix(v.audits[0], "drift.found") {
		t.Errorf("audited %v, want one drift.found", v.audits)
	}
	if len(done) != 1 || done[0] != "acme/infra d1" {
		t.Errorf("checks ended %v, want acme/infra d1 once", done)
	}
	var dr records.DriftRun
	if _, err := rec.Get(ctx, records.DriftRuns, "d1", &dr); err != nil || dr.State != records.DriftRunDone || len(dr.Projects) != 3 {
		t.Fatalf("run after the report: %+v, %v", dr, err)
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
