// Package execute runs the bodies of the runner's jobs: one job in a
// worktree of its own as a list of steps (checkout, init, plan, show,
// policies, apply), its outcome written once, at the end.
//
// Jobs (built with New from Deps) runs a plan job (Plan), the apply of a
// stored plan (Apply), a plan applied at once (PlanApply) and a drift
// check's plan of the default branch (Drift, which on a drift issue also
// stores the plan a remediation applies). Around
// the built-in steps it runs a project's workflow stages and repo_rules
// hooks (runner/workflow), confines every command with the sandbox
// policy of the job (Sandbox, runner/sandbox), keeps the state of a
// project without a backend under the data dir, keeps plan files there
// and, on a shared store, in the store (PlanFileOf, SharePlan), and
// evaluates the policy sets on a plan (EvaluatePolicies).
//
// It also holds what every job body shares: the Space one job runs in
// (its worktree dir, the tail of its output and the writer its steps
// write to), the named steps a job fails at (Step), the outcome of a
// failure (Failure), and the plan files a job keeps and applies
// (StagePlan, CopyFile, FileSHA256).
//
// Contract: a failed step is a *StepError naming the step ("checkout",
// "init", "plan", "show", "apply", a workflow's step …); Failure turns
// any error into the outcome a comment shows, with FailedStep "internal"
// for an error no step named. What a job asks of the runner around it
// (the repository configuration, locks, kill switches, progress, the
// gate's decisions, texts) it asks through Deps' small interfaces
// (Engine, Gate, Host, Git, FileStore); it never imports the runner.
package execute
