package templates

// RunStatus is the state of a whole command run.
type RunStatus string

// Run states of a CommandComment.
const (
	RunRunning RunStatus = "running" // some projects are still queued or running
	RunDone    RunStatus = "done"    // every project has finished
)

// ProjectStatus is the state of one project within a command run.
type ProjectStatus string

// Project states. A project moves queued → running → a result of the plan
// (planned, no_changes, plan_error, locked), or applying → applied /
// apply_failed for an apply.
const (
	StatusQueued      ProjectStatus = "queued"       // waiting for a worker
	StatusRunning     ProjectStatus = "running"      // init/plan (or policy check) under way
	StatusPlanned     ProjectStatus = "planned"      // plan made and has changes
	StatusNoChanges   ProjectStatus = "no_changes"   // plan made, nothing to do
	StatusPlanError   ProjectStatus = "plan_error"   // a step failed: FailedStep, Error, LogTail
	StatusLocked      ProjectStatus = "locked"       // another PR holds the lock: LockedBy
	StatusApplying    ProjectStatus = "applying"     // apply under way
	StatusApplied     ProjectStatus = "applied"      // apply succeeded: ApplyOutput
	StatusApplyFailed ProjectStatus = "apply_failed" // apply failed: FailedStep, Error, LogTail, ApplyOutput
	StatusInterrupted ProjectStatus = "interrupted"  // the server stopped while it ran
	StatusSkipped     ProjectStatus = "skipped"      // not run (e.g. nothing to apply); Error may say why
	StatusRefused     ProjectStatus = "refused"      // apply refused: Unmet lists why
)

// PolicyStatus is the outcome of one policy set on one project's plan.
type PolicyStatus string

// Policy outcomes.
const (
	PolicyPassed   PolicyStatus = "passed"   // no deny, no warn
	PolicyWarned   PolicyStatus = "warned"   // no deny, some warn
	PolicyFailed   PolicyStatus = "failed"   // some deny, not (yet) approved
	PolicyApproved PolicyStatus = "approved" // some deny, approved by enough owners
	PolicyError    PolicyStatus = "error"    // evaluation failed (fails closed): Error
)

// CommandComment is the one comment atoll keeps per command run (plan,
// apply or approve_policies), rendered again and edited in place each time a
// project finishes. Template: command_comment.tmpl, which gets it as a
// CommentView. The rendered body may be longer than GitHub's limit: pass it
// through Split.
type CommandComment struct {
	// ID identifies the run; the body starts with Marker(ID) so the comment
	// can be found again.
	ID string
	// Command is the command name: "plan", "apply" or "approve_policies".
	Command string
	// User is the login of whoever commented the command; empty for a run
	// atoll started itself (autoplan, apply on merge).
	User string
	// Trigger says what started a run that no comment asked for (shown
	// by trigger.tmpl, e.g. "push of abc1234" or "merge of #12").
	// Optional.
	Trigger Trigger
	// HeadSHA is the commit the run works on (shown shortened). Optional.
	HeadSHA string
	// Status is running until every project has finished, then done. Next
	// steps are shown only when done.
	Status RunStatus
	// Message is an optional note shown at the top, e.g. "This run was
	// interrupted by a server restart; comment `atoll plan` to retry."
	Message string
	// Projects are the projects of the run, in the order to show them.
	Projects []ProjectResult
	// MaxPlanChars caps the plan text shown per project. Longer plans are
	// cut at a line boundary with a visible note and a link to JobURL.
	// 0 means DefaultMaxPlanChars; a negative value means no cap.
	MaxPlanChars int
	// Unsandboxed is set when terraform ran without atoll's sandbox
	// (server config `sandbox: off`, or `auto` on a kernel without
	// Landlock): the footer warns that the plan could read atoll's files.
	Unsandboxed bool
}

// DefaultMaxPlanChars is the per-project cap on plan text in a command
// comment when CommandComment.MaxPlanChars is 0: about three GitHub comments.
const DefaultMaxPlanChars = 180_000

