package records

import (
	"context"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/vcs"
)

// RunSpec describes a run to start: which jobs, on what. The engine's
// startRun stores it as a Run and its Jobs.
type RunSpec struct {
	Repo    vcs.Repo
	Number  int
	Command string // plan, autoplan, apply, apply-after-merge, remediate
	User    string
	HeadSHA string
	Message string
	// DriftRun is the API's drift run id, for a drift run.
	DriftRun string
	Jobs     []Job // ID, RunID, State and Created are filled in
	// PlanComment marks the run's comment as a plan comment, minimized when
	// a new commit supersedes it.
	PlanComment bool
	// Options are the command's flags that shape the run.
	Options RunOptions
	// Clearances are the gate's: a run with apply jobs starts only when
	// each apply job's project has a valid clearance here, and only
	// gate.Decide makes one. Each apply job takes its clearance's path.
	Clearances []gate.Clearance
	// BeforeQueue, when set, runs after the jobs are stored and before any
	// can run.
	BeforeQueue func(ctx context.Context, jobs []Job)
	// Also, when set, returns record updates stored in the same
	// transaction as the run (named runID) and its jobs: what says the run
	// exists (the PR's head seen) is never stored without the run, nor the
	// run without it.
	Also func(runID string) []locks.RecordUpdate
}
