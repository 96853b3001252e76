package templates

import "time"

// sample is data New renders each template with, to catch a broken
// override at start. Together the samples take most template branches.
type sample struct {
	name, label string
	data        any
}

const samplePlan = `
Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  + create
  ~ update in-place
  - destroy
-/+ destroy and then create replacement

Terraform will perform the following actions:

  # local_file.config must be replaced
-/+ resource "local_file" "config" {
      ~ content              = <<-EOT # forces replacement
            items:
              - one
          - v: a
          + v: b
        EOT
      ~ id                   = "60609e48" -> (known after apply)
        # (3 unchanged attributes hidden)
    }

  # terraform_data.old will be destroyed
  - resource "terraform_data" "old" {
      - id = "f312794b" -> null
    }

  # terraform_data.web will be created
  + resource "terraform_data" "web" {
      + id = (known after apply)
    }

Plan: 2 to add, 0 to change, 2 to destroy.
`

const sampleApply = `terraform_data.web: Creating...
terraform_data.web: Creation complete after 0s [id=2f9c]

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
`

func sampleProjects() []ProjectResult {
	policies := []PolicyResult{
		{Set: "tags", Enforcement: "advisory", Status: PolicyWarned,
			Warn: []PolicyMessage{{Msg: "missing tag owner", Resource: "terraform_data.web"}}},
		{Set: "security", Enforcement: "mandatory", Status: PolicyFailed, Owners: []string{"alice", "@acme/sec"},
			Needed: 2, ApprovedBy: []string{"alice"},
			Deny: []PolicyMessage{{Msg: "no destroys of data stores", Resource: "terraform_data.old"}}},
		{Set: "cost", Enforcement: "mandatory", Status: PolicyApproved, ApprovedBy: []string{"bob"}, Owners: []string{"bob"}, Needed: 1,
			Deny: []PolicyMessage{{Msg: "too expensive"}, {More: 4}}, Warn: []PolicyMessage{{More: 2}}},
		{Set: "naming", Status: PolicyError, Error: "evaluation timed out"},
		{Set: "base", Status: PolicyPassed},
	}
	return []ProjectResult{
		{Name: "app", Dir: "infra/app", Workspace: "default", Status: StatusPlanned, ExtraArgs: []string{"-destroy"}, FreshApproval: true,
			Add: 2, Destroy: 2, Replace: 1, Import: 1,
			Creates: []string{"terraform_data.web"}, Deletes: []string{"terraform_data.old"},
			Replaces: []string{"local_file.config"}, Imports: []string{"terraform_data.imp"},
			Moves:    []Move{{From: "terraform_data.a", To: "terraform_data.b"}},
			PlanText: samplePlan, Policies: policies,
			Unmet:  []string{"`approved`: 0 of 1 approving reviews"},
			JobURL: "https://atoll.example/jobs/1"},
		{Name: "net", Dir: "infra/net", Status: StatusNoChanges},
		{Dir: "infra/dns", Workspace: "staging", Status: StatusPlanError, FailedStep: "init",
			Error: "exit status 1", LogTail: "Error: Failed to query available provider packages"},
		{Name: "db", Dir: "infra/db", Status: StatusLocked,
			LockedBy: &LockHolder{Number: 12, URL: "https://github.com/acme/infra/pull/12", Author: "carol"}},
		{Name: "q", Dir: "q", Status: StatusQueued},
		{Name: "i", Dir: "i", Status: StatusInterrupted, Error: "server restarted"},
		{Name: "s", Dir: "s", Status: StatusSkipped, Error: "no plan"},
		{Name: "ok", Dir: "ok", Status: StatusApplied, Add: 1, ApplyOutput: sampleApply},
		{Name: "bad", Dir: "bad", Status: StatusApplyFailed, FailedStep: "apply", Error: "exit status 1",
			LogTail: "Error: permission denied", ApplyOutput: "terraform_data.web: Creating...\n"},
		{Name: "no", Dir: "no", Status: StatusRefused, Add: 1, Creates: []string{"terraform_data.web"},
			Unmet: []string{"`policies_passed`: security failed"}},
		{Name: "sum", Dir: "sum", Status: StatusPlanned, Change: 1, Updates: []string{"terraform_data.x"},
			SummaryOnly: true, JobURL: "https://atoll.example/jobs/2", Log: "Initializing...\nPlan: 0 to add, 1 to change, 0 to destroy.",
			StepOutputs: []StepOutput{{Step: "run: tflint", Output: "1 issue(s) found"}, {Step: "run: cat big", Output: "x", Cut: true}}},
		{Name: "locked2", Dir: "l", Status: StatusLocked},
		{Name: "same", Dir: "same", Status: StatusApplied, NothingToApply: true},
	}
}

