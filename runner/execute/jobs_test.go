package execute

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
	"github.com/atollhq/atoll/vcs/git"
)

// These tests run job bodies as a worker does, without a Runner: real
// git (a repository in a temp dir and vcs/git's mirrors of it), the real
// terraform of the tools cache ("make tools") with its provider mirror,
// and a real bbolt store. The engine and the gate around the jobs are
// hand-written fakes that let everything through.

// toolsDir is where "make tools" puts terraform and the provider mirror.
func toolsDir() string {
	if d := os.Getenv("ATOLL_TOOLS_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "atoll", "tools")
}

// origin is a git repository of one project, "app", whose main.tf
// declares a local_file at out (outside any checkout); base is its first
// commit and head a commit changing the file's content.
type origin struct {
	dir, base, head, out string
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func newOrigin(t *testing.T) origin {
	t.Helper()
	dir, out := t.TempDir(), filepath.Join(t.TempDir(), "out.txt")
	gitIn(t, dir, "init", "-q", "-b", "main")
	write := func(content string) string {
		tf := fmt.Sprintf("resource \"local_file\" \"f\" {\n  filename = %q\n  content  = %q\n}\n", out, content)
		if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "app", "main.tf"), []byte(tf), 0o644); err != nil {
			t.Fatal(err)
		}
		gitIn(t, dir, "add", "-A")
		gitIn(t, dir, "commit", "-q", "-m", content)
		return gitIn(t, dir, "rev-parse", "HEAD")
	}
	o := origin{dir: dir, out: out}
	o.base = write("one")
	gitIn(t, dir, "checkout", "-q", "-b", "change")
	o.head = write("two")
	gitIn(t, dir, "checkout", "-q", "main")
	return o
}

// fakeHost is a code host of one open pull request, #1 of acme/infra.
type fakeHost struct{ pr vcs.PullRequest }

func (h fakeHost) GetPullRequest(context.Context, vcs.Repo, int) (vcs.PullRequest, error) {
	return h.pr, nil
}

func (h fakeHost) ListPullRequestFiles(context.Context, vcs.Repo, int) ([]string, bool, error) {
	return []string{"app/main.tf"}, true, nil
}

// openEngine is an engine and a gate that let every job through: no
// lock held, no switch off, no requirement unmet, no policy failing.
type openEngine struct {
	git      *git.Mirrors
	tmpl     *templates.Renderer
	applying []string // the jobs NoteApplying was told of
}

// newOpenEngine is an openEngine fetching with mirrors, rendering with
// atoll's own templates.
func newOpenEngine(t *testing.T, mirrors *git.Mirrors) *openEngine {
	t.Helper()
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	return &openEngine{git: mirrors, tmpl: tmpl}
}

func (e *openEngine) RepoConfig(context.Context, vcs.Repo, string, string) (projects.RepoConfig, error) {
	return projects.RepoConfig{}, nil
}
func (e *openEngine) FetchPR(ctx context.Context, pr vcs.PullRequest) error {
	return e.git.Fetch(ctx, pr.Repo)
}
func (e *openEngine) LockFor(context.Context, locks.Key, records.Job, vcs.PullRequest) (locks.Lock, bool, []int, error) {
	return locks.Lock{}, true, nil, nil
}
func (e *openEngine) Blocked(context.Context) (records.Outcome, bool) {
	return records.Outcome{}, false
}
func (e *openEngine) NoteApplying(_ context.Context, job records.Job, _ *terraform.Summary) {
	e.applying = append(e.applying, job.ID)
}
func (e *openEngine) DiscardPlan(context.Context, records.Plan) {}
func (e *openEngine) Text(m templates.Message) string {
	text, err := e.tmpl.RenderMessage(m)
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(text)
}
func (e *openEngine) PRURL(repo string, n int) string { return fmt.Sprintf("pr/%s/%d", repo, n) }
func (e *openEngine) UnmetPlanRequirements(context.Context, vcs.PullRequest, []string) ([]string, error) {
	return nil, nil
}
func (e *openEngine) DecidePolicies(context.Context, gate.Path, records.Job, []policy.Result) gate.Decision {
	return gate.Decision{}
}
func (e *openEngine) RenderReasons(rs []gate.Reason) []string { return []string{fmt.Sprint(rs)} }
func (e *openEngine) BaseRules(_ context.Context, _ vcs.Repo, _, _ string, p records.Project) gate.Rules {
	return gate.Rules{BaseName: p.Name}
}
func (e *openEngine) PolicyChecksOff(context.Context, records.Job) bool { return false }
func (e *openEngine) ScopedMandatory(r []policy.Result) []policy.Result { return r }

