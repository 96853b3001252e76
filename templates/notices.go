package templates

// Message is a reply atoll posts as a comment: a typed value whose
// Template names the one template (in this directory, or the operator's
// override of it) that renders it. Every message kind has its own
// template; a test checks that each kind of this package renders.
type Message interface {
	// Template is the file name of the message's template.
	Template() string
}

// RenderMessage renders m with its own template.
func (r *Renderer) RenderMessage(m Message) (string, error) { return r.Render(m.Template(), m) }

// Selector is the project selection of a command (`-p`, `-d`, `-w`); the
// zero value selects nothing. The partial selector.tmpl shows it, e.g.
// " (`-p app -w prod`)", and nothing when empty.
type Selector struct {
	Project, Dir, Workspace string
}

// Any reports whether a project, dir or workspace was selected.
func (s Selector) Any() bool { return s.Project != "" || s.Dir != "" || s.Workspace != "" }

// Flags are the command's selection flags as typed, e.g. ["-p app"].
func (s Selector) Flags() []string {
	var out []string
	for _, f := range []struct{ flag, value string }{{"-p", s.Project}, {"-d", s.Dir}, {"-w", s.Workspace}} {
		if f.value != "" {
			out = append(out, f.flag+" "+f.value)
		}
	}
	return out
}

// PlanClosed: `atoll plan` on a closed pull request. Template:
// notice_plan_closed.tmpl.
type PlanClosed struct{}

// NoProjectMatches: `atoll plan` found no project the pull request
// changes (among those Selected). Template: notice_no_project_matches.tmpl.
type NoProjectMatches struct{ Selected Selector }

// NoLocks: `atoll unlock` on a pull request holding no lock. Template:
// notice_no_locks.tmpl.
type NoLocks struct{}

// Unlocked: `atoll unlock` released the locks of Projects and discarded
// their plans. Template: notice_unlocked.tmpl.
type Unlocked struct{ Projects []string }

// LockReleasedByAdmin: an admin (By, e.g. "alice (web UI)") released the
// lock of Dir and Workspace the pull request held, and its plan was
// discarded. Template: notice_lock_released_by_admin.tmpl.
type LockReleasedByAdmin struct{ Dir, Workspace, By string }

// ClosedLocksReleased: the pull request was closed without merge; the
// locks of Projects were released and their plans discarded. Template:
// notice_closed_locks_released.tmpl.
type ClosedLocksReleased struct{ Projects []string }

// MergedLocksReleased: the pull request was merged; the locks of Projects
// were released. Template: notice_merged_locks_released.tmpl.
type MergedLocksReleased struct{ Projects []string }

// MergedApplyFailed: after the merge, the apply of Projects failed; their
// locks stay held. Template: notice_merged_apply_failed.tmpl.
type MergedApplyFailed struct{ Projects []string }

// MergedApplyRefused: after the merge, the apply of Projects was refused
// (their requirements are not met); their locks stay held. Template:
// notice_merged_apply_refused.tmpl.
type MergedApplyRefused struct{ Projects []string }

// AutomergeFailed: every project is applied, but merging the pull
// request failed with Error. Template: notice_automerge_failed.tmpl.
type AutomergeFailed struct{ Error string }

// BranchDeleteFailed: merged, but deleting Branch failed with Error.
// Template: notice_branch_delete_failed.tmpl.
type BranchDeleteFailed struct{ Branch, Error string }

// ApplyClosed: `atoll apply` on a pull request closed without merge.
// Template: notice_apply_closed.tmpl.
type ApplyClosed struct{}

// ApplyAfterMergeOnly: `atoll apply` on an open pull request of a
// repository whose apply_mode is after_merge. Template:
// notice_apply_after_merge_only.tmpl.
type ApplyAfterMergeOnly struct{}

// NoPlanToApply: `atoll apply` found no plan (among those Selected).
// Template: notice_no_plan_to_apply.tmpl.
type NoPlanToApply struct{ Selected Selector }

// ApplyNotRepeated: the last apply of Projects failed or was cut off, so
// their plans are never applied again. Template:
// notice_apply_not_repeated.tmpl.
type ApplyNotRepeated struct{ Projects []string }

// BusyProject is a project whose apply is running, or done (Applied).
type BusyProject struct {
	Name    string
	Applied bool
}

// NothingToApplyBusy: `atoll apply` found every selected plan applying or
// applied. Template: notice_nothing_to_apply_busy.tmpl.
type NothingToApplyBusy struct{ Projects []BusyProject }

// NothingToApplyNoChanges: every plan (among those Selected) has no
// changes. Template: notice_nothing_to_apply_no_changes.tmpl.
type NothingToApplyNoChanges struct{ Selected Selector }

// ApplyTaken: another apply took the plans of Projects first (running or
// done). Template: notice_apply_taken.tmpl.
type ApplyTaken struct{ Projects []string }

// ApplyAlreadyRunning: on a merged pull request, the apply of Projects is
// running already. Template: notice_apply_already_running.tmpl.
type ApplyAlreadyRunning struct{ Projects []string }

// NothingToRetry: `atoll apply` on a merged pull request whose projects
// are all applied. Template: notice_nothing_to_retry.tmpl.
type NothingToRetry struct{}

// DriftIssueCommands: an `atoll` command a drift issue does not take; the
// reply lists those it does. Template: notice_drift_issue_commands.tmpl.
type DriftIssueCommands struct{}

