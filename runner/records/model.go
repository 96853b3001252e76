package records

import (
	"time"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/vcs"
)

// Project is one Terraform root module the runner plans and applies: what
// discovery found, with the settings atoll.yaml gives it.
//
// The configured fields are atoll.yaml's own (config.ProjectCore, its
// PolicyCheck falling back to the file's top-level one); the rest is what
// the configuration resolves for the project. Workflow empty: the
// repository's default (repo_rules' workflow), else atoll's built-in
// steps. PolicyCheck false counts only where the server's repo_rules
// allow overriding policy_check.
type Project struct {
	config.ProjectCore
	// ApplyRequirements are the requirement names that hold for the
	// project: the server's with the repository's changes folded in (not
	// atoll.yaml's "!approved"-style changes themselves).
	ApplyRequirements []string `json:"apply_requirements,omitempty"`
	// OrderGroup is the project's execution_order_group: the jobs of a run
	// start group by group, the lowest first (see runner/order).
	OrderGroup int `json:"order_group,omitempty"`
	// AbortOnOrderFail (abort_on_execution_order_fail) skips the jobs of
	// a run's later groups once a job of an earlier group failed.
	AbortOnOrderFail bool `json:"abort_on_order_fail,omitempty"`
	// SerialPlan and SerialApply (parallel_plan: false, parallel_apply:
	// false) run a run's plan or apply jobs one after another, in the
	// run's order, within each execution order group.
	SerialPlan  bool `json:"serial_plan,omitempty"`
	SerialApply bool `json:"serial_apply,omitempty"`
	// DependsOn names the projects of the same pull request that must be
	// applied before this one (see order.PendingDependencies).
	DependsOn []string `json:"depends_on,omitempty"`
	// PlanRequirements (plan_requirements: approved, mergeable,
	// undiverged) must hold before the project is planned.
	PlanRequirements []string `json:"plan_requirements,omitempty"`
	// LockMode is repo_locks.mode: "" or on_plan (a plan locks the dir
	// and workspace), on_apply (only an apply does), disabled (never).
	LockMode string `json:"lock_mode,omitempty"`
	// Silence lists the commands (plan, apply) whose pull request comment
	// the project does without (silence_pr_comments): a run whose every
	// project silences its command writes no comment.
	Silence []string `json:"silence,omitempty"`
	// DeleteSourceBranch is the project's delete_source_branch_on_merge
	// (its own or the file's top-level one); nil: not set.
	DeleteSourceBranch *bool `json:"delete_source_branch,omitempty"`
}

// LocksOn reports whether a command ("plan" or "apply") takes the
// project's lock.
func (p Project) LocksOn(cmd string) bool {
	switch p.LockMode {
	case config.LockDisabled:
		return false
	case config.LockOnApply:
		return cmd == "apply"
	}
	return cmd == "plan"
}

// JobKind says what a job does.
type JobKind string

// Job kinds.
const (
	// JobPlan plans a project for a PR and stores the plan.
	JobPlan JobKind = "plan"
	// JobApply applies a stored plan.
	JobApply JobKind = "apply"
	// JobPlanApply plans a commit and applies that plan at once: apply after
	// merge, retries on a merged PR, drift remediation.
	JobPlanApply JobKind = "plan_apply"
	// JobDrift plans the default branch to detect drift; it changes nothing.
	JobDrift JobKind = "drift"
)

// JobState is where a job is in its life.
type JobState string

// Job states. A job moves queued -> running -> one of the final states;
// a job found running at start-up becomes interrupted.
const (
	JobQueued      JobState = "queued"
	JobRunning     JobState = "running"
	JobSucceeded   JobState = "succeeded"
	JobFailed      JobState = "failed"
	JobSkipped     JobState = "skipped"
	JobInterrupted JobState = "interrupted"
)

// Final reports whether the state is an end state.
func (s JobState) Final() bool { return s != JobQueued && s != JobRunning }

