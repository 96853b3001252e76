package templates

// JobErrorKind says which of atoll's own reasons a job's step failed for.
type JobErrorKind string

// Job error kinds (runner/execute), with the fields of JobError each
// names.
const (
	JobErrWorkflowUndefined  JobErrorKind = "workflow_undefined"   // Name: the workflow the project names
	JobErrInitArgUnsupported JobErrorKind = "init_arg_unsupported" // Value: an init step's extra_args entry
	JobErrInitArgNeedsValue  JobErrorKind = "init_arg_needs_value" // -backend-config without a value
	JobErrStepNotInStage     JobErrorKind = "step_not_in_stage"    // Value: the step's kind; Name: the stage
	JobErrNoPlanWritten      JobErrorKind = "no_plan_written"      // a workflow's plan stage left no $PLANFILE
	JobErrWorkspaceName      JobErrorKind = "workspace_name"       // Name: a workspace that cannot name a state dir
	JobErrProjectDirEscapes  JobErrorKind = "project_dir_escapes"  // Path: a project dir leading out of the checkout
	JobErrNotADirectory      JobErrorKind = "not_a_directory"      // Path: a project's .terraform that is not a dir
	JobErrNotARegularFile    JobErrorKind = "not_a_regular_file"   // Path: its .terraform/environment not a file
	JobErrMergeDiffers       JobErrorKind = "merge_differs"        // Head into Base made Made, not Planned
	JobErrPlanFileMismatch   JobErrorKind = "plan_file_mismatch"   // Name: a shared plan file's copy is not the plan's
	JobErrStagedPlanMismatch JobErrorKind = "staged_plan_mismatch" // the plan file staged for apply is not the one recorded
)

// JobError is why a job's step failed, when atoll names the reason
// itself (shown after the step's name in the project's error).
// Template: job_error.tmpl.
type JobError struct {
	Kind                      JobErrorKind
	Name, Value, Path         string
	Head, Base, Made, Planned string
}

func (JobError) Template() string { return "job_error.tmpl" }

// HookLog is a line atoll writes into a job's log around the workflow
// hooks (pre_workflow_hooks, post_workflow_hooks) it runs: Count hooks of
// Hooks starting, or, with Error set, why a post-workflow hook failed
// (which fails nothing). Template: hook_log.tmpl.
type HookLog struct {
	Hooks string
	Count int
	Error string
}

func (HookLog) Template() string { return "hook_log.tmpl" }