// ProjectResult is what one project did in a run. The runner fills it from
// the plan summary (terraform show -json), the plan text, the policy results
// and the apply output. Fields that do not apply to the status stay zero.
type ProjectResult struct {
	// Name is the project's name from atoll.yaml; may be empty, then the
	// project is named by Dir and Workspace.
	Name string
	// Dir is the project directory relative to the repository root.
	Dir string
	// Workspace is the terraform workspace ("default" when unset).
	Workspace string
	// Status is where the project stands.
	Status ProjectStatus
	// ExtraArgs are the arguments the plan was made with (after `--`):
	// an approval covers the plan with these arguments.
	ExtraArgs []string
	// FreshApproval: the arguments change what is applied (-destroy,
	// -target, -replace, -var, -var-file), so only approvals given after
	// the plan count.
	FreshApproval bool

	// Add, Change and Destroy are terraform's own totals, as in its
	// "Plan: A to add, C to change, D to destroy." line: a replace counts in
	// both Add and Destroy. From the runner's summary: Add = Create +
	// Replace, Change = Update, Destroy = Delete + Replace.
	Add, Change, Destroy int
	// Replace is how many resources are replaced (already counted in Add
	// and Destroy). Import is how many are imported.
	Replace, Import int
	// Creates, Updates, Deletes, Replaces and Imports are resource
	// addresses by action (from the plan JSON, not scraped from text).
	Creates, Updates, Deletes, Replaces, Imports []string
	// Moves are resources moved to a new address.
	Moves []Move

	// PlanText is the human plan (terraform show PLANFILE), ANSI already
	// stripped and secrets already masked. Terraform's "Objects have
	// changed outside of Terraform" note, when the plan has one, is taken
	// out of it and shown in its own folded section.
	PlanText string
	// DriftText is the "Objects have changed outside of Terraform" part of
	// the plan, when the caller has separated it (it wins over a note found
	// in PlanText). Optional.
	DriftText string
	// ApplyOutput is the output of terraform apply. Its "Apply complete!"
	// line is shown verbatim outside the fold.
	ApplyOutput string
	// NothingToApply: the plan made before the apply had no changes, so
	// terraform apply did not run (status applied, no ApplyOutput).
	NothingToApply bool

	// FailedStep names the step that failed ("checkout", "init", "plan",
	// "policy", "apply", ...) for plan_error and apply_failed.
	FailedStep string
	// Error is a one-line reason for a failure, a skip or an interruption.
	Error string
	// LogTail is the end of the failing step's output; failure.tmpl shows
	// its last 40 lines, unfolded.
	LogTail string
	// Log is the end of the job's log, shown folded when the command asked
	// for it with --verbose. Optional.
	Log string
	// StepOutputs are the outputs of a workflow's custom steps (run steps
	// with output show or strip_refreshing, multienv steps), in order,
	// secrets already masked. Optional.
	StepOutputs []StepOutput

	// Provisioned are the resources with provisioners in the plan of an
	// interrupted apply: their commands may have run outside the state.
	Provisioned []string
	// LockedBy is the pull request holding the lock when Status is locked.
	LockedBy *LockHolder
	// Behind are the pull requests ahead of this one in the lock's plan
	// queue, the holder first, when Status is locked: the project is
	// planned by itself once they are done.
	Behind []LockHolder
	// Policies are the results of each policy set that applies.
	Policies []PolicyResult
	// Unmet lists apply requirements not met yet, each as "`name`: why",
	// e.g. "`approved`: 0 of 1 approving reviews".
	Unmet []string
	// JobURL is the job page with the full log and plan. Optional.
	JobURL string
	// SummaryOnly is set when the repository chose summary-only comments:
	// no plan text is shown, only counts, resources and a link to JobURL.
	SummaryOnly bool
}

// Move is a resource moved from one address to another.
type Move struct {
	From, To string
}

// LockHolder is the pull request that holds a project's lock.
type LockHolder struct {
	Number int    // pull request number
	URL    string // pull request page
	Author string // its author's login (optional)
}

// StepOutput is what one custom step of a workflow printed.
type StepOutput struct {
	// Step is the step as written, e.g. "run: tflint".
	Step string
	// Output is its output.
	Output string
	// Cut: the step printed more than atoll keeps (1 MiB); Output is the
	// start, the job log has it all.
	Cut bool
}

// PolicyResult is the outcome of one policy set on one project's plan.
type PolicyResult struct {
	// Set is the policy set's name.
	Set string
	// Enforcement is "mandatory" or "advisory".
	Enforcement string
	// Status is the outcome.
	Status PolicyStatus
	// Deny are the messages that block; Warn are shown only.
	Deny, Warn []PolicyMessage
	// Owners are the users and teams ("@org/team") who may approve.
	Owners []string
	// ApprovedBy are the owners who approved so far.
	ApprovedBy []string
	// Needed is how many owner approvals the set requires to pass a failure.
	Needed int
	// Error is why evaluation failed, for Status error.
	Error string
}

// PolicyMessage is one deny or warn message, with the resource address it
// is about when the policy named one.
type PolicyMessage struct {
	Msg      string
	Resource string
	// More, in the last message of a long list, counts the messages the
	// policy gave and atoll did not keep (Msg is then empty).
	More int
}