func samples() []sample {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	projects := sampleProjects()
	app := projects[0]
	out := []sample{
		{"remediation.tmpl", "an approval", Remediation{Kind: RemediationApproved, Project: "prod", User: "bob", Commit: "0123456789"}},
		{"remediation.tmpl", "locked", Remediation{Kind: RemediationLocked, Project: "prod", LockedBy: 3}},
		{"command_comment.tmpl", "a plan of every kind of project", CommandComment{
			ID: "plan-1", Command: "plan", User: "alice", HeadSHA: "0123456789abcdef", Status: RunDone,
			Message: "This run was interrupted by a server restart.", Projects: projects}},
		{"command_comment.tmpl", "a running apply", CommandComment{
			ID: "apply-1", Command: "apply", Trigger: Trigger{Kind: TriggerMerge, Number: 3}, Status: RunRunning, Projects: projects}},
		{"command_comment.tmpl", "a failed apply", CommandComment{
			ID: "apply-2", Command: "apply", User: "bob", Status: RunDone, Projects: projects[8:9]}},
		{"command_comment.tmpl", "an unsandboxed plan", CommandComment{ID: "run-5", Command: "plan", Status: RunDone,
			Projects: projects[:1], Unsandboxed: true}},
		{"command_comment.tmpl", "one project", CommandComment{
			ID: "plan-2", Command: "plan", Status: RunDone, Projects: projects[:1], MaxPlanChars: 100}},
		{"help.tmpl", "help", Help{DocsURL: "https://atoll.example/docs"}},
		{"command_error.tmpl", "a command error", CommandError{Problem: CommandProblem{Kind: "unknown_flag", Command: "plan",
			Flag: "-x", Usage: "atoll plan [-p PROJECT]"}}},
		{"permission_denied.tmpl", "a permission error", PermissionDenied{User: "eve", Command: "apply", Need: "write permission"}},
		{"config_error.tmpl", "a config error", ConfigError{File: "atoll.yaml", Commit: "0123456789",
			Errors: []FieldError{{Line: 3, Column: 5, Key: "projects[0].dir", Message: "required"}, {Message: "bad"}}}},
		{"config_warnings.tmpl", "config warnings", ConfigWarnings{File: "atlantis.yaml",
			Warnings: []FieldError{{Line: 7, Column: 5, Key: "projects[0].execution_order_group", Message: "atoll runs projects in no order"}}}},
		{"apply_refused.tmpl", "a refusal after merge", ApplyRefused{Path: "after_merge", Projects: []RefusedProject{{Name: "prod", Unmet: []string{"x"}}}}},
		{"apply_refused.tmpl", "a refused remediation", ApplyRefused{Path: "remediation", Projects: []RefusedProject{{Name: "prod", Unmet: []string{"x"}}}}},
		{"apply_refused.tmpl", "a refusal", ApplyRefused{Reason: "Not yet.",
			Projects: []RefusedProject{{Name: "app", Unmet: []string{"`approved`: 0 of 1 approving reviews"}}}}},
		{"apply_refused.tmpl", "a partial apply", ApplyRefused{Applying: []string{"app", "db"},
			Projects: []RefusedProject{{Name: "net", Unmet: []string{"`policies_passed`: security failed"}}}}},
		{"apply_refused.tmpl", "all or nothing", ApplyRefused{Withheld: []string{"app"},
			Projects: []RefusedProject{{Name: "net", Unmet: []string{"`policies_passed`: security failed"}}}}},
		{"command_unsupported.tmpl", "an unsupported command", CommandUnsupported{Command: "import"}},
		{"command_not_allowed.tmpl", "a command not allowed", CommandNotAllowed{Command: "apply", Allowed: []string{"plan", "unlock"}}},
		{"apply_disabled.tmpl", "apply disabled", ApplyDisabled{Disabled: true}},
		{"apply_disabled.tmpl", "apply locked", ApplyDisabled{Reason: "change freeze until Monday", By: "API", Since: at}},
		{"fork_refused.tmpl", "a fork refused at autoplan", ForkRefused{HeadRepo: "mallory/infra"}},
		{"fork_refused.tmpl", "a fork refused by comment", ForkRefused{Command: "plan", HeadRepo: "mallory/infra"}},
		{"fork_head_moved.tmpl", "a fork pushed after the comment", ForkHeadMoved{User: "alice", Command: "plan", Head: "0123456789abcdef", Unseen: true}},
		{"version.tmpl", "a version", Version{Version: "1.0.0", Commit: "0123456789", GoVersion: "go1.26"}},
		{"drift_issue_title.tmpl", "a drift title", DriftIssue{Project: app}},
		{"drift_issue.tmpl", "a drift issue", DriftIssue{ID: "drift-1", Repo: "acme/infra", Branch: "main",
			Commit: "0123456789", FirstSeen: at, LastSeen: at, Changed: true,
			Project: withLock(app, &LockHolder{Number: 12, URL: "https://github.com/acme/infra/pull/12", Author: "carol"})}},
	}
	for _, k := range []DriftKind{DriftResolved, DriftChanged, DriftError, DriftRemediated, "other"} {
		out = append(out, sample{"drift_comment.tmpl", "a drift comment " + string(k),
			DriftComment{Kind: k, Commit: "0123456789", At: at, By: "alice", Project: projects[0]}})
	}
	out = append(out, sample{"drift_comment.tmpl", "a drift error", DriftComment{Kind: DriftError, Project: projects[2]}})
	out = append(out, sample{"drift_comment.tmpl", "a remediation", DriftComment{Kind: DriftRemediated, Project: projects[7]}})
	out = append(out, sample{"drift_comment.tmpl", "a remediation with nothing to apply", DriftComment{Kind: DriftRemediated, Project: projects[len(projects)-1]}})
	for _, st := range []CheckStage{CheckPlan, CheckPolicy, CheckApply, CheckDrift} {
		for _, p := range projects {
			c := CheckSummary{Stage: st, Project: p, CommentURL: "https://github.com/acme/infra/pull/3#issuecomment-1"}
			out = append(out,
				sample{"check_title.tmpl", "a check title", c},
				sample{"check_summary.tmpl", "a check summary", c})
		}
	}
	for _, k := range []TriggerKind{TriggerPush, TriggerPlanQueue, "other"} {
		out = append(out, sample{"command_comment.tmpl", "a run started by " + string(k), CommandComment{
			ID: "plan-3", Command: "plan", Trigger: Trigger{Kind: k, Commit: "0123456789"}, Status: RunDone, Projects: projects[:1]}})
	}
	for _, st := range []CheckState{CheckQueued, CheckRunning, CheckRestarting} {
		for _, k := range []string{"plan", "apply", "plan_apply", "drift"} {
			c := CheckProgress{State: st, Kind: k, Project: "app"}
			out = append(out, sample{"check_progress_title.tmpl", "a check in progress", c},
				sample{"check_progress.tmpl", "a check in progress", c})
		}
	}
	for _, p := range configProblemSamples() {
		out = append(out, sample{p.Template(), "a config problem", p},
			sample{"config_error.tmpl", "a config error: " + p.Kind, ConfigError{File: "atoll.yaml", Errors: []FieldError{p}}})
	}
	for _, p := range commandProblemSamples() {
		out = append(out, sample{p.Template(), "a command problem", p},
			sample{"command_error.tmpl", "a command error: " + p.Kind, CommandError{Problem: p}})
	}
	for _, m := range noticeSamples() {
		out = append(out, sample{m.Template(), "a notice", m})
	}
	return append(out, unmetSamples()...)
}

