package gate

import "time"

// Code names one kind of unmet requirement; its template is
// templates/unmet_CODE.tmpl, rendered with the Reason.
type Code string

// Reason codes.
const (
	// CodePlanStale: the plan is of PlannedSHA, the head is now HeadSHA.
	CodePlanStale Code = "plan_stale"
	// CodeBaseMoved: the plan merged BaseRef at PlannedSHA, now at HeadSHA.
	CodeBaseMoved Code = "plan_base_moved"
	// CodePlanFile: the plan file differs from the one recorded.
	CodePlanFile Code = "plan_file"
	// CodeApproved: Have of Need approving reviews; with Args, the plan was
	// made with them at PlannedAt and only later approvals count.
	CodeApproved Code = "approved"
	// CodeMergeable: GitHub would not merge; Why is conflicts, draft,
	// behind, blocked, required_checks, checks (Checks) or unknown (State).
	CodeMergeable Code = "mergeable"
	// CodeUndiverged: the branch lacks BaseRef's head HeadSHA.
	CodeUndiverged Code = "undiverged"
	// CodeReviewers: Have of Need approvals from Teams for Paths; the rule
	// is of Origin ("server", "file": the top level of File, "project":
	// project OriginProject of File).
	CodeReviewers Code = "required_reviewers"
	// CodeCodeOwners: no approval by an owner of Pattern for Files.
	CodeCodeOwners Code = "code_owners"
	// CodeCodeOwnersUnreadable: CODEOWNERS of BaseRef could not be read.
	CodeCodeOwnersUnreadable Code = "code_owners_unreadable"
	// CodePolicy: policy set Set failed (Deny, and More messages not kept);
	// Have of Need owner approvals.
	CodePolicy Code = "policies_passed"
	// CodePolicyError: policy set Set could not be evaluated (Err).
	CodePolicyError Code = "policy_error"
	// CodeRemediationPlan: no plan shown on the drift issue, or it planned
	// PlannedSHA while the default branch is at HeadSHA.
	CodeRemediationPlan Code = "remediation_plan"
	// CodeRemediationApplier: User lacks the apply permission.
	CodeRemediationApplier Code = "remediation_applier"
	// CodeRemediationApproval: no second person with the apply permission
	// approved (`atoll approve`).
	CodeRemediationApproval Code = "remediation_approval"
	// CodeAutoRemediateOff: the server does not turn auto_remediate on for
	// this repository.
	CodeAutoRemediateOff Code = "auto_remediate_off"
	// CodeDependsOn: the project Set of depends_on must be applied first.
	CodeDependsOn Code = "depends_on"
	// CodeFork: the head lives in the fork HeadRepo and the server does
	// not allow forks (allow_fork_prs).
	CodeFork Code = "fork"
	// CodeHeadMoved: commit HeadSHA was pushed after the plan was made (an
	// apply job's last check); it is planned instead.
	CodeHeadMoved Code = "head_moved"
	// CodeApplyDisabled: the server's disable_apply stops every apply.
	CodeApplyDisabled Code = "apply_disabled"
	// CodeApplyLock: an admin's apply lock stops every apply, for Why.
	CodeApplyLock Code = "apply_lock"
)

// Codes lists every reason code, so that a test can check each has a
// template.
var Codes = []Code{CodePlanStale, CodeBaseMoved, CodePlanFile, CodeApproved, CodeMergeable, CodeUndiverged,
	CodeReviewers, CodeCodeOwners, CodeCodeOwnersUnreadable, CodePolicy, CodePolicyError,
	CodeRemediationPlan, CodeRemediationApplier, CodeRemediationApproval, CodeAutoRemediateOff, CodeDependsOn, CodeFork,
	CodeHeadMoved, CodeApplyDisabled, CodeApplyLock}

// Reason is one unmet requirement. Code says which; the other fields are
// its facts, set as the Code's comment says.
type Reason struct {
	Code    Code
	Project string

	Have, Need int
	// Stale: only approvals of the planned head counted.
	Stale      bool
	PlannedSHA string
	HeadSHA    string
	BaseRef    string
	Args       []string
	PlannedAt  time.Time
	Why        string
	State      string
	Checks     []string
	Teams      []string
	Paths      []string
	Origin     string
	// OriginProject is the project whose rule it is (Origin "project").
	OriginProject string
	Pattern       string
	Owners        []string
	File          string
	Line          int
	Files         []string
	// More counts what a list leaves out: files (code_owners) or deny
	// messages the policy gave beyond those kept (policies_passed).
	More     int
	Set      string
	Deny     []string
	Err      string
	User     string
	HeadRepo string
}

// Template is the name of the template that renders r.
func (r Reason) Template() string { return "unmet_" + string(r.Code) + ".tmpl" }