// NoPolicySets: `atoll approve_policies` on a server without policy sets.
// Template: notice_no_policy_sets.tmpl.
type NoPolicySets struct{}

// NoPolicySetOwned: User owns none of the policy sets to approve on a
// drift issue. Template: notice_no_policy_set_owned.tmpl.
type NoPolicySetOwned struct{ User string }

// RemediationPoliciesApproved: User approved the policy Sets for the
// remediation of Project at Commit. Template:
// notice_remediation_policies_approved.tmpl.
type RemediationPoliciesApproved struct {
	Sets                  []string
	Project, Commit, User string
}

// PolicyApproval is one policy set of one project.
type PolicyApproval struct{ Set, Project string }

// PoliciesApproved: User approved (or, Withdrawn, withdrew the approval
// of) the failing policy sets Approvals at Commit. Template:
// notice_policies_approved.tmpl.
type PoliciesApproved struct {
	Approvals    []PolicyApproval
	Commit, User string
	Withdrawn    bool
}

// AuthorCannotApprove: User, the pull request's author, may not approve
// the failures of its own policy Sets. Template:
// notice_author_cannot_approve.tmpl.
type AuthorCannotApprove struct {
	User string
	Sets []string
}

// NotPolicyOwner: User owns none of the failing policy Sets; Owners do.
// Template: notice_not_policy_owner.tmpl.
type NotPolicyOwner struct {
	User   string
	Sets   []string
	Owners []string
}

// NoFailingPolicy: no failing policy set to approve (among the plans
// Selected). Template: notice_no_failing_policy.tmpl.
type NoFailingPolicy struct{ Selected Selector }

func (PlanClosed) Template() string              { return "notice_plan_closed.tmpl" }
func (NoProjectMatches) Template() string        { return "notice_no_project_matches.tmpl" }
func (NoLocks) Template() string                 { return "notice_no_locks.tmpl" }
func (Unlocked) Template() string                { return "notice_unlocked.tmpl" }
func (LockReleasedByAdmin) Template() string     { return "notice_lock_released_by_admin.tmpl" }
func (ClosedLocksReleased) Template() string     { return "notice_closed_locks_released.tmpl" }
func (MergedLocksReleased) Template() string     { return "notice_merged_locks_released.tmpl" }
func (MergedApplyFailed) Template() string       { return "notice_merged_apply_failed.tmpl" }
func (MergedApplyRefused) Template() string      { return "notice_merged_apply_refused.tmpl" }
func (AutomergeFailed) Template() string         { return "notice_automerge_failed.tmpl" }
func (BranchDeleteFailed) Template() string      { return "notice_branch_delete_failed.tmpl" }
func (ApplyClosed) Template() string             { return "notice_apply_closed.tmpl" }
func (ApplyAfterMergeOnly) Template() string     { return "notice_apply_after_merge_only.tmpl" }
func (NoPlanToApply) Template() string           { return "notice_no_plan_to_apply.tmpl" }
func (ApplyNotRepeated) Template() string        { return "notice_apply_not_repeated.tmpl" }
func (NothingToApplyBusy) Template() string      { return "notice_nothing_to_apply_busy.tmpl" }
func (NothingToApplyNoChanges) Template() string { return "notice_nothing_to_apply_no_changes.tmpl" }
func (ApplyTaken) Template() string              { return "notice_apply_taken.tmpl" }
func (ApplyAlreadyRunning) Template() string     { return "notice_apply_already_running.tmpl" }
func (NothingToRetry) Template() string          { return "notice_nothing_to_retry.tmpl" }
func (DriftIssueCommands) Template() string      { return "notice_drift_issue_commands.tmpl" }
func (NoPolicySets) Template() string            { return "notice_no_policy_sets.tmpl" }
func (NoPolicySetOwned) Template() string        { return "notice_no_policy_set_owned.tmpl" }
func (RemediationPoliciesApproved) Template() string {
	return "notice_remediation_policies_approved.tmpl"
}
func (PoliciesApproved) Template() string    { return "notice_policies_approved.tmpl" }
func (AuthorCannotApprove) Template() string { return "notice_author_cannot_approve.tmpl" }
func (NotPolicyOwner) Template() string      { return "notice_not_policy_owner.tmpl" }
func (NoFailingPolicy) Template() string     { return "notice_no_failing_policy.tmpl" }

// The replies of messages.go are messages too.

func (Help) Template() string               { return "help.tmpl" }
func (CommandError) Template() string       { return "command_error.tmpl" }
func (PermissionDenied) Template() string   { return "permission_denied.tmpl" }
func (ConfigError) Template() string        { return "config_error.tmpl" }
func (ApplyRefused) Template() string       { return "apply_refused.tmpl" }
func (CommandUnsupported) Template() string { return "command_unsupported.tmpl" }
func (CommandNotAllowed) Template() string  { return "command_not_allowed.tmpl" }
func (ApplyDisabled) Template() string      { return "apply_disabled.tmpl" }
func (ForkRefused) Template() string        { return "fork_refused.tmpl" }
func (ForkHeadMoved) Template() string      { return "fork_head_moved.tmpl" }
func (Version) Template() string            { return "version.tmpl" }
func (DriftComment) Template() string       { return "drift_comment.tmpl" }
func (Remediation) Template() string        { return "remediation.tmpl" }