// noticeSamples are a value of each notice kind, most branches included.
func noticeSamples() []Message {
	sel := Selector{Project: "app", Workspace: "prod"}
	return []Message{
		PlanClosed{}, NoProjectMatches{}, NoProjectMatches{Selected: sel}, NoLocks{},
		Unlocked{Projects: []string{"app", "db"}},
		LockReleasedByAdmin{Dir: "infra/app", Workspace: "default", By: "alice (web UI)"},
		ClosedLocksReleased{Projects: []string{"app"}}, MergedLocksReleased{Projects: []string{"app"}},
		MergedApplyFailed{Projects: []string{"app"}}, MergedApplyRefused{Projects: []string{"app", "db"}},
		AutomergeFailed{Error: "405 Method Not Allowed"}, BranchDeleteFailed{Branch: "feature", Error: "422 protected"},
		ApplyClosed{}, ApplyAfterMergeOnly{}, NoPlanToApply{}, NoPlanToApply{Selected: Selector{Dir: "infra/db"}},
		ApplyNotRepeated{Projects: []string{"app"}},
		NothingToApplyBusy{Projects: []BusyProject{{Name: "app"}, {Name: "db", Applied: true}}},
		NothingToApplyNoChanges{Selected: sel}, ApplyTaken{Projects: []string{"app"}},
		ApplyAlreadyRunning{Projects: []string{"app"}}, NothingToRetry{}, DriftIssueCommands{}, NoPolicySets{},
		NoPolicySetOwned{User: "eve"},
		RemediationPoliciesApproved{Sets: []string{"security"}, Project: "app", Commit: "0123456789", User: "alice"},
		PoliciesApproved{Approvals: []PolicyApproval{{Set: "security", Project: "app"}}, Commit: "0123456789", User: "alice"},
		PoliciesApproved{Approvals: []PolicyApproval{{Set: "security", Project: "app"}, {Set: "cost", Project: "db"}},
			Commit: "0123456789", User: "alice", Withdrawn: true},
		AuthorCannotApprove{User: "eve", Sets: []string{"security"}},
		NotPolicyOwner{User: "eve", Sets: []string{"security"}, Owners: []string{"alice", "@acme/sec"}},
		NoFailingPolicy{}, NoFailingPolicy{Selected: Selector{Project: "app", Dir: "infra/app", Workspace: "prod"}},
		RunInterrupted{}, RunInterrupted{Apply: true},
		WebRefused{Action: WebReleaseLock, Need: "write permission on acme/infra (you have read)"},
		WebRefused{Action: WebCancelJob, Need: "x"}, WebRefused{Action: WebDriftCheck, Need: "x"},
		WebError{Kind: WebSignInFirst}, WebError{Kind: WebBadForm}, WebError{Kind: WebCSRFStale}, WebError{Kind: WebUIOff},
		WebError{Kind: WebLoginState}, WebError{Kind: WebLoginRefused}, WebError{Kind: WebUserUnreadable},
		WebError{Kind: WebSessionFailed}, WebError{Kind: WebLogoutFailed}, WebError{Kind: WebApplyLockAdmins},
		WebError{Kind: WebApplyLockAction}, WebError{Kind: WebApplyLockReason}, WebError{Kind: WebStreamingOff},
		WebError{Kind: WebInternal},
		Need{Permission: "write", Repo: "acme/infra", Have: "read"}, Need{Teams: []string{"acme/infra", "carol"}},
		JobInterrupted{Kind: "plan"}, JobInterrupted{Kind: "apply"}, JobInterrupted{Kind: "plan_apply"},
		JobSkipped{Kind: SkipCancelled, By: "alice (web UI)"}, JobSkipped{Kind: SkipPlanGone}, JobSkipped{Kind: SkipApplyTaken},
		JobSkipped{Kind: SkipPRClosed}, JobSkipped{Kind: SkipSuperseded, Commit: "0123456789"}, JobSkipped{Kind: SkipRestarted},
		JobPanicked{Error: "runtime error: index out of range"}, JobUnknownKind{Kind: "import"},
		ApplyLockUnreadable{Error: "read /var/lib/atoll/atoll.db: input/output error"}, JobSkipped{Kind: SkipOrderFailed, Project: "network"},
		PartUnused{ID: "plan-1"},
		JobError{Kind: JobErrWorkflowUndefined, Name: "custom"}, JobError{Kind: JobErrInitArgUnsupported, Value: "-upgrade"},
		JobError{Kind: JobErrInitArgNeedsValue}, JobError{Kind: JobErrStepNotInStage, Value: "apply", Name: "plan"},
		JobError{Kind: JobErrNoPlanWritten}, JobError{Kind: JobErrWorkspaceName, Name: "a/b"},
		JobError{Kind: JobErrProjectDirEscapes, Path: "evil"}, JobError{Kind: JobErrNotADirectory, Path: "app/.terraform"},
		JobError{Kind: JobErrNotARegularFile, Path: "app/.terraform/environment"},
		JobError{Kind: JobErrMergeDiffers, Head: "0123456", Base: "89abcde", Made: "1111111", Planned: "2222222"},
		JobError{Kind: JobErrPlanFileMismatch, Name: "job1.tfplan"}, JobError{Kind: JobErrStagedPlanMismatch},
		HookLog{Hooks: "pre_workflow_hooks", Count: 2},
		HookLog{Hooks: "post_workflow_hooks", Error: "post_workflow_hooks (notify): exit status 1"},
	}
}