// Job is one project's work within a run. It is durable: the queue is the
// set of jobs in state queued.
type Job struct {
	ID      string   `json:"id"`
	RunID   string   `json:"run_id"`
	Kind    JobKind  `json:"kind"`
	Repo    vcs.Repo `json:"repo"`
	Number  int      `json:"number"` // PR number, or the drift issue's
	Project Project  `json:"project"`
	// HeadSHA and BaseSHA are the PR's at queue time; Commit is what is
	// checked out (the head, a merge of head into base, or a branch head).
	HeadSHA     string   `json:"head_sha"`
	BaseSHA     string   `json:"base_sha"`
	Commit      string   `json:"commit"`
	ExtraArgs   []string `json:"extra_args,omitempty"`
	User        string   `json:"user"`
	PRAuthor    string   `json:"pr_author,omitempty"`
	RefreshOnly bool     `json:"refresh_only,omitempty"`
	// Path is the gate's apply path that cleared an apply job.
	Path string `json:"path,omitempty"`

	State   JobState `json:"state"`
	Outcome Outcome  `json:"outcome"`
	LogPath string   `json:"log_path"`
	// Mark is put in the environment of the job's terraform commands
	// (terraform.Config.JobMark), set when the job is claimed: recovery
	// kills what a killed atoll left running under it.
	Mark     string `json:"mark,omitempty"`
	CheckRun int64  `json:"check_run,omitempty"`
	// Owner and LeaseUntil are a running job's claim: the replica running
	// it (Cluster.ReplicaID) renews LeaseUntil while it works; once it has
	// passed, another replica takes the job over (see runner/lease and the runner's replicas.go).
	Owner      string    `json:"owner,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitempty"`

	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitempty"`
	Finished time.Time `json:"finished,omitempty"`
}

// Outcome is what a job found, in the shape comments and checks show.
type Outcome struct {
	Status    string             `json:"status"` // a templates ProjectResult status
	Summary   *terraform.Summary `json:"summary,omitempty"`
	PlanText  string             `json:"plan_text,omitempty"`
	DriftText string             `json:"drift_text,omitempty"`
	ApplyText string             `json:"apply_text,omitempty"`
	// NothingToApply: the plan had no changes, so terraform apply did not
	// run.
	NothingToApply bool        `json:"nothing_to_apply,omitempty"`
	FailedStep     string      `json:"failed_step,omitempty"`
	Error          string      `json:"error,omitempty"`
	LogTail        string      `json:"log_tail,omitempty"`
	LockedBy       *LockHolder `json:"locked_by,omitempty"`
	// Behind are the PRs ahead in the lock's plan queue, the holder first,
	// when the plan was refused for a lock: it runs by itself in turn.
	Behind   []LockHolder    `json:"behind,omitempty"`
	Policies []policy.Result `json:"policies,omitempty"`
	Unmet    []string        `json:"unmet,omitempty"`
	Hash     string          `json:"hash,omitempty"` // drift: hash of resource changes
	// Steps are the outputs a workflow's custom steps show.
	Steps []StepOutput `json:"steps,omitempty"`
}

// StepOutput is what one custom step of a workflow showed.
type StepOutput struct {
	Step   string `json:"step"`
	Output string `json:"output"`
	// Cut: the step printed more than atoll keeps; Output is the start.
	Cut bool `json:"cut,omitempty"`
}

// LockHolder names the PR holding a project's lock.
type LockHolder struct {
	Repo   string `json:"repo"`
	Number int    `json:"number"`
	Author string `json:"author"`
}

// Run is one command run on a PR (or drift issue): its jobs and its living
// comment, edited in place as jobs finish.
type Run struct {
	ID         string    `json:"id"`
	Repo       vcs.Repo  `json:"repo"`
	Number     int       `json:"number"`
	Command    string    `json:"command"` // plan, apply, autoplan, apply-after-merge, remediate
	User       string    `json:"user"`
	HeadSHA    string    `json:"head_sha"`
	JobIDs     []string  `json:"job_ids"`
	Message    string    `json:"message,omitempty"`
	DriftRun   string    `json:"drift_run,omitempty"` // the drift run a drift run reports to
	Comments   []int64   `json:"comments,omitempty"`
	CommentIDs []string  `json:"comment_node_ids,omitempty"`
	Created    time.Time `json:"created"`
	// Options are the command's flags that shape the run.
	Options RunOptions `json:"options,omitzero"`
	// Ordered is set when the run's jobs have execution order groups
	// other than 0, or run one after another: see runner/order.
	Ordered bool `json:"ordered,omitempty"`
}

// RunOptions are a command's flags that outlive parsing: --verbose shows
// each project's log in the comment; --auto-merge-disabled and
// --auto-merge-method decide the automerge after an apply run.
type RunOptions struct {
	Verbose     bool   `json:"verbose,omitempty"`
	NoAutomerge bool   `json:"no_automerge,omitempty"`
	MergeMethod string `json:"merge_method,omitempty"`
}

// PlanState is where a stored plan is on its way to being applied.
type PlanState string

// Plan states. planned -> applying -> applied or apply_failed. The move
// to applying is one atomic store update: it is what makes an apply happen
// once.
const (
	PlanPlanned     PlanState = "planned"
	PlanApplying    PlanState = "applying"
	PlanApplied     PlanState = "applied"
	PlanApplyFailed PlanState = "apply_failed"
	// PlanMerged: the PR merged before this plan was applied; the merge's
	// own plan-and-apply of the merge commit replaces it, so no comment
	// can claim it any more.
	PlanMerged PlanState = "merged"
)

