package execute

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/mask"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/runner/workflow"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Host is what a job body asks of the code host: the pull request as it
// is now, and its changed files for the policies' input.
type Host interface {
	GetPullRequest(ctx context.Context, repo vcs.Repo, number int) (vcs.PullRequest, error)
	ListPullRequestFiles(ctx context.Context, repo vcs.Repo, number int) ([]string, bool, error)
}

// Git is the checkout of a job: a worktree per job, from the
// repository's mirror (vcs/git's *Mirrors implements it).
type Git interface {
	Fetch(ctx context.Context, repo vcs.Repo, refspecs ...string) error
	Worktree(ctx context.Context, repo vcs.Repo, sha, dest string) error
	MergeWorktree(ctx context.Context, repo vcs.Repo, baseSHA, headSHA, dest string) (string, error)
	RemoveWorktree(ctx context.Context, repo vcs.Repo, dest string) error
	ChangedFiles(ctx context.Context, repo vcs.Repo, base, head string) ([]string, error)
}

// FileStore keeps the records of shared plan files (the runner's Store):
// one value a key in a bucket.
type FileStore interface {
	PutRecord(ctx context.Context, bucket, key string, value []byte) error
	GetRecord(ctx context.Context, bucket, key string) ([]byte, bool, error)
	DeleteRecord(ctx context.Context, bucket, key string) error
}

// Engine is what a job body asks of the engine itself: whether a kill
// switch stops it, showing an apply start, discarding a plan.
type Engine interface {
	// Blocked is the outcome of a job that a kill switch stops, when one does.
	Blocked(ctx context.Context) (records.Outcome, bool)
	// NoteApplying shows that job's apply of a plan summed up by s starts.
	NoteApplying(ctx context.Context, job records.Job, s *terraform.Summary)
	// DiscardPlan discards a stored plan (its head moved).
	DiscardPlan(ctx context.Context, p records.Plan)
}

// Repos reads a repository's configuration and fetches a pull request
// (projects.Loader).
type Repos interface {
	// RepoConfig is the repository configuration at ref (base: the
	// branch whose rules apply).
	RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (projects.RepoConfig, error)
	// FetchPR fetches pr's head and base into the repository's mirror.
	FetchPR(ctx context.Context, pr vcs.PullRequest) error
}

// Queue takes a project's lock or queues behind its holder
// (lockqueue.Queue).
type Queue interface {
	// LockFor takes (or finds held) lock k of job's project for pr;
	// behind are the pull requests queued behind the holder.
	LockFor(ctx context.Context, k locks.Key, job records.Job, pr vcs.PullRequest) (held locks.Lock, ok bool, behind []int, err error)
}

// View renders what a job says to users (view.View).
type View interface {
	// Text renders a user-facing message.
	Text(m templates.Message) string
	// PRURL is the web link of a pull request.
	PRURL(repo string, number int) string
}

// Gate is what a job body asks of the gate (clearance.Gatherer): plan
// requirements, the policies' decision and its reasons, the base
// branch's rules for a project, and whether policy checks are off.
type Gate interface {
	UnmetPlanRequirements(ctx context.Context, pr vcs.PullRequest, reqs []string) ([]string, error)
	DecidePolicies(ctx context.Context, path gate.Path, job records.Job, results []policy.Result) gate.Decision
	RenderReasons(rs []gate.Reason) []string
	// BaseRules are the base branch's rules for p (its name there:
	// BaseName).
	BaseRules(ctx context.Context, repo vcs.Repo, baseSHA, baseRef string, p records.Project) gate.Rules
	PolicyChecksOff(ctx context.Context, job records.Job) bool
	// ScopedMandatory keeps of results what is mandatory when policy
	// checks are off.
	ScopedMandatory(results []policy.Result) []policy.Result
}

// Observer is told each terraform command's exit (metrics).
type Observer interface {
	ObserveTerraformExit(command string, code int)
}

