// Package order says when a job of a run may start: execution order
// groups (Atlantis's execution_order_group) and serial plans and applies
// (parallel_plan, parallel_apply false), read from the run's records.
// The jobs of a run start group by group, the lowest group first; a job
// waits, queued, while a job of a lower group of its run is not final.
// With parallel_plan (parallel_apply) false, a plan (apply) job also
// waits for the jobs before it in its group. With
// abort_on_execution_order_fail, a job whose lower groups hold a failed
// (or interrupted) job is skipped instead of run.
//
// It decides only; the engine queues, skips and runs the jobs.
package order
