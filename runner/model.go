package runner

import (
	"github.com/atollhq/atoll/runner/records"
)

// The runner's records are runner/records' types; these names keep the
// engine's code short. See that package for each record's meaning.
type (
	Project             = records.Project
	JobKind             = records.JobKind
	JobState            = records.JobState
	Job                 = records.Job
	Outcome             = records.Outcome
	StepOutput          = records.StepOutput
	LockHolder          = records.LockHolder
	Run                 = records.Run
	RunOptions          = records.RunOptions
	PlanState           = records.PlanState
	Plan                = records.Plan
	PRState             = records.PRState
	HeadSeen            = records.HeadSeen
	PolicyApproval      = records.PolicyApproval
	RemediationApproval = records.RemediationApproval
	DriftRun            = records.DriftRun
	DriftProject        = records.DriftProject
	DriftRecord         = records.DriftRecord
	DriftResult         = records.DriftResult
)

// Job kinds, job states, plan states and drift statuses (records').
const (
	JobPlan      = records.JobPlan
	JobApply     = records.JobApply
	JobPlanApply = records.JobPlanApply
	JobDrift     = records.JobDrift

	JobQueued      = records.JobQueued
	JobRunning     = records.JobRunning
	JobSucceeded   = records.JobSucceeded
	JobFailed      = records.JobFailed
	JobSkipped     = records.JobSkipped
	JobInterrupted = records.JobInterrupted

	PlanPlanned     = records.PlanPlanned
	PlanApplying    = records.PlanApplying
	PlanApplied     = records.PlanApplied
	PlanApplyFailed = records.PlanApplyFailed
	PlanMerged      = records.PlanMerged

	DriftInSync  = records.DriftInSync
	DriftDrifted = records.DriftDrifted
	DriftError   = records.DriftError
)
