package pr

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// The fakes below stand for what a Life asks of the runner and the code
// host; the records and locks are a real bbolt store in a temp dir.

// fakeHost is the code host: users' permissions, the pull requests, and
// what was done to them.
type fakeHost struct {
	mu       sync.Mutex
	perms    map[string]vcs.Permission
	prs      map[int]vcs.PullRequest
	merged   []int
	labels   map[int][]string
	reacted  []int64
	deleted  []string
	minimize []string
}

func (h *fakeHost) UserPermission(_ context.Context, _ vcs.Repo, user string) (vcs.Permission, error) {
	if p, ok := h.perms[user]; ok {
		return p, nil
	}
	return vcs.PermissionRead, nil
}
func (h *fakeHost) IsTeamMember(context.Context, vcs.Repo, string, string, string) (bool, error) {
	return false, nil
}
func (h *fakeHost) SetLabels(_ context.Context, _ vcs.Repo, number int, add, _ []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.labels[number] = add
	return nil
}
func (h *fakeHost) GetPullRequest(_ context.Context, _ vcs.Repo, number int) (vcs.PullRequest, error) {
	return h.prs[number], nil
}
func (h *fakeHost) BranchSHA(context.Context, vcs.Repo, string) (string, error) { return "main1", nil }
func (h *fakeHost) MergePullRequest(_ context.Context, _ vcs.Repo, number int, _, _ string) (string, error) {
	h.merged = append(h.merged, number)
	return "m1", nil
}
func (h *fakeHost) DeleteBranch(_ context.Context, _ vcs.Repo, branch string) error {
	h.deleted = append(h.deleted, branch)
	return nil
}
func (h *fakeHost) MinimizeComment(_ context.Context, _ vcs.Repo, node, _ string) error {
	h.minimize = append(h.minimize, node)
	return nil
}
func (h *fakeHost) AddReaction(_ context.Context, _ vcs.Repo, id int64, _ string) error {
	h.reacted = append(h.reacted, id)
	return nil
}

// fakeEngine records the runs started; an apply run's Also updates are
// stored, as the engine stores them with the run.
type fakeEngine struct {
	store  records.Store
	plans  []string // commands of plan runs
	planOf [][]records.Project
	apply  []records.RunSpec
	clear  [][]gate.Clearance
	states map[string]records.PlanState
	jobs   []records.Job // every run's jobs
	// blocked is why applies are stopped; nil: they are not.
	blocked *templates.ApplyDisabled
}

func (e *fakeEngine) LockPR(string) func() { return func() {} }
func (e *fakeEngine) StartPlanRun(ctx context.Context, _ vcs.PullRequest, cmd, _ string, ps []records.Project, _ []string, _ records.RunOptions, _ string, also ...locks.RecordUpdate) error {
	e.plans = append(e.plans, cmd)
	e.planOf = append(e.planOf, ps)
	return e.store.UpdateRecords(ctx, also)
}
func (e *fakeEngine) StartApply(ctx context.Context, spec records.RunSpec, cleared []gate.Clearance) error {
	if spec.Also != nil {
		if err := e.store.UpdateRecords(ctx, spec.Also("r1")); err != nil {
			return err
		}
	}
	e.apply = append(e.apply, spec)
	e.clear = append(e.clear, cleared)
	return nil
}
func (e *fakeEngine) RunJobs(context.Context, records.Run) ([]records.Job, error) { return e.jobs, nil }
func (e *fakeEngine) SetPlanState(_ context.Context, key string, st records.PlanState, _ string) {
	e.states[key] = st
}
func (e *fakeEngine) ApplyBlocked(context.Context) *templates.ApplyDisabled { return e.blocked }
func (e *fakeEngine) RefreshPolicies(context.Context, records.Job)          {}

// The fake engine is also the Plans and the Queue.
func (e *fakeEngine) DropSharedPlan(context.Context, records.Plan) {}
func (e *fakeEngine) Leave(context.Context, string, int)           {}
func (e *fakeEngine) Released()                                    {}

// fakeRepos has one repository configuration and the projects a change
// touches.
type fakeRepos struct {
	rc      projects.RepoConfig
	touched []records.Project
}

func (f *fakeRepos) RepoConfig(context.Context, vcs.Repo, string, string) (projects.RepoConfig, error) {
	return f.rc, nil
}
func (f *fakeRepos) Affected(context.Context, vcs.PullRequest) ([]projects.Affected, projects.RepoConfig, error) {
	var out []projects.Affected
	for _, p := range f.touched {
		out = append(out, projects.Affected{Project: p, Autoplan: true})
	}
	return out, f.rc, nil
}
func (f *fakeRepos) All(context.Context, vcs.Repo, string, projects.RepoConfig) ([]records.Project, error) {
	return f.touched, nil
}

// fakeReplies keeps what was said, by template.
type fakeReplies struct {
	said []string
	data []any
	once map[string]bool
}

func (f *fakeReplies) Say(ctx context.Context, repo vcs.Repo, n int, m templates.Message) error {
	return f.Reply(ctx, repo, n, m.Template(), m)
}
func (f *fakeReplies) Reply(_ context.Context, _ vcs.Repo, _ int, name string, data any) error {
	f.said = append(f.said, name)
	f.data = append(f.data, data)
	return nil
}
func (f *fakeReplies) ReplyOnce(ctx context.Context, pr vcs.PullRequest, kind, name string, data any) error {
	if f.once[kind] {
		return nil
	}
	f.once[kind] = true
	return f.Reply(ctx, pr.Repo, pr.Number, name, data)
}
func (f *fakeReplies) ReplyConfigError(ctx context.Context, pr vcs.PullRequest, _ *projects.ConfigError) error {
	return f.Reply(ctx, pr.Repo, pr.Number, "config_error.tmpl", nil)
}
func (f *fakeReplies) Text(m templates.Message) string       { return m.Template() }
func (f *fakeReplies) ConfigNote(projects.RepoConfig) string { return "" }

