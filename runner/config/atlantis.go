package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/atollhq/atoll/runner/discovery"
)

// This file holds what atoll reads of Atlantis's atlantis.yaml beyond
// atoll.yaml's keys: its types, its meaning under version 3, and the
// warnings for the keys atoll does not act on.

// Atlantis holds top-level keys of Atlantis's atlantis.yaml, accepted in
// both files; those atoll does not act on are warnings when set.
type Atlantis struct {
	// DeleteSourceBranchOnMerge deletes the pull request's branch once
	// atoll's automerge merged it (a project's own setting wins for it).
	DeleteSourceBranchOnMerge *bool `yaml:"delete_source_branch_on_merge"`
	ParallelPlan              *bool `yaml:"parallel_plan"`
	ParallelApply             *bool `yaml:"parallel_apply"`
	// AbortOnExecutionOrderFail skips a command's later execution order
	// groups once a project of an earlier group failed.
	AbortOnExecutionOrderFail *bool    `yaml:"abort_on_execution_order_fail"`
	AllowedRegexpPrefixes     []string `yaml:"allowed_regexp_prefixes"`
}

// Autodiscover modes.
const (
	// AutodiscoverAuto (the default): projects are discovered only when
	// the file lists none.
	AutodiscoverAuto = "auto"
	// AutodiscoverEnabled: discovered projects are added to the listed
	// ones (a listed project wins for its dir).
	AutodiscoverEnabled = "enabled"
	// AutodiscoverDisabled: only the listed projects, even when there are
	// none.
	AutodiscoverDisabled = "disabled"
)

// Autodiscover is Atlantis's autodiscover setting.
type Autodiscover struct {
	// Mode is auto (default), enabled or disabled.
	Mode string `yaml:"mode"`
	// IgnorePaths are globs on directories never discovered as projects.
	IgnorePaths []string `yaml:"ignore_paths"`
}

// Lock modes of repo_locks.mode.
const (
	// LockOnPlan (the default) locks the project's dir and workspace when
	// it is planned.
	LockOnPlan = "on_plan"
	// LockOnApply locks it only when it is applied.
	LockOnApply = "on_apply"
	// LockDisabled never locks it.
	LockDisabled = "disabled"
)

// RepoLocks is Atlantis's repo_locks setting of a project.
type RepoLocks struct {
	// Mode is on_plan (default), on_apply or disabled.
	Mode string `yaml:"mode"`
}

// AtlantisProject holds project keys of Atlantis's atlantis.yaml; those
// atoll does not act on are warnings when set, or errors where ignoring
// them would loosen a safeguard.
type AtlantisProject struct {
	// PlanRequirements (approved, mergeable, undiverged) must hold before
	// the project is planned, by a comment or on a push.
	PlanRequirements   []string `yaml:"plan_requirements"`
	ImportRequirements []string `yaml:"import_requirements"`
	// ExecutionOrderGroup orders a command's projects: group by group,
	// the lowest first, in parallel within a group.
	ExecutionOrderGroup        int  `yaml:"execution_order_group"`
	DestroyExecutionOrderGroup *int `yaml:"destroy_execution_order_group"`
	// DependsOn names projects of the file that must be applied (when the
	// pull request changes them) before this one.
	DependsOn []string `yaml:"depends_on"`
	// SilencePRComments lists the commands (plan, apply) whose comment
	// atoll leaves out when every project of the command silences it;
	// check runs are set as always.
	SilencePRComments []string `yaml:"silence_pr_comments"`
	// DeleteSourceBranchOnMerge overrides the file's top-level setting.
	DeleteSourceBranchOnMerge *bool `yaml:"delete_source_branch_on_merge"`
	// RepoLocking is Atlantis's deprecated switch: false is
	// repo_locks.mode disabled when repo_locks is not set.
	RepoLocking       *bool `yaml:"repo_locking"`
	CustomPolicyCheck *bool `yaml:"custom_policy_check"`
}