func withLock(p ProjectResult, l *LockHolder) ProjectResult {
	p.LockedBy = l
	return p
}

// unmetSample has the fields of runner/gate's Reason, which the unmet_*
// templates render (templates does not import the runner).
type unmetSample struct {
	Code, Project                                    string
	Have, Need, Line, More                           int
	Stale                                            bool
	PlannedSHA, HeadSHA, BaseRef, Why, State, Origin string
	OriginProject                                    string
	Pattern, File, Set, Err, User, HeadRepo          string
	Args, Checks, Teams, Paths, Owners, Files, Deny  []string
	PlannedAt                                        time.Time
}

// unmetSamples render every unmet_*.tmpl, most branches included.
func unmetSamples() []sample {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	u := func(code string, f func(*unmetSample)) sample {
		s := unmetSample{Code: code, Project: "prod", Have: 0, Need: 1, PlannedSHA: "0123456789", HeadSHA: "abcdef0123",
			BaseRef: "main", PlannedAt: at}
		f(&s)
		return sample{"unmet_" + code + ".tmpl", code, s}
	}
	return []sample{
		u("plan_stale", func(*unmetSample) {}),
		u("plan_base_moved", func(*unmetSample) {}),
		u("plan_file", func(*unmetSample) {}),
		u("approved", func(s *unmetSample) { s.Stale, s.Args = true, []string{"-destroy"} }),
		u("mergeable", func(s *unmetSample) { s.Why, s.Checks = "required_checks", []string{"ci"} }),
		u("mergeable", func(s *unmetSample) { s.Why, s.State = "unknown", "has_hooks" }),
		u("undiverged", func(*unmetSample) {}),
		u("required_reviewers", func(s *unmetSample) {
			s.Teams, s.Paths, s.Origin, s.OriginProject, s.File = []string{"acme/sec"}, []string{"db/**"}, "project", "prod", "atoll.yaml"
		}),
		u("required_reviewers", func(s *unmetSample) { s.Teams, s.Origin, s.File = []string{"acme/sec"}, "file", "atoll.yaml" }),
		u("required_reviewers", func(s *unmetSample) { s.Teams, s.Origin = []string{"acme/sec"}, "server" }),
		u("code_owners", func(s *unmetSample) {
			s.Pattern, s.Owners, s.File, s.Line, s.Files, s.More = "/db/", []string{"carol", "a@b.c"}, "CODEOWNERS", 2, []string{"db/x"}, 3
		}),
		u("code_owners_unreadable", func(s *unmetSample) { s.Err = "boom" }),
		u("policies_passed", func(s *unmetSample) { s.Set, s.Deny, s.Owners = "sec", []string{"no"}, []string{"acme/sec"} }),
		u("policies_passed", func(s *unmetSample) { s.Set, s.Deny, s.More, s.Owners = "sec", []string{"no"}, 7, []string{"acme/sec"} }),
		u("policy_error", func(s *unmetSample) { s.Set, s.Err = "sec", "boom" }),
		u("remediation_plan", func(*unmetSample) {}),
		u("remediation_applier", func(s *unmetSample) { s.User = "eve" }),
		u("remediation_approval", func(s *unmetSample) { s.User = "eve" }),
		u("auto_remediate_off", func(*unmetSample) {}),
		u("depends_on", func(s *unmetSample) { s.Set = "staging" }),
		u("fork", func(s *unmetSample) { s.HeadRepo = "mallory/infra" }),
		u("head_moved", func(*unmetSample) {}),
		u("apply_disabled", func(*unmetSample) {}),
		u("apply_lock", func(s *unmetSample) { s.Why = "change freeze until Monday" }),
	}
}

