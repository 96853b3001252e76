package view_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/mask"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/runner/view"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// host is a code host's pull request comments, as a reader sees them.
type host struct {
	next     int64
	bodies   map[int64]string
	created  int
	onNumber []int
}

func (h *host) CreateComment(_ context.Context, _ vcs.Repo, number int, body string) (vcs.Comment, error) {
	h.next++
	if h.bodies == nil {
		h.bodies = map[int64]string{}
	}
	h.bodies[h.next] = body
	h.created++
	h.onNumber = append(h.onNumber, number)
	return vcs.Comment{ID: h.next, NodeID: "node-" + string(rune('0'+h.next)), Body: body}, nil
}

func (h *host) UpdateComment(_ context.Context, _ vcs.Repo, id int64, body string) error {
	h.bodies[id] = body
	return nil
}

// facts are the runner's answers about a job: a page per job and the
// owners who approved a policy set.
type facts struct{ approvals map[string][]string }

func (facts) JobURL(jobID string) string { return "https://atoll.example/jobs/" + jobID }

func (f facts) ApprovalsFor(context.Context, records.Job) map[string][]string { return f.approvals }

var repo = vcs.Repo{Owner: "acme", Name: "infra"}

func newView(t *testing.T, h *host) *view.View {
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
	return &view.View{Records: records.New(db), Comments: h, Facts: facts{}, Templates: tmpl, Masker: mask.New("s3cr3t-token")}
}

// store puts run and its jobs into v's records.
func store(t *testing.T, v *view.View, run records.Run, jobs ...records.Job) {
	t.Helper()
	ctx := context.Background()
	for _, j := range jobs {
		j.RunID = run.ID
		run.JobIDs = append(run.JobIDs, j.ID)
		if err := v.Records.Put(ctx, records.Jobs, j.ID, j); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Records.Put(ctx, records.Runs, run.ID, run); err != nil {
		t.Fatal(err)
	}
}

func loadRun(t *testing.T, v *view.View, id string) records.Run {
	t.Helper()
	var run records.Run
	if ok, err := v.Records.Get(context.Background(), records.Runs, id, &run); err != nil || !ok {
		t.Fatalf("run %s: %v %v", id, ok, err)
	}
	return run
}

// TestRunCommentIsWrittenOnceAndEditedInPlace: a plan run's comment
// names each project and its result, links its job, hides secrets, and
// is edited in place as the run goes on: one comment, remembered in the
// run's record.
func TestRunCommentIsWrittenOnceAndEditedInPlace(t *testing.T) {
	ctx := context.Background()
	h := &host{}
	v := newView(t, h)
	run := records.Run{ID: "r1", Repo: repo, Number: 7, Command: "plan", User: "alice", HeadSHA: "abcdef1234"}
	net := records.Job{ID: "j1", Kind: records.JobPlan, Repo: repo, Number: 7, State: records.JobSucceeded,
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "network", Dir: "network", Workspace: "default"}},
		Outcome: records.Outcome{Status: string(templates.StatusPlanned), Summary: &terraform.Summary{Create: 2},
			PlanText: "+ resource \"null_resource\" \"n\" # token s3cr3t-token"}}
	app := records.Job{ID: "j2", Kind: records.JobPlan, Repo: repo, Number: 7, State: records.JobRunning,
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default"}},
		Outcome: records.Outcome{Status: string(templates.StatusRunning)}}
	store(t, v, run, net, app)

	if err := v.RenderRun(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if h.created != 1 {
		t.Fatalf("comments created = %d, want 1", h.created)
	}
	body := h.bodies[1]
	for _, want := range []string{"network", "app", "https://atoll.example/jobs/j1"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "s3cr3t-token") {
		t.Errorf("comment shows the secret:\n%s", body)
	}
	if got := loadRun(t, v, "r1").Comments; !reflect.DeepEqual(got, []int64{1}) {
		t.Errorf("run's comments = %v, want [1]", got)
	}

	app.State, app.Outcome = records.JobSucceeded, records.Outcome{Status: string(templates.StatusNoChanges), Summary: &terraform.Summary{}}
	if err := v.Records.Put(ctx, records.Jobs, app.ID, app); err != nil {
		t.Fatal(err)
	}
	if err := v.RenderRun(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if h.created != 1 || h.bodies[1] == body {
		t.Errorf("second render: %d comments created, body changed %v; want the one comment edited", h.created, h.bodies[1] != body)
	}
}

// TestLongCommentIsSplitAndShrinks: a comment over GitHub's limit goes
// out in parts; when it fits in fewer again, the part no longer needed
// says so instead of keeping stale text.
func TestLongCommentIsSplitAndShrinks(t *testing.T) {
	ctx := context.Background()
	h := &host{}
	v := newView(t, h)
	big := strings.Repeat("+ resource \"null_resource\" \"n\" {}\n", templates.CommentLimit/20)
	j := records.Job{ID: "j1", Kind: records.JobPlan, Repo: repo, Number: 7, State: records.JobSucceeded,
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "network", Dir: "network", Workspace: "default"}},
		Outcome: records.Outcome{Status: string(templates.StatusPlanned), Summary: &terraform.Summary{Create: 1}, PlanText: big}}
	store(t, v, records.Run{ID: "r1", Repo: repo, Number: 7, Command: "plan", User: "alice"}, j)
	if err := v.RenderRun(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if h.created < 2 {
		t.Fatalf("comments created = %d, want the plan in parts", h.created)
	}
	j.Outcome.PlanText = "+ small"
	if err := v.Records.Put(ctx, records.Jobs, j.ID, j); err != nil {
		t.Fatal(err)
	}
	if err := v.RenderRun(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.bodies[1], "+ small") {
		t.Errorf("first part does not show the new plan:\n%s", h.bodies[1])
	}
	if !strings.Contains(h.bodies[2], "no longer needed") {
		t.Errorf("second part = %q, want it emptied", h.bodies[2])
	}
}