// ParseAtlantis reads a repository's atlantis.yaml (or the file a repo
// rule's repo_config_file names) as Atlantis would: `version: 3` is
// required; apply_requirements is the full list (what it leaves out is
// removed, which needs allowed_overrides: [apply_requirements]);
// when_modified defaults to Atlantis's ["**/*.tf*", "**/terragrunt.hcl",
// "**/.terraform.lock.hcl"]; automerge: true on a server without automerge
// is a warning, not an error. Every atoll.yaml key is accepted too.
func ParseAtlantis(filename string, data []byte, srv Server) (Repo, error) {
	return parseRepo(filename, data, srv, true)
}

// AtlantisDialect reports whether the file was read with Atlantis's
// meaning of its keys (version 3).
func (r Repo) AtlantisDialect() bool { return r.Version == 3 }

// AtlantisWhenModified is Atlantis's default when_modified.
func AtlantisWhenModified() []string {
	return []string{"**/*.tf*", "**/terragrunt.hcl", "**/.terraform.lock.hcl"}
}

// checkAtlantisRequirements checks an Atlantis-style requirement list: the
// whole set, no "!" entries; what it leaves out of the server's must be
// removable (repo_may_relax, or repo_rules allowed_overrides).
func checkAtlantisRequirements(c checker, key string, list []string, srv Server) {
	for i, e := range list {
		if !knownRequirement(Requirement(e)) || strings.HasPrefix(e, "!") {
			c.report(index(key, i), FieldError{Kind: KindUnknownAtlantisRequirement, Value: e, Message: fmt.Sprintf("unknown requirement %q: use approved, mergeable or undiverged (version 3 lists every requirement the project keeps)", e)})
		}
	}
	if !c.src.set(key) {
		return
	}
	for _, r := range srv.ApplyRequirements {
		if r != PoliciesPassed && !slices.Contains(list, string(r)) && !slices.Contains(srv.RepoMayRelax, r) {
			c.report(key, FieldError{Kind: KindRequirementLeftOut, Value: string(r), Message: fmt.Sprintf("leaving out %q would loosen what the server fixes: this repository may not remove it (repo_rules allowed_overrides lacks apply_requirements, and repo_may_relax lacks %q)", r, r)})
		}
	}
}

// atlantisRequirementEntries turns an Atlantis-style full list into atoll's
// add and remove entries against the server's requirements.
func atlantisRequirementEntries(list []string, srv Server) []string {
	var out []string
	for _, r := range Requirements {
		switch {
		case r == PoliciesPassed:
		case slices.Contains(list, string(r)):
			out = append(out, string(r))
		case slices.Contains(srv.ApplyRequirements, r):
			out = append(out, "!"+string(r))
		}
	}
	return out
}

func (r *Repo) checkWorkflowChoice(c checker, key, name string, srv Server, rs RepoSettings) {
	var own map[string]Workflow
	if rs.AllowCustomWorkflows {
		own = r.Workflows
	}
	_, custom := own[name]
	switch {
	case func() bool { _, ok := LookupWorkflow(name, own, srv.Workflows); return !ok }():
		c.report(key, FieldError{Kind: KindUnknownWorkflow, Value: name, Message: fmt.Sprintf("no workflow %q: neither the server's workflows nor the file's define it", name)})
	case name == rs.Workflow:
	case !custom && !rs.MayOverride(OverrideWorkflow) && !rs.AllowCustomWorkflows:
		c.report(key, FieldError{Kind: KindWorkflowChoiceNotAllowed, Value: rs.Workflow, Message: fmt.Sprintf("this server does not let repositories pick a workflow (its repo_rules do not list workflow in allowed_overrides); projects run %q", rs.Workflow)})
	case !custom && !rs.WorkflowAllowed(name):
		c.report(key, FieldError{Kind: KindWorkflowNotAllowed, Value: name, Allowed: strings.Join(rs.AllowedWorkflows, ", "), Message: fmt.Sprintf("workflow %q is not in the server's allowed_workflows for this repository (%s)", name, strings.Join(rs.AllowedWorkflows, ", "))})
	}
}

