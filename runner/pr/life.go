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

// Deps is what a Life is built from. Every field is required but
// Policies (nil: no policy sets are configured) and Now (nil: time.Now).
type Deps struct {
	// Settings is the server configuration, defaults applied.
	Settings config.Server
	// Records are the runner's records; Locks its project locks, in the
	// same store.
	Records records.Records
	Locks   Locks
	Host    Host
	// Merger merges a pull request (automerge) and deletes its branch.
	Merger   Merger
	Engine   Engine
	Repos    Repos
	Replies  Replies
	Gate     Gate
	Policies Policies
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
// a finished run's jobs, the per-PR mutex, plan states and plan files, and
// the plan queues behind locks.
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
	// SetPlanState sets a stored plan's state (a failure is logged).
	SetPlanState(ctx context.Context, key string, st records.PlanState, jobID string)
	// DropPlanFile removes a plan's file from shared storage.
	DropPlanFile(ctx context.Context, p records.Plan)
	// LeaveQueues takes a pull request out of every plan queue.
	LeaveQueues(ctx context.Context, repo string, number int)
	// LockReleased tells the plan queues a lock was released.
	LockReleased()
}

// Repos reads a repository's configuration and finds its projects.
type Repos interface {
	RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (projects.RepoConfig, error)
	AffectedProjects(ctx context.Context, pr vcs.PullRequest) ([]projects.Affected, projects.RepoConfig, error)
	AllProjects(ctx context.Context, repo vcs.Repo, sha string, rc projects.RepoConfig) ([]records.Project, error)
	// ConfigNote is the note a plan run's comment carries about rc.
	ConfigNote(rc projects.RepoConfig) string
}

// Replies posts what atoll says on a pull request or issue, and audits.
type Replies interface {
	Say(ctx context.Context, repo vcs.Repo, number int, m templates.Message) error
	Reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error
	// ReplyOnce replies only once per pull request and kind.
	ReplyOnce(ctx context.Context, pr vcs.PullRequest, kind, name string, data any) error
	ReplyConfigError(ctx context.Context, pr vcs.PullRequest, ce *projects.ConfigError) error
	// Text renders m to put into another text.
	Text(m templates.Message) string
	AuditCommand(ctx context.Context, repo vcs.Repo, number int, user, command, outcome, why string)
	AuditReleased(ctx context.Context, repo string, number int, released []string, cause string)
}

// Gate is the apply gate: what stops every apply, and the requirements
// each apply path must clear.
type Gate interface {
	// ApplyBlocked is why applies are stopped server-wide; nil when not.
	ApplyBlocked(ctx context.Context) *templates.ApplyDisabled
	// CheckRequirements checks an `atoll apply` of plans under rc (the
	// base branch's): the refused projects, and the clearances of the
	// others.
	CheckRequirements(ctx context.Context, pr vcs.PullRequest, rc projects.RepoConfig, plans []records.Plan) ([]templates.RefusedProject, []gate.Clearance, error)
	// GateMerged keeps the projects of a merged pull request the gate
	// clears on path, with their clearances.
	GateMerged(ctx context.Context, pr vcs.PullRequest, path gate.Path, projects []records.Project) ([]records.Project, []gate.Clearance, error)
}

// Policies are the configured policy sets as a pull request's plans meet
// them.
type Policies interface {
	// Configured reports whether any policy set is configured.
	Configured() bool
	// Set is the configuration of policy set name.
	Set(name string) policy.SetConfig
	// IsOwner reports whether user is one of owners.
	IsOwner(ctx context.Context, repo vcs.Repo, user string, owners []string) bool
	// ReviewCanApprove reports whether one of results is a failure an
	// owner's approving review may lift.
	ReviewCanApprove(results []policy.Result) bool
	// Refresh brings a plan job's comment and policy check runs up to date.
	Refresh(ctx context.Context, j records.Job)
}

// Issues is what is not a pull request's: comment commands on issues and
// what a drift run leaves to do.
type Issues interface {
	OnIssueCommand(ctx context.Context, repo vcs.Repo, number int, labels []string, user string, cmd *command.Command) error
	// AfterRun finishes a run of another kind than a pull request's.
	AfterRun(ctx context.Context, run records.Run, jobs []records.Job)
}