// TestSilencedRunWritesNothing: a run whose every project silences its
// command's comment (silence_pr_comments) posts none.
func TestSilencedRunWritesNothing(t *testing.T) {
	h := &host{}
	v := newView(t, h)
	j := records.Job{ID: "j1", Kind: records.JobPlan, Repo: repo, Number: 7, State: records.JobSucceeded,
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "network", Dir: "network", Workspace: "default"}, Silence: []string{"plan"}},
		Outcome: records.Outcome{Status: string(templates.StatusNoChanges)}}
	store(t, v, records.Run{ID: "r1", Repo: repo, Number: 7, Command: "autoplan"}, j)
	if err := v.RenderRun(context.Background(), "r1"); err != nil {
		t.Fatal(err)
	}
	if h.created != 0 {
		t.Errorf("comments created = %d, want none", h.created)
	}
}

// TestVerboseShowsTheLogTail: --verbose puts the end of each finished
// job's log in the comment, without terminal colours.
func TestVerboseShowsTheLogTail(t *testing.T) {
	h := &host{}
	v := newView(t, h)
	log := filepath.Join(t.TempDir(), "j1.log")
	if err := os.WriteFile(log, []byte("first line\n\x1b[32mInitializing the backend...\x1b[0m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	j := records.Job{ID: "j1", Kind: records.JobPlan, Repo: repo, Number: 7, State: records.JobSucceeded, LogPath: log,
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "network", Dir: "network", Workspace: "default"}},
		Outcome: records.Outcome{Status: string(templates.StatusPlanned), Summary: &terraform.Summary{Create: 1}, PlanText: "+ n"}}
	store(t, v, records.Run{ID: "r1", Repo: repo, Number: 7, Command: "plan", User: "alice", Options: records.RunOptions{Verbose: true}}, j)
	if err := v.RenderRun(context.Background(), "r1"); err != nil {
		t.Fatal(err)
	}
	if body := h.bodies[1]; !strings.Contains(body, "Initializing the backend...") || strings.Contains(body, "\x1b[") {
		t.Errorf("comment lacks the plain log tail:\n%s", body)
	}
}