func checkPolicyCheck(c checker, key string, v *bool, rs RepoSettings) {
	if v != nil && !*v && !rs.MayOverride(OverridePolicyCheck) {
		c.report(key, FieldError{Kind: KindPolicyCheckNotAllowed, Message: "this server does not let repositories turn policy checks off (its repo_rules do not list policy_check in allowed_overrides)"})
	}
}

// checkWhenModified checks globs that may start with "!" (an exclusion).
func checkWhenModified(c checker, key string, globs []string) {
	for i, g := range globs {
		if err := discovery.ValidGlob(strings.TrimPrefix(g, "!")); err != nil {
			c.badGlob(index(key, i), err)
		}
	}
}

// check warns about top-level Atlantis keys atoll does not act on.
func (a Atlantis) check(c checker) {
	if len(a.AllowedRegexpPrefixes) > 0 {
		c.warn("allowed_regexp_prefixes", FieldError{Kind: KindRegexpSelectionIgnored, Message: "atoll has no regular-expression project selection: -p takes a project name"})
	}
}

// check warns about (or refuses) project keys atoll does not act on.
func (a AtlantisProject) check(c checker, key string) {
	for i, e := range a.PlanRequirements {
		if e != string(Approved) && e != string(Mergeable) && e != string(Undiverged) {
			c.report(index(join(key, "plan_requirements"), i), FieldError{Kind: KindUnknownPlanRequirement, Value: e, Message: fmt.Sprintf("unknown plan requirement %q: use approved, mergeable or undiverged", e)})
		}
	}
	if len(a.ImportRequirements) > 0 {
		c.warn(join(key, "import_requirements"), FieldError{Kind: KindImportRequirementsIgnored, Message: "atoll has no import command, so these requirements never apply"})
	}
	if a.DestroyExecutionOrderGroup != nil {
		c.warn(join(key, "destroy_execution_order_group"), FieldError{Kind: KindDestroyOrderIgnored, Message: "atoll orders destroy plans by execution_order_group like any other"})
	}
	for i, s := range a.SilencePRComments {
		if s != "plan" && s != "apply" {
			c.report(index(join(key, "silence_pr_comments"), i), FieldError{Kind: KindUnknownSilence, Value: s, Message: fmt.Sprintf("unknown value %q: use plan or apply", s)})
		}
	}
	if a.CustomPolicyCheck != nil && *a.CustomPolicyCheck {
		c.warn(join(key, "custom_policy_check"), FieldError{Kind: KindCustomPolicyCheckIgnored, Message: "atoll decides policies with its own policy sets (OPA, atoll or conftest format); the output of run steps in the policy_check stage does not pass or fail them"})
	}
}

// ForBranch returns the repository configuration for pull requests into
// base: projects whose branch regex does not match are left out (an empty
// base keeps every project).
func (r Repo) ForBranch(base string) Repo {
	if base == "" {
		return r
	}
	var keep []Project
	for _, p := range r.Projects {
		if expr, ok := slashRegexp(p.Branch); ok {
			if re, err := regexp.Compile(expr); err != nil || !re.MatchString(base) {
				continue
			}
		}
		keep = append(keep, p)
	}
	if len(keep) != len(r.Projects) {
		r.Projects = keep
	}
	return r
}

// LockMode is the project's repo_locks.mode with Atlantis's defaults: the
// deprecated repo_locking: false counts as disabled when repo_locks is not
// set; empty is on_plan.
func (p Project) LockMode() string {
	switch {
	case p.RepoLocks.Mode != "":
		return p.RepoLocks.Mode
	case p.RepoLocking != nil && !*p.RepoLocking:
		return LockDisabled
	}
	return LockOnPlan
}