// configProblemSamples are a value of each configuration problem kind
// (those of runner/config's Kind).
func configProblemSamples() []FieldError {
	at := func(fe FieldError) FieldError { fe.Line, fe.Column, fe.Key = 4, 3, "projects[0].autoplan"; return fe }
	return []FieldError{
		{Kind: "file_too_large", Size: 2000000, Limit: 1 << 20},
		{Kind: "invalid_yaml", Line: 3, Detail: "mapping values are not allowed in this context"},
		{Kind: "multiple_documents", Line: 9, Column: 1},
		at(FieldError{Kind: "too_many_values", Limit: 100000}),
		at(FieldError{Kind: "wrong_type", Expected: "duration", Got: `"soon"`}),
		at(FieldError{Kind: "wrong_type", Expected: "bool", Got: "a list"}),
		at(FieldError{Kind: "wrong_type", Expected: "integer", Got: `"x"`}),
		at(FieldError{Kind: "wrong_type", Expected: "string", Got: "a mapping"}),
		at(FieldError{Kind: "wrong_type", Expected: "list", Got: `"x"`}),
		at(FieldError{Kind: "wrong_type", Expected: "mapping", Got: "a list"}),
		at(FieldError{Kind: "wrong_type", Expected: "step", Got: "a list"}),
		at(FieldError{Kind: "invalid_duration", Value: "5 minutes"}),
		at(FieldError{Kind: "unknown_key", Name: "when_modifed", Suggestion: "when_modified"}),
		at(FieldError{Kind: "unknown_key", Name: "colour"}),
		at(FieldError{Kind: "duplicate_key", Name: "dir"}),
		at(FieldError{Kind: "key_not_string", Got: "a list"}),
		at(FieldError{Kind: "merge_too_deep", Limit: 10}),
		at(FieldError{Kind: "merge_not_mapping", Got: `"x"`}),
		at(FieldError{Kind: "step_needs_value", Name: "run"}),
		at(FieldError{Kind: "unknown_step", Name: "plann", Allowed: []string{"init", "plan", "apply", "run", "env", "multienv"}}),
		at(FieldError{Kind: "step_keys", Count: 2, Allowed: []string{"init", "plan", "apply", "run", "env", "multienv"}}),
		at(FieldError{Kind: "unknown_value", Value: "always", Allowed: []string{"auto", "enabled", "disabled"}}),
		at(FieldError{Kind: "version_required"}),
		at(FieldError{Kind: "unsupported_atlantis_version", Count: 2}),
		at(FieldError{Kind: "unsupported_version", Count: 4}),
		at(FieldError{Kind: "unknown_apply_mode", Value: "never"}),
		at(FieldError{Kind: "automerge_ignored", Warning: true}),
		at(FieldError{Kind: "automerge_not_enabled"}),
		at(FieldError{Kind: "drift_not_allowed"}),
		at(FieldError{Kind: "invalid_schedule", Value: "soon", Detail: "invalid schedule \"soon\": expected 5 fields"}),
		at(FieldError{Kind: "workflows_not_allowed"}),
		at(FieldError{Kind: "invalid_workspace", Value: "a b"}),
		at(FieldError{Kind: "invalid_project_name", Value: "-x"}),
		at(FieldError{Kind: "duplicate_project_name", Value: "app", Index: 0}),
		at(FieldError{Kind: "duplicate_dir_workspace", Value: "app", Other: "default", Index: 1}),
		at(FieldError{Kind: "distributions_disagree", Value: "opentofu", Other: "terraform"}),
		at(FieldError{Kind: "invalid_var_file", Value: "/etc/x.tfvars"}),
		at(FieldError{Kind: "var_file_outside", Value: "../../x.tfvars"}),
		at(FieldError{Kind: "branch_needs_slashes", Value: "main"}),
		at(FieldError{Kind: "invalid_glob", Value: "modules/[x", Other: "[x"}),
		at(FieldError{Kind: "invalid_glob"}),
		at(FieldError{Kind: "invalid_regexp", Value: "/(/", Detail: "error parsing regexp: missing closing ): `(`"}),
		at(FieldError{Kind: "unknown_lock_mode", Value: "always"}),
		at(FieldError{Kind: "unknown_dependency", Value: "db", Warning: true}),
		at(FieldError{Kind: "dir_required"}),
		at(FieldError{Kind: "dir_not_relative", Value: "/srv"}),
		at(FieldError{Kind: "dir_outside", Value: "../x"}),
		at(FieldError{Kind: "dir_control_char", Value: "a\nb"}),
		at(FieldError{Kind: "unknown_requirement", Value: "aproved", Allowed: []string{"approved", "mergeable"}}),
		at(FieldError{Kind: "policies_passed_kept"}),
		at(FieldError{Kind: "removal_not_allowed", Value: "approved"}),
		at(FieldError{Kind: "adds_and_removes", Name: "apply_requirements", Value: "approved", Other: "apply_requirements[0]"}),
		at(FieldError{Kind: "unknown_atlantis_requirement", Value: "aproved"}),
		at(FieldError{Kind: "requirement_left_out", Value: "mergeable"}),
		at(FieldError{Kind: "unknown_workflow", Value: "nope"}),
		at(FieldError{Kind: "workflow_choice_not_allowed", Value: "default"}),
		at(FieldError{Kind: "policy_check_not_allowed"}),
		at(FieldError{Kind: "regexp_selection_ignored", Warning: true}),
		at(FieldError{Kind: "unknown_plan_requirement", Value: "x"}),
		at(FieldError{Kind: "import_requirements_ignored", Warning: true}),
		at(FieldError{Kind: "destroy_order_ignored", Warning: true}),
		at(FieldError{Kind: "unknown_silence", Value: "x"}),
		at(FieldError{Kind: "custom_policy_check_ignored", Warning: true}),
		at(FieldError{Kind: "invalid_constraint", Value: "~~ 1"}),
		at(FieldError{Kind: "invalid_team", Value: "x"}),
		at(FieldError{Kind: "teams_required"}),
		at(FieldError{Kind: "count_too_small", Count: 0}),
		at(FieldError{Kind: "invalid_workflow_name", Value: "a b"}),
		at(FieldError{Kind: "command_empty"}),
		at(FieldError{Kind: "unknown_multienv_output", Value: "strip_refreshing"}),
		at(FieldError{Kind: "unknown_output", Value: "loud"}),
		at(FieldError{Kind: "env_name_required"}),
		at(FieldError{Kind: "invalid_env_name", Value: "1X"}),
		at(FieldError{Kind: "value_or_command"}),
		at(FieldError{Kind: "workflow_not_allowed", Value: "b", Allowed: []string{"a", "c"}}),
		at(FieldError{Kind: "invalid", Message: "dir \"../x\" is outside the repository"}),
		at(FieldError{Kind: "invalid", Warning: true, Message: "atoll runs projects in no order"}),
	}
}