// TestPolicyApprovedByOwners: a failed policy set that its owners
// approved shows as approved, naming them; quiet_policy_checks leaves
// out the sets that passed.
func TestPolicyApprovedByOwners(t *testing.T) {
	h := &host{}
	v := newView(t, h)
	v.Facts = facts{approvals: map[string][]string{"cost": {"bob"}}}
	j := records.Job{ID: "j1", Kind: records.JobPlan, Repo: repo, Number: 7, State: records.JobSucceeded,
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "network"}},
		Outcome: records.Outcome{Status: string(templates.StatusPlanned), Policies: []policy.Result{
			{Set: "cost", Approvals: 1, Owners: []string{"bob"}, Deny: []policy.Message{{Msg: "too dear"}}},
			{Set: "tags"},
		}}}
	p := v.ProjectResult(context.Background(), j)
	if len(p.Policies) != 2 || p.Policies[0].Status != templates.PolicyApproved || !reflect.DeepEqual(p.Policies[0].ApprovedBy, []string{"bob"}) ||
		p.Policies[1].Status != templates.PolicyPassed {
		t.Fatalf("policies = %+v, want cost approved by bob and tags passed", p.Policies)
	}
	if q := view.QuietPolicies(p.Policies); len(q) != 1 || q[0].Set != "cost" {
		t.Errorf("quiet policies = %+v, want only cost", q)
	}
}

func TestQuietPolicies(t *testing.T) {
	in := []templates.PolicyResult{{Set: "ok", Status: templates.PolicyPassed}, {Set: "warn", Status: templates.PolicyWarned},
		{Set: "bad", Status: templates.PolicyFailed}, {Set: "err", Status: templates.PolicyError}, {Set: "appr", Status: templates.PolicyApproved}}
	var got []string
	for _, p := range view.QuietPolicies(in) {
		got = append(got, p.Set)
	}
	if !reflect.DeepEqual(got, []string{"warn", "bad", "err", "appr"}) {
		t.Fatalf("quiet policies = %v: only the sets that passed without a warning go", got)
	}
}

// TestReplyOnceAndConfigError: a once-per-PR note is posted once however
// often it is asked for; a broken configuration's reply names the file,
// the commit and the line.
func TestReplyOnceAndConfigError(t *testing.T) {
	ctx := context.Background()
	h := &host{}
	v := newView(t, h)
	pr := vcs.PullRequest{Repo: repo, Number: 9}
	for range 3 {
		if err := v.ReplyOnce(ctx, pr, "fork", "part_unused.tmpl", templates.PartUnused{ID: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if h.created != 1 {
		t.Errorf("once-per-PR note posted %d times", h.created)
	}
	ce := &projects.ConfigError{File: "atoll.yaml", Commit: "abc1234def", Errors: []templates.FieldError{{Line: 5, Key: "projects[0].autoplan.when_modifed", Kind: "unknown_key", Name: "when_modifed", Suggestion: "when_modified"}}}
	if err := v.ReplyConfigError(ctx, pr, ce); err != nil {
		t.Fatal(err)
	}
	body := h.bodies[2]
	for _, want := range []string{"atoll.yaml", "abc1234", "5", "when_modified"} {
		if !strings.Contains(body, want) {
			t.Errorf("config error reply lacks %q:\n%s", want, body)
		}
	}
}

// TestCheckTextWithoutTemplates: a view without templates still gives
// a check its state as title, and a message its template's name.
func TestCheckTextWithoutTemplates(t *testing.T) {
	v := &view.View{}
	if got := v.CheckText(templates.CheckState("queued"), records.Job{}); got.Title != "queued" {
		t.Errorf("title = %q", got.Title)
	}
	if got := v.Text(templates.PartUnused{}); got != "part_unused.tmpl" {
		t.Errorf("text = %q", got)
	}
}