// withOpen is d with a new openEngine (without mirrors) as its engine,
// repositories, queue, view and gate.
func withOpen(t *testing.T, d Deps) Deps {
	t.Helper()
	e := newOpenEngine(t, nil)
	d.Engine, d.Repos, d.Queue, d.View, d.Gate = e, e, e, e, e
	return d
}

// testJobs is a Jobs over o's repository, acme/infra, with its PR #1
// from o.head into o.base; data is its data dir.
func testJobs(t *testing.T, o origin) (x *Jobs, eng *openEngine, rec records.Records, data string) {
	t.Helper()
	tools := toolsDir()
	bin := filepath.Join(tools, "bin", "terraform")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: run make tools", bin)
	}
	data = t.TempDir()
	db, err := boltdb.Open(filepath.Join(data, "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mirrors := &git.Mirrors{Dir: filepath.Join(data, "git"), CloneURL: func(vcs.Repo) string { return o.dir }}
	eng = newOpenEngine(t, mirrors)
	rec = records.New(db)
	d := Deps{DataDir: data, Resolve: terraform.Resolve, Launch: nil, Rec: rec, Store: db, Git: mirrors, Engine: eng, Repos: eng, Queue: eng, View: eng, Gate: eng,
		Host:     fakeHost{pr: vcs.PullRequest{Repo: repo, Number: 1, State: "open", HeadSHA: o.head, BaseSHA: o.base, BaseRef: "main", HeadRef: "change", Author: "alice"}},
		Observer: nopObserver{}, WorkDir: func(id string) string { return filepath.Join(data, "work", id) },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}
	d.Server.Terraform.Binary = bin
	d.Server.Terraform.CLIConfigFile = filepath.Join(tools, "terraformrc")
	return New(d), eng, rec, data
}

type nopObserver struct{}

func (nopObserver) ObserveTerraformExit(string, int) {}

var repo = vcs.Repo{Owner: "acme", Name: "infra", DefaultBranch: "main"}

// A pull request's plan job plans its project merged into the base, and
// stores the plan; the apply job applies exactly that plan; a plan after
// it finds nothing to change, because the project's state (it names no
// backend) was kept in the data dir, not in the job's throwaway worktree.
func TestPlanThenApplyAProject(t *testing.T) {
	o := newOrigin(t)
	x, eng, rec, data := testJobs(t, o)
	ctx := context.Background()
	project := records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default"}}
	planJob := &records.Job{ID: "plan1", Kind: records.JobPlan, Repo: repo, Number: 1, HeadSHA: o.head, BaseSHA: o.base, Project: project}
	var log strings.Builder
	out := x.Plan(ctx, planJob, &log)
	if out.Status != string(templates.StatusPlanned) {
		t.Fatalf("plan: %+v\n%s", out, log.String())
	}
	if out.Summary == nil || out.Summary.Create != 1 || !strings.Contains(out.PlanText, "local_file.f will be created") {
		t.Fatalf("the plan shows %+v:\n%s", out.Summary, out.PlanText)
	}
	if planJob.Commit == "" || planJob.Commit == o.head {
		t.Errorf("the plan's commit %q is not the head merged into the base", planJob.Commit)
	}
	key := records.PlanKey(repo.FullName(), 1, "app")
	var plan records.Plan
	if ok, err := rec.Get(ctx, records.Plans, key, &plan); err != nil || !ok {
		t.Fatalf("no stored plan: %v", err)
	}
	if plan.State != records.PlanPlanned || !plan.HasChanges || plan.SHA256 == "" || plan.Commit != planJob.Commit {
		t.Fatalf("stored plan = %+v", plan)
	}
	if _, err := os.Stat(filepath.Join(data, "work", "plan1")); !os.IsNotExist(err) {
		t.Errorf("the plan's worktree is left behind: %v", err)
	}

	// The apply job is the plan's, claimed for it as `atoll apply` does.
	if err := rec.SetPlanState(ctx, key, records.PlanApplying, "apply1"); err != nil {
		t.Fatal(err)
	}
	applyJob := &records.Job{ID: "apply1", Kind: records.JobApply, Repo: repo, Number: 1, HeadSHA: o.head, BaseSHA: o.base, Project: project}
	out = x.Apply(ctx, applyJob, &log)
	if out.Status != string(templates.StatusApplied) || !strings.Contains(out.ApplyText, "Apply complete! Resources: 1 added") {
		t.Fatalf("apply: %+v\n%s", out, log.String())
	}
	if len(eng.applying) != 1 || eng.applying[0] != "apply1" {
		t.Errorf("the apply's start was shown for %v", eng.applying)
	}
	if b, err := os.ReadFile(o.out); err != nil || string(b) != "two" {
		t.Errorf("the applied file holds %q (%v), not the pull request's content", b, err)
	}
	if ok, err := rec.Get(ctx, records.Plans, key, &plan); err != nil || !ok || plan.State != records.PlanApplied {
		t.Fatalf("the plan after its apply: %+v, %v", plan, err)
	}

	again := &records.Job{ID: "plan2", Kind: records.JobPlan, Repo: repo, Number: 1, HeadSHA: o.head, BaseSHA: o.base, Project: project}
	if out := x.Plan(ctx, again, &log); out.Status != string(templates.StatusNoChanges) {
		t.Fatalf("a plan after the apply: %+v\n%s", out, log.String())
	}
}

// An apply job whose plan was applied by another job (or discarded)
// applies nothing: terraform never runs, and the plan is left as it is.
func TestApplyOfAPlanNotClaimedForTheJob(t *testing.T) {
	o := newOrigin(t)
	x, eng, rec, _ := testJobs(t, o)
	ctx := context.Background()
	project := records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default"}}
	var log strings.Builder
	if out := x.Plan(ctx, &records.Job{ID: "plan1", Kind: records.JobPlan, Repo: repo, Number: 1, HeadSHA: o.head, BaseSHA: o.base, Project: project}, &log); out.Status != string(templates.StatusPlanned) {
		t.Fatalf("plan: %+v", out)
	}
	key := records.PlanKey(repo.FullName(), 1, "app")
	if err := rec.SetPlanState(ctx, key, records.PlanApplying, "someone-else"); err != nil {
		t.Fatal(err)
	}
	out := x.Apply(ctx, &records.Job{ID: "apply1", Kind: records.JobApply, Repo: repo, Number: 1, HeadSHA: o.head, Project: project}, &log)
	if out.Status != string(templates.StatusSkipped) || len(eng.applying) != 0 {
		t.Fatalf("apply of another job's plan: %+v (applying %v)", out, eng.applying)
	}
	var plan records.Plan
	if _, err := rec.Get(ctx, records.Plans, key, &plan); err != nil || plan.ApplyJob != "someone-else" || plan.State != records.PlanApplying {
		t.Fatalf("the plan was changed: %+v, %v", plan, err)
	}
}

// A plan applied at once (apply after merge) plans the commit and applies
// that plan in the same job; run again, it finds nothing to apply.
func TestPlanApplyACommit(t *testing.T) {
	o := newOrigin(t)
	x, eng, _, _ := testJobs(t, o)
	ctx := context.Background()
	project := records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default"}}
	var log strings.Builder
	job := &records.Job{ID: "pa1", Kind: records.JobPlanApply, Repo: repo, Number: 1, HeadSHA: o.head, Commit: o.head, Project: project}
	out := x.PlanApply(ctx, job, &log)
	if out.Status != string(templates.StatusApplied) || out.Summary == nil || out.Summary.Create != 1 || !strings.Contains(out.ApplyText, "Apply complete!") {
		t.Fatalf("plan and apply: %+v\n%s", out, log.String())
	}
	if b, err := os.ReadFile(o.out); err != nil || string(b) != "two" {
		t.Errorf("the applied file holds %q (%v)", b, err)
	}
	if len(eng.applying) != 1 {
		t.Errorf("the apply's start was shown %d times", len(eng.applying))
	}
	job = &records.Job{ID: "pa2", Kind: records.JobPlanApply, Repo: repo, Number: 1, HeadSHA: o.head, Commit: o.head, Project: project}
	if out := x.PlanApply(ctx, job, &log); out.Status != string(templates.StatusApplied) || !out.NothingToApply {
		t.Fatalf("plan and apply again: %+v", out)
	}
}
