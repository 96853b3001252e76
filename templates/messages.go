package templates

import "time"

// Help is the reply to `atoll help`. Template: help.tmpl (the command list
// itself is help_text.tmpl, shared with CommandError).
type Help struct {
	// DocsURL links to the documentation. Optional.
	DocsURL string
}

// CommandError is the reply to a malformed atoll command: what is wrong
// (the Problem's own template), then the help text. Template:
// command_error.tmpl.
type CommandError struct {
	Problem CommandProblem
	// Help fills the help text shown below the error.
	Help Help
}

// PermissionDenied is the reply when the commenter may not run a command.
// Template: permission_denied.tmpl.
type PermissionDenied struct {
	// User is the commenter's login.
	User string
	// Command is the command refused, e.g. "apply".
	Command string
	// Need says what is missing, e.g. "write permission on this
	// repository" or "membership of @acme/infra".
	Need string
}

// ConfigError is the reply when the repository's atoll.yaml is broken: no
// plan ran. Template: config_error.tmpl.
type ConfigError struct {
	// File is the file's path in the repository, e.g. "atoll.yaml".
	File string
	// Commit is the commit whose file is broken. Optional.
	Commit string
	// Errors are the problems found, in file order.
	Errors []FieldError
}

// ConfigWarnings lists the keys of a repository configuration (atoll.yaml,
// or an Atlantis atlantis.yaml) that atoll reads but does not act on, each
// saying what atoll does instead; rendered into the note atop a plan
// comment. Template: config_warnings.tmpl.
type ConfigWarnings struct {
	// File is the file's path in the repository.
	File     string
	Warnings []FieldError
}

// FieldError is one problem in a configuration file, as runner/config's
// FieldError: its Kind picks its template, config_problem_KIND.tmpl, one
// line (config_problem.tmpl dispatches); the other fields are the
// particulars that kind has (runner/config's Kind constants list them).
// Line and Column are 1-based; 0 when unknown. Key is the dotted path of
// the offending key (e.g. "projects[1].dir"), empty when unknown.
type FieldError struct {
	Line, Column int
	Key          string
	// Kind is runner/config's Kind, e.g. "unknown_key".
	Kind string
	// Name is a key or step name, Value a value as written, Suggestion the
	// known name closest to Name, Expected and Got the type wanted
	// ("string", "bool", "integer", "list", "mapping", "duration", "step")
	// and what was found, Detail the YAML parser's own words.
	// Other is a second value a problem names, Index the entry it clashes
	// with.
	Name, Value, Other, Suggestion, Expected, Got, Detail string
	// Size, Limit, Count and Index are the numbers of the kinds that have
	// them.
	Size, Limit, Count, Index int
	// Allowed are the accepted values or names.
	Allowed []string
	// Warning marks a key atoll reads but does not act on.
	Warning bool
	// Message is the English sentence of a problem of kind "invalid" (the
	// checks that have no kind of their own yet).
	Message string
}

// Template is config_problem_KIND.tmpl.
func (e FieldError) Template() string { return "config_problem_" + e.Kind + ".tmpl" }

// ApplyRefused is the reply when an apply cannot run: every project with
// every requirement it does not meet. Template: apply_refused.tmpl.
type ApplyRefused struct {
	// Projects are the refused projects with their unmet requirements,
	// each as "`name`: why", e.g. "`approved`: 0 of 1 approving reviews".
	Projects []RefusedProject
	// Reason is a refusal that is not about one project (e.g. "the plans
	// are older than the PR head: comment `atoll plan`"). Optional.
	Reason string
	// Applying are the projects applied anyway, those that meet their
	// requirements when the server applies what it can
	// (apply_all_or_nothing: false). Empty: nothing was applied.
	Applying []string
	// Withheld are the projects that meet their requirements but are not
	// applied because others are refused (apply_all_or_nothing: true).
	Withheld []string
	// Path is the apply path refused: "" or "comment" (an `atoll apply`
	// on an open pull request), "after_merge", "retry" (on a merged pull
	// request), "remediation" or "auto_remediate" (a drift issue).
	Path string
}

// CommandUnsupported is the reply to a command Atlantis has and atoll
// does not (import, state). Template: command_unsupported.tmpl.
type CommandUnsupported struct {
	// Command is the command's name, e.g. "import".
	Command string
	// Help fills the help text shown below.
	Help Help
}

// CommandNotAllowed is the reply to a command the server's allow_commands
// does not list. Template: command_not_allowed.tmpl.
type CommandNotAllowed struct {
	// Command is the command refused, e.g. "apply".
	Command string
	// Allowed are the commands the server runs.
	Allowed []string
}

// ApplyDisabled is the reply to an apply while applies are stopped
// server-wide: by the configuration's disable_apply, or by the apply lock
// an admin set. Template: apply_disabled.tmpl.
type ApplyDisabled struct {
	// Disabled: disable_apply is set. Otherwise the apply lock holds,
	// with its Reason, who set it (By: "API", "web UI") and Since when.
	Disabled bool
	Reason   string
	By       string
	Since    time.Time
}

// RefusedProject is a project whose apply requirements are not met.
type RefusedProject struct {
	Name  string
	Unmet []string
}