// Deps are what Jobs runs with. Every field is required but Sandbox,
// Policies and Masker.
type Deps struct {
	// Server is the server configuration, read only.
	Server config.Server
	// DataDir holds worktrees, plan files, local state and caches.
	DataDir string
	// TFEnv and TFSecrets are the environment of every terraform run
	// and the values in it to mask (config.Terraform.Environ).
	TFEnv     map[string]string
	TFSecrets []string
	Masker    *mask.Masker
	// Resolve finds terraform; Launch starts custom steps' commands.
	Resolve func(ctx context.Context, o terraform.ResolveOptions) (terraform.Binary, error)
	Launch  workflow.Launcher
	// Sandbox confines terraform and custom steps; nil: unconfined.
	Sandbox *Sandbox
	// Policies may be nil: no policy sets.
	Policies *policy.Engine
	// Shared says whether Store is shared with other replicas: plan
	// files are then kept in it too.
	Shared bool
	Store  FileStore
	// Locks finds the holder of a project's lock (drift checks).
	Locks  LockReader
	Rec    records.Records
	Host   Host
	Git    Git
	Engine Engine
	Repos  Repos
	Queue  Queue
	View   View
	Gate   Gate
	// Observer is told terraform's exits; WorkDir is a job's worktree
	// dir.
	Observer Observer
	WorkDir  func(jobID string) string
	Log      *slog.Logger
	Now      func() time.Time
}

// Jobs runs the bodies of the runner's jobs, each in a worktree of its
// own: Plan, Apply, PlanApply and Drift. Safe for concurrent use.
type Jobs struct {
	cfg       Deps
	srv       config.Server
	tfEnv     map[string]string
	tfSecrets []string
	masker    *mask.Masker
	observer  Observer
	rec       records.Records
	host      Host
	git       Git
	log       *slog.Logger
	now       func() time.Time
}

// New is the Jobs of d.
func New(d Deps) *Jobs {
	return &Jobs{cfg: d, srv: d.Server, tfEnv: d.TFEnv, tfSecrets: d.TFSecrets, masker: d.Masker, observer: d.Observer,
		rec: d.Rec, host: d.Host, git: d.Git, log: d.Log, now: d.Now}
}

func (x *Jobs) shared() bool                    { return x.cfg.Shared }
func (x *Jobs) workDir(id string) string        { return x.cfg.WorkDir(id) }
func (x *Jobs) text(m templates.Message) string { return x.cfg.View.Text(m) }
func (x *Jobs) prURL(repo string, n int) string { return x.cfg.View.PRURL(repo, n) }
func (x *Jobs) fetchPR(ctx context.Context, pr vcs.PullRequest) error {
	return x.cfg.Repos.FetchPR(ctx, pr)
}
func (x *Jobs) repoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (projects.RepoConfig, error) {
	return x.cfg.Repos.RepoConfig(ctx, repo, ref, base)
}
func (x *Jobs) lockFor(ctx context.Context, job records.Job, pr vcs.PullRequest) (locks.Lock, bool, []int, error) {
	return x.cfg.Queue.LockFor(ctx, LockKey(job), job, pr)
}
func (x *Jobs) blockedOutcome(ctx context.Context) (records.Outcome, bool) {
	return x.cfg.Engine.Blocked(ctx)
}
func (x *Jobs) noteApplying(ctx context.Context, job records.Job, s *terraform.Summary) {
	x.cfg.Engine.NoteApplying(ctx, job, s)
}
func (x *Jobs) discardPlan(ctx context.Context, p records.Plan) { x.cfg.Engine.DiscardPlan(ctx, p) }
func (x *Jobs) unmetPlanRequirements(ctx context.Context, pr vcs.PullRequest, reqs []string) ([]string, error) {
	return x.cfg.Gate.UnmetPlanRequirements(ctx, pr, reqs)
}
func (x *Jobs) decidePolicies(ctx context.Context, path gate.Path, job records.Job, results []policy.Result) gate.Decision {
	return x.cfg.Gate.DecidePolicies(ctx, path, job, results)
}
func (x *Jobs) renderReasons(rs []gate.Reason) []string { return x.cfg.Gate.RenderReasons(rs) }
func (x *Jobs) policyChecksOff(ctx context.Context, job records.Job) bool {
	return x.cfg.Gate.PolicyChecksOff(ctx, job)
}
func (x *Jobs) scopedMandatory(results []policy.Result) []policy.Result {
	return x.cfg.Gate.ScopedMandatory(results)
}

// explain is the error of a step that failed for a reason atoll names
// itself: m, rendered by the runner's templates.
func (x *Jobs) explain(m templates.JobError) error { return errors.New(x.text(m)) }