// The fake replies are also the Audit, which keeps nothing.
func (f *fakeReplies) Command(context.Context, vcs.Repo, int, string, string, string, string) {}
func (f *fakeReplies) Released(context.Context, string, int, []string, string)                {}
func (f *fakeReplies) ConfigError(context.Context, vcs.PullRequest, *projects.ConfigError)    {}

// fakeGate refuses the projects named in refuse and clears the others.
type fakeGate struct {
	refuse map[string]bool
	asked  []gate.Path
}

func (g *fakeGate) Requirements(_ context.Context, _ vcs.PullRequest, _ projects.RepoConfig, plans []records.Plan) ([]templates.RefusedProject, []gate.Clearance, error) {
	g.asked = append(g.asked, gate.PathComment)
	var refused []templates.RefusedProject
	var cleared []gate.Clearance
	for _, p := range plans {
		if g.refuse[p.Project.Name] {
			refused = append(refused, templates.RefusedProject{Name: p.Project.Name})
			continue
		}
		c, _ := gate.Decide(gate.Input{Path: gate.PathComment, Project: p.Project.Name}).Clearance()
		cleared = append(cleared, c)
	}
	return refused, cleared, nil
}
func (g *fakeGate) Merged(_ context.Context, _ vcs.PullRequest, path gate.Path, ps []records.Project) ([]records.Project, []gate.Clearance, error) {
	g.asked = append(g.asked, path)
	var kept []records.Project
	var cleared []gate.Clearance
	for _, p := range ps {
		if g.refuse[p.Name] {
			continue
		}
		c, _ := gate.Decide(gate.Input{Path: path, Project: p.Name}).Clearance()
		kept, cleared = append(kept, p), append(cleared, c)
	}
	return kept, cleared, nil
}

// No policy set is configured.
func (g *fakeGate) PolicySet(name string) policy.SetConfig                   { return policy.SetConfig{Name: name} }
func (g *fakeGate) IsOwner(context.Context, vcs.Repo, string, []string) bool { return false }
func (g *fakeGate) ReviewCanApprove([]policy.Result) bool                    { return false }

// fakeIssues records the issue commands it got.
type fakeIssues struct{ commands []string }

func (f *fakeIssues) OnIssueCommand(_ context.Context, _ vcs.Repo, _ int, _ []string, _ string, cmd *command.Command) error {
	f.commands = append(f.commands, cmd.Name)
	return nil
}
func (f *fakeIssues) AfterRun(context.Context, records.Run, []records.Job) {}

type world struct {
	life    *Life
	db      *boltdb.DB
	rec     records.Records
	host    *fakeHost
	engine  *fakeEngine
	repos   *fakeRepos
	replies *fakeReplies
	gate    *fakeGate
	issues  *fakeIssues
	now     time.Time
}

var testRepo = vcs.Repo{Owner: "acme", Name: "infra", DefaultBranch: "main"}

// newWorld is a Life over a real store, with fakes of the rest; srv is
// changed by edit before the Life is built.
func newWorld(t *testing.T, edit func(*config.Server)) *world {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	db := openDB(t, c)
	w := &world{db: db, rec: records.New(db), now: c.t,
		host:    &fakeHost{perms: map[string]vcs.Permission{"dev": vcs.PermissionWrite}, prs: map[int]vcs.PullRequest{}, labels: map[int][]string{}},
		engine:  &fakeEngine{store: db, states: map[string]records.PlanState{}},
		repos:   &fakeRepos{touched: []records.Project{{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default"}}}},
		replies: &fakeReplies{once: map[string]bool{}},
		gate:    &fakeGate{refuse: map[string]bool{}},
		issues:  &fakeIssues{},
	}
	srv := config.DefaultServer()
	if edit != nil {
		edit(&srv)
	}
	w.life = New(Deps{Settings: srv, Records: w.rec, Locks: db, Host: w.host, Merger: w.host, Engine: w.engine, Repos: w.repos,
		Replies: w.replies, Audit: w.replies, Gate: w.gate, Plans: w.engine, Queue: w.engine, Issues: w.issues, Now: c.now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return w
}

// openPR is an open pull request of testRepo, known to the host.
func (w *world) openPR(number int, head string) vcs.PullRequest {
	pr := vcs.PullRequest{Repo: testRepo, Number: number, State: "open", HeadSHA: head, BaseSHA: "base1",
		BaseRef: "main", HeadRef: "feature", Author: "author", HeadRepo: testRepo.FullName()}
	w.host.prs[number] = pr
	return pr
}

// comment is a new comment on PR number by user, brought by delivery.
func comment(number int, id int64, user, body, delivery string, at time.Time) *vcs.CommentEvent {
	return &vcs.CommentEvent{Meta: vcs.Meta{Delivery: delivery, Sender: vcs.User{Login: user}}, Action: "created", Repo: testRepo, IssueNumber: number, IsPR: true,
		Comment: vcs.Comment{ID: id, Body: body, Author: vcs.User{Login: user}, CreatedAt: at}}
}

func (w *world) lastSaid() string {
	if len(w.replies.said) == 0 {
		return ""
	}
	return w.replies.said[len(w.replies.said)-1]
}