// commandProblemSamples are a value of each command problem kind (those
// of runner/command's Kind).
func commandProblemSamples() []CommandProblem {
	usage := "atoll apply [-p PROJECT | -d DIR] [-w WORKSPACE]"
	return []CommandProblem{
		{Kind: "unknown_command", Word: "aply", Choices: []string{"plan", "apply", "help"}},
		{Kind: "unsupported", Command: "import"},
		{Kind: "unterminated_quote", Command: "plan", Value: "'"},
		{Kind: "unterminated_quote", Command: "plan", Value: `"`},
		{Kind: "extra_args_plan_only", Command: "apply"},
		{Kind: "unexpected_argument", Command: "apply", Word: "prod", Usage: usage},
		{Kind: "unknown_flag", Command: "apply", Flag: "-x", Usage: usage},
		{Kind: "flag_not_for_command", Command: "apply", Flag: "--clear", Usage: usage},
		{Kind: "flag_twice", Command: "apply", Flag: "-p"},
		{Kind: "flag_takes_no_value", Command: "apply", Flag: "--verbose"},
		{Kind: "flag_needs_value", Command: "apply", Flag: "-p"},
		{Kind: "flag_bad_value", Command: "apply", Flag: "-p", Value: "-w"},
		{Kind: "bad_merge_method", Command: "apply", Flag: "--auto-merge-method", Value: "fast", Choices: []string{"merge", "squash", "rebase"}},
		{Kind: "auto_merge_conflict", Command: "apply"},
		{Kind: "project_with_dir", Command: "apply"},
		{Kind: "dir_not_relative", Command: "plan", Flag: "-d", Value: "/etc"},
		{Kind: "dir_outside", Command: "plan", Flag: "-d", Value: "../.."},
		{Kind: "extra_arg_not_flag", Command: "plan", Word: "plan"},
		{Kind: "extra_arg_refused", Command: "plan", Flag: "-chdir"}, {Kind: "extra_arg_refused", Command: "plan", Flag: "-state"},
		{Kind: "extra_arg_refused", Command: "plan", Flag: "-new-flag"},
		{Kind: "extra_arg_unknown", Command: "plan", Flag: "-frobnicate", Choices: []string{"-destroy", "-target"}},
		{Kind: "extra_arg_want_bool", Command: "plan", Flag: "-refresh"}, {Kind: "extra_arg_needs_value", Command: "plan", Flag: "-target"},
		{Kind: "extra_arg_want_var", Command: "plan", Flag: "-var"}, {Kind: "extra_arg_absolute_file", Command: "plan", Flag: "-var-file"},
		{Kind: "extra_arg_want_positive_int", Command: "plan", Flag: "-parallelism"},
		{Kind: "extra_arg_want_duration", Command: "plan", Flag: "-lock-timeout"},
	}
}