// ForkRefused is the reply when a pull request from a fork is not
// planned or applied because the server's allow_fork_prs is off.
// Template: fork_refused.tmpl.
type ForkRefused struct {
	// Command is the command refused ("plan", "apply"); empty for an
	// automatic plan.
	Command string
	// HeadRepo is the fork ("owner/name").
	HeadRepo string
}

// ForkHeadMoved is the reply when a command on a fork's pull request is
// refused because the head changed after the comment was written.
// Template: fork_head_moved.tmpl.
type ForkHeadMoved struct {
	// User is the commenter; Command the command refused.
	User, Command string
	// Head is the pull request's head now.
	Head string
	// Unseen is set when atoll had not seen that head before the comment
	// was handled, so it cannot tell when it was pushed.
	Unseen bool
}

// Version is the reply to `atoll version`. Template: version.tmpl.
type Version struct {
	Version, Commit, GoVersion string
}

// DriftIssue is the issue atoll keeps open per drifted project of the
// default branch, edited in place while the drift stays. Templates:
// drift_issue_title.tmpl (one line) and drift_issue.tmpl (the body), which
// get it as a DriftIssueView.
type DriftIssue struct {
	// ID identifies the issue; the body starts with Marker(ID).
	ID string
	// Repo is "owner/name".
	Repo string
	// Branch is the branch planned (the default branch).
	Branch string
	// Commit is the commit planned.
	Commit string
	// FirstSeen is when this drift was first detected; LastSeen the
	// latest check that still found it.
	FirstSeen, LastSeen time.Time
	// Changed is set when the drift differs from what the issue showed
	// before (the body says so on its own line).
	Changed bool
	// Project carries the name, dir, workspace, counts, resources by
	// action, PlanText (shown folded), LockedBy (a PR holding the lock) and
	// JobURL of the drift plan.
	Project ProjectResult
}

// IssueText is a rendered issue.
type IssueText struct {
	Title, Body string
}

// DriftKind says what a DriftComment reports.
type DriftKind string

// Drift comment kinds.
const (
	DriftResolved   DriftKind = "resolved"   // the drift is gone; the issue is closed
	DriftChanged    DriftKind = "changed"    // the drift differs from before; the body was updated
	DriftError      DriftKind = "error"      // the drift check failed
	DriftRemediated DriftKind = "remediated" // `atoll apply` on the issue applied a fix
)

// DriftComment is a comment on a drift issue. Template: drift_comment.tmpl.
type DriftComment struct {
	// Kind says what happened.
	Kind DriftKind
	// Commit is the commit the check or apply ran on.
	Commit string
	// At is when it happened.
	At time.Time
	// By is the login who remediated (remediated only).
	By string
	// Project carries the counts (changed), FailedStep, Error and LogTail
	// (error), ApplyOutput (remediated) and JobURL.
	Project ProjectResult
}

// CheckStage is the stage a check run reports.
type CheckStage string

// Check stages, one check run per project and stage.
const (
	CheckPlan   CheckStage = "plan"
	CheckPolicy CheckStage = "policy"
	CheckApply  CheckStage = "apply"
	CheckDrift  CheckStage = "drift"
)

// CheckName is the check run name for a stage and project, e.g.
// "atoll/plan: app". Branch protection rules name checks by it.
func CheckName(stage CheckStage, project string) string {
	return "atoll/" + string(stage) + ": " + project
}

// CheckSummary is the output of one check run. Templates: check_title.tmpl
// (one line) and check_summary.tmpl (markdown), which get it as a
// CheckView.
type CheckSummary struct {
	// Stage is the check's stage.
	Stage CheckStage
	// Project is the project's result; the stage picks what is shown.
	Project ProjectResult
	// CommentURL links to the PR comment with the full details. Optional.
	CommentURL string
}

// CheckOutput is a rendered check run output: Name as CheckName gives it,
// a one-line Title and a Summary under CheckSummaryLimit characters.
type CheckOutput struct {
	Name, Title, Summary string
}

// RemediationKind says which remediation reply to give.
type RemediationKind string

// Remediation replies.
const (
	RemediationApproved  RemediationKind = "approved"
	RemediationWithdrawn RemediationKind = "withdrawn"
	RemediationNoPlan    RemediationKind = "no_plan"
	RemediationNoChanges RemediationKind = "no_changes"
	RemediationBusy      RemediationKind = "busy"
	RemediationLocked    RemediationKind = "locked"
)

// Remediation is a reply about a drift remediation. Template:
// remediation.tmpl.
type Remediation struct {
	Kind     RemediationKind
	Project  string
	User     string
	Commit   string
	LockedBy int
}

// CommandProblem is what is wrong with a malformed command, as
// runner/command's Error says it: a Kind (runner/command's Kind, e.g.
// "unknown_flag") and the fields that kind uses. Each kind has its own
// template, command_problem_KIND.tmpl, one line; command_problem.tmpl
// picks it. Word, Flag and Value are what the comment wrote, already cut
// to a bounded length.
type CommandProblem struct {
	Kind                              string
	Command, Word, Flag, Value, Usage string
	Choices                           []string
}

// Template is command_problem_KIND.tmpl.
func (p CommandProblem) Template() string { return "command_problem_" + p.Kind + ".tmpl" }
