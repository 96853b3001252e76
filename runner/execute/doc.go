// Package execute holds what every job body of the runner shares: the
// Space one job runs in (its worktree dir, the tail of its output and
// the writer its steps write to), the named steps a job fails at (Step),
// the outcome of a failure (Failure), and the plan files a job keeps and
// applies (StagePlan, CopyFile, FileSHA256).
//
// Contract: a failed step is a *StepError naming the step ("checkout",
// "init", "plan", "show", "apply", a workflow's step …); Failure turns
// any error into the outcome a comment shows, with FailedStep "internal"
// for an error no step named. Nothing here talks to the code host or the
// store, and nothing here starts terraform: the runner does, through
// runner/terraform, and writes its output through a Space.
package execute