// Plan is a stored plan of one project for one PR head.
type Plan struct {
	Repo       string             `json:"repo"`
	Number     int                `json:"number"`
	Project    Project            `json:"project"`
	HeadSHA    string             `json:"head_sha"`
	BaseSHA    string             `json:"base_sha"`
	Commit     string             `json:"commit"`
	File       string             `json:"file"`
	SHA256     string             `json:"sha256"`
	HasChanges bool               `json:"has_changes"`
	Summary    *terraform.Summary `json:"summary,omitempty"`
	Policies   []policy.Result    `json:"policies,omitempty"`
	PlanJob    string             `json:"plan_job"`
	// ExtraArgs are the arguments given after `--` to the plan command: an
	// approval binds to them, and a risky one needs a fresh approval.
	ExtraArgs []string  `json:"extra_args,omitempty"`
	State     PlanState `json:"state"`
	ApplyJob  string    `json:"apply_job,omitempty"`
	Created   time.Time `json:"created"`
}

// PRState is what the runner remembers of a PR between events.
type PRState struct {
	Repo    string `json:"repo"`
	Number  int    `json:"number"`
	HeadSHA string `json:"head_sha"`
	Author  string `json:"author"`
	Closed  bool   `json:"closed"`
	Merged  bool   `json:"merged"`
	// PlanComments are the node ids of plan comments, minimized when a new
	// commit supersedes them.
	PlanComments []string `json:"plan_comments,omitempty"`
	// Projects are the PR's projects as last planned.
	Projects []Project `json:"projects,omitempty"`
	// Heads are the PR's heads in the order atoll saw them, each dated
	// (see NoteHead); the last is the head atoll saw last.
	Heads []HeadSeen `json:"heads,omitempty"`
}

// Serial reports whether the job runs after the jobs before it in its
// run's group (parallel_plan or parallel_apply false).
func (j Job) Serial() bool {
	switch j.Kind {
	case JobPlan:
		return j.Project.SerialPlan
	case JobApply, JobPlanApply:
		return j.Project.SerialApply
	}
	return false
}

// HeadSeen is one head a pull request had: its SHA and since when. At is
// the code host's clock (the PR's updated_at when atoll first saw that
// head, which a push sets) so that it compares with a comment's
// created_at without trusting atoll's own clock to agree.
type HeadSeen struct {
	SHA string    `json:"sha"`
	At  time.Time `json:"at"`
}

// PolicyApproval records the owners who approved one policy set's failure
// on one project for one head SHA. A new commit means a new key, so
// approvals never carry over.
type PolicyApproval struct {
	Set     string   `json:"set"`
	Project string   `json:"project"`
	Users   []string `json:"users"`
}

// RemediationApproval records who approved the remediation plan of one
// drift issue; it binds to the plan job, so a new plan needs new approvals.
type RemediationApproval struct {
	PlanJob string   `json:"plan_job"`
	Users   []string `json:"users"`
}

// Drift statuses of a project, as the API reports them.
const (
	DriftInSync  = "in_sync"
	DriftDrifted = "drifted"
	DriftError   = "error"
)

// DriftRun is one drift check of a repository (or one of its projects),
// as GET /api/drift/runs/{id} shows it.
type DriftRun struct {
	ID       string         `json:"run_id"`
	Repo     string         `json:"repo"`
	Project  string         `json:"project,omitempty"`
	State    string         `json:"state"` // queued, running, done (reporting inside the store)
	Commit   string         `json:"commit,omitempty"`
	Error    string         `json:"error,omitempty"`
	Projects []DriftProject `json:"projects"`
	Created  time.Time      `json:"created"`
}

// DriftProject is one project's result in a DriftRun.
type DriftProject struct {
	Repo    string `json:"repo"`
	Project string `json:"project"`
	Status  string `json:"status,omitempty"` // in_sync, drifted, error; empty while running
	Issue   *int   `json:"issue"`
}

// DriftRecord is what atoll remembers of one project's drift: the open
// issue, and a bounded history of checks.
type DriftRecord struct {
	Repo      string        `json:"repo"`
	Project   Project       `json:"project"`
	Issue     int           `json:"issue,omitempty"`
	Hash      string        `json:"hash,omitempty"`
	FirstSeen time.Time     `json:"first_seen,omitempty"`
	LastSeen  time.Time     `json:"last_seen,omitempty"`
	History   []DriftResult `json:"history"`
}

// DriftResult is one check of one project.
type DriftResult struct {
	At      time.Time          `json:"at"`
	Commit  string             `json:"commit"`
	Status  string             `json:"status"`
	Summary *terraform.Summary `json:"summary,omitempty"`
	Hash    string             `json:"hash,omitempty"`
	Error   string             `json:"error,omitempty"`
}
