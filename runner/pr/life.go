package pr

import (
	"context"
	"log/slog"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Life is a pull request's life as atoll keeps it: its events (opened,
// pushed, closed, merged, reviewed), its comment commands, the locks and
// plans it holds, and what a finished run leaves to do (labels, release
// after merge, automerge). Build one with New; its methods are safe for
// concurrent use.
type Life struct{ d Deps }

// Deps is what a Life is built from. Every field is required but Now
// (nil: time.Now), Log and BotLogin. Each service is the one that does the
// work: wire.go in the root passes the concrete services (projects.Loader,
// view.View, trail.Trail, clearance.Gatherer, execute.Jobs,
// lockqueue.Queue) and the engine only for what it does itself.
type Deps struct {
	// Settings is the server configuration, defaults applied.
	Settings config.Server
	// Records are the runner's records; Locks its project locks, in the
	// same store.
	Records records.Records
	Locks   Locks
	Host    Host
	// Merger merges a pull request (automerge) and deletes its branch.
	Merger  Merger
	Engine  Engine
	Repos   Repos
	Replies Replies
	Audit   Audit
	Gate    Gate
	Plans   Plans
	Queue   Queue
	// PoliciesConfigured: some policy set is configured.
	PoliciesConfigured bool
	// Issues handles what is not a pull request's: commands on issues
	// (drift issues) and what drift runs leave behind.
	Issues Issues
	// BotLogin is atoll's own login, known once the runner started.
	BotLogin func() string
	// Version is what `atoll version` answers.
	Version templates.Version
	Log     *slog.Logger
	Now     func() time.Time
}

// New returns the Life of pull requests built from d.
func New(d Deps) *Life {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.BotLogin == nil {
		d.BotLogin = func() string { return "" }
	}
	return &Life{d: d}
}

// Locks is what a pull request's locks need of the store: one lock's
// holder, those it holds, releasing one, releasing all of them.
type Locks interface {
	Get(ctx context.Context, k locks.Key) (locks.Lock, bool, error)
	Unlock(ctx context.Context, k locks.Key) error
	ListByOwner(ctx context.Context, repo string, number int) ([]locks.Lock, error)
	UnlockByOwner(ctx context.Context, repo string, number int) ([]locks.Lock, error)
}

// Host is what a pull request's life asks of the code host.
type Host interface {
	Authorizer
	LabelSetter
	GetPullRequest(ctx context.Context, repo vcs.Repo, number int) (vcs.PullRequest, error)
	BranchSHA(ctx context.Context, repo vcs.Repo, branch string) (string, error)
	MinimizeComment(ctx context.Context, repo vcs.Repo, nodeID, classifier string) error
	AddReaction(ctx context.Context, repo vcs.Repo, commentID int64, content string) error
}

// Merger merges a pull request and deletes its head branch (automerge
// and delete_source_branch_on_merge).
type Merger interface {
	MergePullRequest(ctx context.Context, repo vcs.Repo, number int, method, sha string) (string, error)
	// DeleteBranch deletes a branch; one already gone is not an error.
	DeleteBranch(ctx context.Context, repo vcs.Repo, branch string) error
}

// Engine is the runner's engine as a pull request uses it: starting runs,
// a finished run's jobs, the per-PR mutex, whether applies are stopped and
// bringing a job's policy view up to date.
type Engine interface {
	// LockPR locks the pull request of key (records.PRKey) against other
	// event handling, on every replica; it returns the unlock.
	LockPR(key string) (unlock func())
	// StartPlanRun starts a plan run of projects; also are stored with it,
	// in one transaction.
	StartPlanRun(ctx context.Context, pr vcs.PullRequest, command, user string, projects []records.Project, extra []string, opts records.RunOptions, note string, also ...locks.RecordUpdate) error
	// StartApply starts an apply run; each job needs its clearance.
	StartApply(ctx context.Context, spec records.RunSpec, cleared []gate.Clearance) error
	// RunJobs are a run's jobs.
	RunJobs(ctx context.Context, run records.Run) ([]records.Job, error)
	// ApplyBlocked is why applies are stopped server-wide; nil when not.
	ApplyBlocked(ctx context.Context) *templates.ApplyDisabled
	// RefreshPolicies brings a plan job's comment and policy check runs
	// up to date.
	RefreshPolicies(ctx context.Context, j records.Job)
}

// Repos reads a repository's configuration and finds its projects
// (projects.Loader).
type Repos interface {
	RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (projects.RepoConfig, error)
	Affected(ctx context.Context, pr vcs.PullRequest) ([]projects.Affected, projects.RepoConfig, error)
	All(ctx context.Context, repo vcs.Repo, sha string, rc projects.RepoConfig) ([]records.Project, error)
}

// Replies posts what atoll says on a pull request or issue (view.View).
type Replies interface {
	Say(ctx context.Context, repo vcs.Repo, number int, m templates.Message) error
	Reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error
	// ReplyOnce replies only once per pull request and kind.
	ReplyOnce(ctx context.Context, pr vcs.PullRequest, kind, name string, data any) error
	ReplyConfigError(ctx context.Context, pr vcs.PullRequest, ce *projects.ConfigError) error
	// Text renders m to put into another text.
	Text(m templates.Message) string
	// ConfigNote is the note a plan run's comment carries about rc.
	ConfigNote(rc projects.RepoConfig) string
}

// Audit records what a pull request's commands and events did
// (trail.Trail).
type Audit interface {
	Command(ctx context.Context, repo vcs.Repo, number int, user, command, outcome, why string)
	Released(ctx context.Context, repo string, number int, released []string, cause string)
	ConfigError(ctx context.Context, pr vcs.PullRequest, ce *projects.ConfigError)
}

// Gate is the apply gate's facts: the requirements each apply path must
// clear, and the policy sets' owners (clearance.Gatherer).
type Gate interface {
	// Requirements checks an `atoll apply` of plans under rc (the base
	// branch's): the refused projects, and the clearances of the others.
	Requirements(ctx context.Context, pr vcs.PullRequest, rc projects.RepoConfig, plans []records.Plan) ([]templates.RefusedProject, []gate.Clearance, error)
	// Merged keeps the projects of a merged pull request the gate clears
	// on path, with their clearances.
	Merged(ctx context.Context, pr vcs.PullRequest, path gate.Path, projects []records.Project) ([]records.Project, []gate.Clearance, error)
	// PolicySet is the configuration of policy set name.
	PolicySet(name string) policy.SetConfig
	// IsOwner reports whether user is one of owners.
	IsOwner(ctx context.Context, repo vcs.Repo, user string, owners []string) bool
	// ReviewCanApprove reports whether one of results is a failure an
	// owner's approving review may lift.
	ReviewCanApprove(results []policy.Result) bool
}

// Plans changes a stored plan's state and drops its file (execute.Jobs).
type Plans interface {
	// SetPlanState sets a stored plan's state (a failure is logged).
	SetPlanState(ctx context.Context, key string, st records.PlanState, jobID string)
	// DropSharedPlan removes a plan's file from shared storage.
	DropSharedPlan(ctx context.Context, p records.Plan)
}

// Queue is the plan queues behind held locks (lockqueue.Queue).
type Queue interface {
	// Leave takes a pull request out of every plan queue.
	Leave(ctx context.Context, repo string, number int)
	// Released tells the plan queues a lock was released.
	Released()
}

// Issues is what is not a pull request's: comment commands on issues and
// what a drift run leaves to do.
type Issues interface {
	OnIssueCommand(ctx context.Context, repo vcs.Repo, number int, labels []string, user string, cmd *command.Command) error
	// AfterRun finishes a run of another kind than a pull request's.
	AfterRun(ctx context.Context, run records.Run, jobs []records.Job)
}
