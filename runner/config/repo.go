package config

import (
	"fmt"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/atollhq/atoll/runner/discovery"
)

// RepoFile is the name of the repository configuration, at the root of the
// default branch (or of the pull request's checkout).
const RepoFile = "atoll.yaml"

// Repo is a repository's atoll.yaml. The zero Repo stands for a repository
// without one: every helper then gives the server's settings.
type Repo struct {
	// Version is 1 (the default when absent; any other is an error).
	Version int `yaml:"version"`
	// Projects, when set, are the repository's only projects; otherwise
	// every Terraform directory is one (see package discovery).
	Projects []Project `yaml:"projects"`
	// ApplyMode overrides the server's; empty: the server's.
	ApplyMode ApplyMode `yaml:"apply_mode"`
	// ApplyRequirements change the server's default requirements for every
	// project (see Project.ApplyRequirements); ParseRepo folds them into
	// each project.
	ApplyRequirements []string `yaml:"apply_requirements"`
	// RequiredReviewers add to the server's for every project (paths
	// relative to the repository root); ParseRepo folds them into each
	// project.
	RequiredReviewers []ReviewerRule `yaml:"required_reviewers"`
	// Automerge, when set, turns the server's automerge off (false) or
	// confirms it (true, only valid when the server enables it).
	Automerge *bool `yaml:"automerge"`
	// SummaryOnly keeps plan text out of comments for this repository
	// (it can only add to the server's summary_only).
	SummaryOnly bool `yaml:"summary_only"`
	// Ignore are globs on repository paths that never trigger a plan.
	Ignore []string `yaml:"ignore"`
	// Drift overrides the server's drift detection, only when the server
	// sets drift.repo_override.
	Drift RepoDrift `yaml:"drift"`
	// Workflows are the repository's own workflows, allowed only where the
	// server's repo_rules set allow_custom_workflows (see Workflow).
	Workflows map[string]Workflow `yaml:"workflows"`
	// PolicyCheck false turns policy checks off for every project, only
	// where repo_rules list policy_check in allowed_overrides.
	PolicyCheck *bool `yaml:"policy_check"`
	// Autodiscover says when atoll looks for projects itself (see
	// Autodiscover).
	Autodiscover Autodiscover `yaml:"autodiscover"`
	Atlantis     `yaml:",inline"`

	// Warnings are the keys atoll read but does not honour, each saying
	// what atoll does instead. ParseRepo fills it.
	Warnings []FieldError `yaml:"-"`
}

// Atlantis holds the top-level keys of Atlantis's atlantis.yaml that atoll
// accepts in both files but does not act on; each one set is a warning.
type Atlantis struct {
	DeleteSourceBranchOnMerge *bool    `yaml:"delete_source_branch_on_merge"`
	ParallelPlan              *bool    `yaml:"parallel_plan"`
	ParallelApply             *bool    `yaml:"parallel_apply"`
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

// RepoDrift is a repository's drift detection override.
type RepoDrift struct {
	// Enabled turns drift detection on or off for the repository; nil: the
	// server's.
	Enabled *bool `yaml:"enabled"`
	// Schedule is a cron expression (see ParseSchedule); empty: the server's.
	Schedule string `yaml:"schedule"`
}

// Project is one project of atoll.yaml. After ParseRepo, Dir is clean, and
// Name, Workspace and Autoplan hold their defaults.
type Project struct {
	// Name identifies the project in commands (-p) and checks; default
	// discovery.DefaultName(Dir, Workspace). Unique.
	Name string `yaml:"name"`
	// Dir is the root module's directory relative to the repository root
	// ("." is the root). Required.
	Dir string `yaml:"dir"`
	// Workspace is the Terraform workspace (default "default"). Dir plus
	// Workspace is unique.
	Workspace string `yaml:"workspace"`
	// TerraformVersion is a version constraint overriding the server's.
	TerraformVersion string `yaml:"terraform_version"`
	// Distribution is terraform or opentofu; empty: the server's.
	Distribution string `yaml:"distribution"`
	// Autoplan says when the project is planned by itself.
	Autoplan Autoplan `yaml:"autoplan"`
	// VarFiles are -var-file arguments, relative to Dir.
	VarFiles []string `yaml:"var_files"`
	// ApplyRequirements change the server's defaults: "mergeable" adds a
	// requirement, "!approved" removes one, which the server must allow
	// (repo_may_relax). After ParseRepo it holds the repository-level
	// entries first, then the project's: later entries win.
	ApplyRequirements []string `yaml:"apply_requirements"`
	// AutoRemediate applies the drift plan of this project without a
	// comment, once its apply requirements hold.
	AutoRemediate bool `yaml:"auto_remediate"`
	// RequiredReviewers add to the server's and the repository's. Paths are
	// written relative to Dir; after ParseRepo they are relative to the
	// repository root and the list starts with the repository-level rules.
	// A rule without paths applies to every apply of the project.
	RequiredReviewers []ReviewerRule `yaml:"required_reviewers"`
	// Branch, a /regex/ on the pull request's base branch, limits the
	// project to pull requests into matching branches; empty: all. See
	// Repo.ForBranch.
	Branch string `yaml:"branch"`
	// Workflow names the project's workflow (see LookupWorkflow); empty:
	// the repo rules' (default "default").
	Workflow string `yaml:"workflow"`
	// PolicyCheck false turns policy checks off for the project, only where
	// repo_rules list policy_check in allowed_overrides.
	PolicyCheck *bool `yaml:"policy_check"`
	// TerraformDistribution is Atlantis's name for Distribution; ParseRepo
	// moves it there.
	TerraformDistribution string `yaml:"terraform_distribution"`
	// RepoLocks.Mode is when the project is locked: on_plan (atoll's
	// behaviour, the default); on_apply and disabled are warnings.
	RepoLocks       RepoLocks `yaml:"repo_locks"`
	AtlantisProject `yaml:",inline"`
}

// RepoLocks is Atlantis's repo_locks setting of a project.
type RepoLocks struct {
	Mode string `yaml:"mode"`
}

// AtlantisProject holds the project keys of Atlantis's atlantis.yaml that
// atoll accepts but does not act on (or only partly); each one set is a
// warning, or an error where ignoring it would loosen a safeguard.
type AtlantisProject struct {
	PlanRequirements           []string `yaml:"plan_requirements"`
	ImportRequirements         []string `yaml:"import_requirements"`
	ExecutionOrderGroup        int      `yaml:"execution_order_group"`
	DestroyExecutionOrderGroup *int     `yaml:"destroy_execution_order_group"`
	DependsOn                  []string `yaml:"depends_on"`
	SilencePRComments          []string `yaml:"silence_pr_comments"`
	DeleteSourceBranchOnMerge  *bool    `yaml:"delete_source_branch_on_merge"`
	RepoLocking                *bool    `yaml:"repo_locking"`
	CustomPolicyCheck          *bool    `yaml:"custom_policy_check"`
}

// Autoplan says when a project is planned without a command.
type Autoplan struct {
	// Enabled plans the project when its files change (default true).
	Enabled bool `yaml:"enabled"`
	// WhenModified are globs relative to Dir (may start with "../"); default
	// discovery.DefaultWhenModified(). Changes to local modules the project
	// calls always count.
	WhenModified []string `yaml:"when_modified"`
}

// ParseRepo reads an atoll.yaml (filename is used in messages) and checks it
// against the server configuration: a repository may add requirements and
// reviewers but may only remove what the server's repo_may_relax lists,
// may only confirm automerge when the server enables it, and may only touch
// drift detection when the server's drift.repo_override allows. Every
// problem is reported in a *ValidationError (with the warnings, their
// messages starting "warning: "). Pass srv.ForRepo(repo, branch)
// so that the server's repo_rules apply.
//
// A file with `version: 3` is read with Atlantis's meaning of its keys (see
// ParseAtlantis); without a version, or with `version: 1`, with atoll's.
// Keys atoll reads but does not act on are listed in Repo.Warnings.
func ParseRepo(filename string, data []byte, srv Server) (Repo, error) {
	return parseRepo(filename, data, srv, false)
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

func parseRepo(filename string, data []byte, srv Server, atlantisFile bool) (Repo, error) {
	errs, warns := &errList{}, &errList{}
	src := sources{}
	var r Repo
	root := parseYAML(filename, data, errs)
	if root != nil {
		src[""] = origin{filename, root.Line, root.Column}
		d := &decoder{file: filename, errs: errs, src: src}
		d.decode(root, reflect.ValueOf(&r).Elem(), "")
	} else if len(errs.errs) == 0 {
		src[""] = origin{file: filename}
	}
	if len(errs.errs) == 0 || root != nil {
		r.check(checker{src: src, errs: errs, warns: warns}, srv, atlantisFile)
	}
	if len(errs.errs) > 0 {
		// The warnings go with the errors, so that one reading lists
		// every key atoll does not act on.
		for _, w := range warns.errs {
			w.Message = "warning: " + w.Message
			errs.add(w)
		}
		return Repo{}, errs.err()
	}
	r.fill(src, srv)
	if w, ok := warns.err().(*ValidationError); ok {
		r.Warnings = w.Errors
	}
	return r, nil
}

// AtlantisDialect reports whether the file was read with Atlantis's
// meaning of its keys (version 3).
func (r Repo) AtlantisDialect() bool { return r.Version == 3 }

// AtlantisWhenModified is Atlantis's default when_modified.
func AtlantisWhenModified() []string {
	return []string{"**/*.tf*", "**/terragrunt.hcl", "**/.terraform.lock.hcl"}
}

var projectNameRE = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_./:@+-]*$`)

func (r *Repo) check(c checker, srv Server, atlantisFile bool) {
	rs := srv.RepoSettings("", "")
	switch {
	case atlantisFile && !c.src.set("version"):
		c.errorf("version", "required: write version: 3, as Atlantis requires")
	case atlantisFile && r.Version != 3:
		c.errorf("version", "unsupported version %d: atoll reads version 3 of atlantis.yaml", r.Version)
	case c.src.set("version") && r.Version != 1 && r.Version != 3:
		c.errorf("version", "unsupported version %d: use 1 (atoll's meaning of the keys) or 3 (Atlantis's)", r.Version)
	}
	v3 := r.Version == 3
	if r.ApplyMode != "" {
		switch r.ApplyMode {
		case ApplyComment, ApplyAfterMerge, ApplyBoth:
		default:
			c.errorf("apply_mode", "unknown apply mode %q: use comment, after_merge or both", r.ApplyMode)
		}
	}
	if r.Automerge != nil && *r.Automerge && !srv.Automerge.Enabled {
		if v3 {
			c.warnf("automerge", "automerge is not enabled on this server (automerge.enabled): atoll leaves the pull request open once applied")
		} else {
			c.errorf("automerge", "automerge is not enabled on this server (automerge.enabled): a repository may only turn it off")
		}
	}
	checkGlobs(c, "ignore", r.Ignore)
	if c.src.set("drift") {
		if !srv.Drift.RepoOverride {
			c.errorf("drift", "this server does not let repositories change drift detection (drift.repo_override is false)")
		} else if r.Drift.Schedule != "" {
			if _, err := ParseSchedule(r.Drift.Schedule); err != nil {
				c.errorf("drift.schedule", "%v", err)
			}
		}
	}
	if v3 {
		checkAtlantisRequirements(c, "apply_requirements", r.ApplyRequirements, srv)
	} else {
		checkRequirementList(c, "apply_requirements", r.ApplyRequirements, srv)
	}
	fillReviewerDefaults(r.RequiredReviewers, "required_reviewers", c.src)
	checkReviewerRules(c, "required_reviewers", r.RequiredReviewers)
	if c.src.set("workflows") {
		if !rs.AllowCustomWorkflows {
			c.errorf("workflows", "this server does not let repositories define workflows (its repo_rules do not set allow_custom_workflows): pick a server workflow with a project's workflow key")
		} else {
			checkWorkflows(c, "workflows", r.Workflows)
		}
	}
	checkPolicyCheck(c, "policy_check", r.PolicyCheck, rs)
	if c.src.set("autodiscover.mode") {
		oneOf(c, "autodiscover.mode", r.Autodiscover.Mode, AutodiscoverAuto, AutodiscoverEnabled, AutodiscoverDisabled)
	}
	checkGlobs(c, "autodiscover.ignore_paths", r.Autodiscover.IgnorePaths)
	r.Atlantis.check(c)

	names := map[string]int{}
	pairs := map[[2]string]int{}
	for i := range r.Projects {
		p := &r.Projects[i]
		key := index("projects", i)
		dir, ok := checkDir(c, join(key, "dir"), p.Dir)
		ws := p.Workspace
		if !c.src.set(join(key, "workspace")) {
			ws = discovery.DefaultWorkspace
		} else if ws == "" || url.PathEscape(ws) != ws {
			c.errorf(join(key, "workspace"), "invalid workspace name %q: use letters, digits, '-', '_' and '.'", ws)
		}
		name := p.Name
		if c.src.set(join(key, "name")) {
			if !projectNameRE.MatchString(name) {
				c.errorf(join(key, "name"), "invalid project name %q: use letters, digits and . _ - / : @ +, not starting with '-'", name)
			}
		} else if ok {
			name = discovery.DefaultName(dir, ws)
		}
		if name != "" {
			if j, dup := names[name]; dup {
				c.errorf(join(key, "name"), "project name %q is already used by projects[%d]", name, j)
			} else {
				names[name] = i
			}
		}
		if ok {
			k := [2]string{dir, ws}
			if j, dup := pairs[k]; dup {
				c.errorf(key, "dir %q with workspace %q is already projects[%d]: atoll keeps one state, lock and plan per dir and workspace, so give one of them another workspace", dir, ws, j)
			} else {
				pairs[k] = i
			}
		}
		checkConstraint(c, join(key, "terraform_version"), p.TerraformVersion)
		if p.TerraformDistribution != "" {
			if p.Distribution != "" && p.Distribution != p.TerraformDistribution {
				c.errorf(join(key, "terraform_distribution"), "distribution %q and terraform_distribution %q disagree: keep one", p.Distribution, p.TerraformDistribution)
			}
			oneOf(c, join(key, "terraform_distribution"), p.TerraformDistribution, DistributionTerraform, DistributionOpenTofu)
		}
		if p.Distribution != "" {
			oneOf(c, join(key, "distribution"), p.Distribution, DistributionTerraform, DistributionOpenTofu)
		}
		checkWhenModified(c, join(key, "autoplan.when_modified"), p.Autoplan.WhenModified)
		for j, f := range p.VarFiles {
			fk := index(join(key, "var_files"), j)
			if f == "" || path.IsAbs(f) || strings.Contains(f, `\`) {
				c.errorf(fk, "invalid var file %q: give a path relative to the project dir", f)
			} else if ok && escapes(path.Join(dir, f)) {
				c.errorf(fk, "var file %q is outside the repository", f)
			}
		}
		if v3 {
			checkAtlantisRequirements(c, join(key, "apply_requirements"), p.ApplyRequirements, srv)
		} else {
			checkRequirementList(c, join(key, "apply_requirements"), p.ApplyRequirements, srv)
		}
		fillReviewerDefaults(p.RequiredReviewers, join(key, "required_reviewers"), c.src)
		checkReviewerRules(c, join(key, "required_reviewers"), p.RequiredReviewers)
		if p.Branch != "" {
			if expr, isRE := slashRegexp(p.Branch); !isRE {
				c.errorf(join(key, "branch"), "write the regular expression between slashes: /%s/", p.Branch)
			} else if _, err := regexp.Compile(expr); err != nil {
				c.errorf(join(key, "branch"), "invalid regular expression: %v", err)
			}
		}
		if p.Workflow != "" {
			r.checkWorkflowChoice(c, join(key, "workflow"), p.Workflow, srv, rs)
		}
		checkPolicyCheck(c, join(key, "policy_check"), p.PolicyCheck, rs)
		switch p.RepoLocks.Mode {
		case "", "on_plan":
		case "on_apply", "disabled":
			c.warnf(join(key, "repo_locks.mode"), "atoll always locks a project's dir and workspace when it plans (on_plan), so that no two pull requests plan and apply over each other")
		default:
			c.errorf(join(key, "repo_locks.mode"), "unknown value %q: use on_plan, on_apply or disabled", p.RepoLocks.Mode)
		}
		p.AtlantisProject.check(c, key)
	}
}

// checkAtlantisRequirements checks an Atlantis-style requirement list: the
// whole set, no "!" entries; what it leaves out of the server's must be
// removable (repo_may_relax, or repo_rules allowed_overrides).
func checkAtlantisRequirements(c checker, key string, list []string, srv Server) {
	for i, e := range list {
		if !knownRequirement(Requirement(e)) || strings.HasPrefix(e, "!") {
			c.errorf(index(key, i), "unknown requirement %q: use approved, mergeable or undiverged (version 3 lists every requirement the project keeps)", e)
		}
	}
	if !c.src.set(key) {
		return
	}
	for _, r := range srv.ApplyRequirements {
		if r != PoliciesPassed && !slices.Contains(list, string(r)) && !slices.Contains(srv.RepoMayRelax, r) {
			c.errorf(key, "leaving out %q would loosen what the server fixes: this repository may not remove it (repo_rules allowed_overrides lacks apply_requirements, and repo_may_relax lacks %q)", r, r)
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
		c.errorf(key, "no workflow %q: neither the server's workflows nor the file's define it", name)
	case name == rs.Workflow:
	case !custom && !rs.MayOverride(OverrideWorkflow) && !rs.AllowCustomWorkflows:
		c.errorf(key, "this server does not let repositories pick a workflow (its repo_rules do not list workflow in allowed_overrides); projects run %q", rs.Workflow)
	case !custom && !rs.WorkflowAllowed(name):
		c.errorf(key, "workflow %q is not in the server's allowed_workflows for this repository (%s)", name, strings.Join(rs.AllowedWorkflows, ", "))
	}
}

func checkPolicyCheck(c checker, key string, v *bool, rs RepoSettings) {
	if v != nil && !*v && !rs.MayOverride(OverridePolicyCheck) {
		c.errorf(key, "this server does not let repositories turn policy checks off (its repo_rules do not list policy_check in allowed_overrides)")
	}
}

// checkWhenModified checks globs that may start with "!" (an exclusion).
func checkWhenModified(c checker, key string, globs []string) {
	for i, g := range globs {
		if err := discovery.ValidGlob(strings.TrimPrefix(g, "!")); err != nil {
			c.errorf(index(key, i), "%v", err)
		}
	}
}

// check warns about top-level Atlantis keys atoll does not act on.
func (a Atlantis) check(c checker) {
	if a.DeleteSourceBranchOnMerge != nil && *a.DeleteSourceBranchOnMerge {
		c.warnf("delete_source_branch_on_merge", "atoll does not delete branches: the source branch is kept after the merge")
	}
	if a.ParallelPlan != nil && !*a.ParallelPlan {
		c.warnf("parallel_plan", "atoll plans a pull request's projects at once, up to the server's workers")
	}
	if a.ParallelApply != nil && !*a.ParallelApply {
		c.warnf("parallel_apply", "atoll applies a pull request's projects at once, up to the server's workers")
	}
	if a.AbortOnExecutionOrderFail != nil && *a.AbortOnExecutionOrderFail {
		c.warnf("abort_on_execution_order_fail", "atoll runs projects without execution order groups, so a failure stops no other project")
	}
	if len(a.AllowedRegexpPrefixes) > 0 {
		c.warnf("allowed_regexp_prefixes", "atoll has no regular-expression project selection: -p takes a project name")
	}
}

// check warns about (or refuses) project keys atoll does not act on.
func (a AtlantisProject) check(c checker, key string) {
	if len(a.PlanRequirements) > 0 {
		c.errorf(join(key, "plan_requirements"), "atoll has no plan requirements, so it would plan without them: remove the key, and limit who may plan with the server's permissions.plan")
	}
	if len(a.ImportRequirements) > 0 {
		c.warnf(join(key, "import_requirements"), "atoll has no import command, so these requirements never apply")
	}
	if a.ExecutionOrderGroup != 0 {
		c.warnf(join(key, "execution_order_group"), "atoll plans and applies a pull request's projects at once, in no order: apply one group after another with atoll apply -p")
	}
	if a.DestroyExecutionOrderGroup != nil {
		c.warnf(join(key, "destroy_execution_order_group"), "atoll runs destroy plans in no order: apply one project after another with atoll apply -p")
	}
	if len(a.DependsOn) > 0 {
		c.warnf(join(key, "depends_on"), "atoll does not check that the projects this one depends on were applied first: apply them first with atoll apply -p")
	}
	for i, s := range a.SilencePRComments {
		if s != "plan" && s != "apply" {
			c.errorf(index(join(key, "silence_pr_comments"), i), "unknown value %q: use plan or apply", s)
		}
	}
	if len(a.SilencePRComments) > 0 {
		c.warnf(join(key, "silence_pr_comments"), "atoll always comments on the pull request; checks are set as well")
	}
	if a.DeleteSourceBranchOnMerge != nil && *a.DeleteSourceBranchOnMerge {
		c.warnf(join(key, "delete_source_branch_on_merge"), "atoll does not delete branches: the source branch is kept after the merge")
	}
	if a.RepoLocking != nil && !*a.RepoLocking {
		c.warnf(join(key, "repo_locking"), "atoll always locks a project's dir and workspace when it plans")
	}
	if a.CustomPolicyCheck != nil && *a.CustomPolicyCheck {
		c.warnf(join(key, "custom_policy_check"), "atoll decides policies with its own policy sets (OPA, atoll or conftest format); the output of run steps in the policy_check stage does not pass or fail them")
	}
}

// checkDir validates a project dir and returns it cleaned.
func checkDir(c checker, key, dir string) (string, bool) {
	switch {
	case dir == "":
		c.errorf(key, "required: the project's directory relative to the repository root (\".\" for the root)")
	case path.IsAbs(dir) || strings.Contains(dir, `\`) || (len(dir) > 1 && dir[1] == ':'):
		c.errorf(key, "dir %q must be relative to the repository root, with forward slashes", dir)
	case escapes(path.Clean(dir)):
		c.errorf(key, "dir %q is outside the repository", dir)
	default:
		return path.Clean(dir), true
	}
	return "", false
}

func escapes(p string) bool { return p == ".." || strings.HasPrefix(p, "../") }

// checkRequirementList checks entries "name" (add) and "!name" (remove).
func checkRequirementList(c checker, key string, list []string, srv Server) {
	seen := map[string]int{}
	for i, e := range list {
		k := index(key, i)
		remove := strings.HasPrefix(e, "!")
		r := Requirement(strings.TrimPrefix(e, "!"))
		switch {
		case !knownRequirement(r):
			c.errorf(k, "unknown requirement %q: use %s (prefix one with ! to remove it)", e, requirementNames())
			continue
		case remove && r == PoliciesPassed:
			c.errorf(k, "policies_passed can never be removed: failing policies are approved by their owners instead")
		case remove && !slices.Contains(srv.RepoMayRelax, r):
			c.errorf(k, "removing %q would loosen what the server config fixes (its repo_may_relax does not list %q)", r, r)
		}
		if j, ok := seen[string(r)]; ok && strings.HasPrefix(list[j], "!") != remove {
			c.errorf(k, "%q both adds and removes %q (see %s)", key, r, index(key, j))
		}
		seen[string(r)] = i
	}
}

// fill sets the defaults of a checked Repo and folds the repository-level
// requirements and reviewers into each project.
func (r *Repo) fill(src sources, srv Server) {
	v3 := r.AtlantisDialect()
	if v3 && src.set("apply_requirements") {
		r.ApplyRequirements = atlantisRequirementEntries(r.ApplyRequirements, srv)
	}
	if r.Autodiscover.Mode == "" {
		r.Autodiscover.Mode = AutodiscoverAuto
	}
	for i := range r.Projects {
		p := &r.Projects[i]
		key := index("projects", i)
		p.Dir = path.Clean(p.Dir)
		if !src.set(join(key, "workspace")) {
			p.Workspace = discovery.DefaultWorkspace
		}
		if !src.set(join(key, "name")) {
			p.Name = discovery.DefaultName(p.Dir, p.Workspace)
		}
		if !src.set(join(key, "autoplan.enabled")) {
			p.Autoplan.Enabled = true
		}
		if p.Distribution == "" {
			p.Distribution = p.TerraformDistribution
		}
		if len(p.Autoplan.WhenModified) == 0 {
			if v3 {
				p.Autoplan.WhenModified = AtlantisWhenModified()
			} else {
				p.Autoplan.WhenModified = discovery.DefaultWhenModified()
			}
		}
		if v3 && src.set(join(key, "apply_requirements")) {
			p.ApplyRequirements = atlantisRequirementEntries(p.ApplyRequirements, srv)
		}
		r.inherit(p)
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

// inherit puts the repository-level lists in front of a project's own and
// makes its reviewer paths repository-relative.
func (r Repo) inherit(p *Project) {
	p.ApplyRequirements = append(slices.Clone(r.ApplyRequirements), p.ApplyRequirements...)
	rules := slices.Clone(r.RequiredReviewers)
	for _, rule := range p.RequiredReviewers {
		paths := make([]string, len(rule.Paths))
		for i, g := range rule.Paths {
			paths[i] = path.Join(p.Dir, strings.TrimPrefix(g, "/"))
		}
		rule.Paths = paths
		rules = append(rules, rule)
	}
	p.RequiredReviewers = rules
}

// Project returns the configured project named name.
func (r Repo) Project(name string) (Project, bool) {
	for _, p := range r.Projects {
		if p.Name == name {
			return p, true
		}
	}
	return Project{}, false
}

// DefaultProject returns the settings of a project atoll discovered by
// itself in dir (when atoll.yaml lists no projects): the default workspace,
// autoplan on, and the repository-level requirements and reviewers.
func (r Repo) DefaultProject(dir string) Project {
	p := Project{Name: dir, Dir: dir, Workspace: discovery.DefaultWorkspace,
		Autoplan: Autoplan{Enabled: true, WhenModified: discovery.DefaultWhenModified()}}
	r.inherit(&p)
	return p
}

// DiscoveryOptions returns the discovery options atoll.yaml implies: its
// ignore globs and, when it lists projects, those projects.
func (r Repo) DiscoveryOptions() discovery.Options {
	o := discovery.Options{Ignore: r.Ignore}
	for _, p := range r.Projects {
		o.Configured = append(o.Configured, discovery.ConfiguredProject{
			Name: p.Name, Dir: p.Dir, Workspace: p.Workspace,
			WhenModified: p.Autoplan.WhenModified, AutoplanDisabled: !p.Autoplan.Enabled,
		})
	}
	return o
}

// EffectiveApplyRequirements returns the requirements an apply of the
// project must meet: the server's defaults, plus the project's additions,
// minus the removals the server allows (repo_may_relax), always with
// policies_passed; in the order of Requirements.
func (p Project) EffectiveApplyRequirements(srv Server) []Requirement {
	set := map[Requirement]bool{PoliciesPassed: true}
	for _, r := range srv.ApplyRequirements {
		set[r] = true
	}
	for _, e := range p.ApplyRequirements {
		r := Requirement(strings.TrimPrefix(e, "!"))
		switch {
		case !strings.HasPrefix(e, "!"):
			set[r] = true
		case r != PoliciesPassed && slices.Contains(srv.RepoMayRelax, r):
			delete(set, r)
		}
	}
	var out []Requirement
	for _, r := range Requirements {
		if set[r] {
			out = append(out, r)
		}
	}
	return out
}

// EffectiveRequiredReviewers returns the server's reviewer rules followed by
// the project's (which include the repository's); all paths are relative to
// the repository root.
func (p Project) EffectiveRequiredReviewers(srv Server) []ReviewerRule {
	return append(slices.Clone(srv.RequiredReviewers), p.RequiredReviewers...)
}

// EffectiveDistribution returns the project's distribution, else the
// server's.
func (p Project) EffectiveDistribution(srv Server) string {
	if p.Distribution != "" {
		return p.Distribution
	}
	return srv.Terraform.Distribution
}

// EffectiveTerraformVersion returns the project's version constraint, else
// the server's (both may be empty: the project's required_version decides).
func (p Project) EffectiveTerraformVersion(srv Server) string {
	if p.TerraformVersion != "" {
		return p.TerraformVersion
	}
	return srv.Terraform.Version
}

// EffectiveApplyMode returns the repository's apply mode, else the server's.
func (r Repo) EffectiveApplyMode(srv Server) ApplyMode {
	if r.ApplyMode != "" {
		return r.ApplyMode
	}
	return srv.ApplyMode
}

// AutomergeEnabled reports whether pull requests of the repository are
// merged once applied: the server enables it and the repository did not
// turn it off.
func (r Repo) AutomergeEnabled(srv Server) bool {
	if !srv.Automerge.Enabled {
		return false
	}
	return r.Automerge == nil || *r.Automerge
}

// SummaryOnlyEnabled reports whether plan text stays out of comments.
func (r Repo) SummaryOnlyEnabled(srv Server) bool { return srv.SummaryOnly || r.SummaryOnly }

// DriftSchedule returns the repository's drift schedule and whether drift
// detection runs for it: the server's, unless the server allows overrides
// (drift.repo_override) and atoll.yaml sets its own.
func (r Repo) DriftSchedule(srv Server) (schedule string, enabled bool) {
	schedule, enabled = srv.Drift.Schedule, srv.Drift.Enabled
	if !srv.Drift.RepoOverride {
		return schedule, enabled
	}
	if r.Drift.Schedule != "" {
		schedule = r.Drift.Schedule
	}
	if r.Drift.Enabled != nil {
		enabled = *r.Drift.Enabled
	}
	return schedule, enabled && schedule != ""
}

// String describes a project for logs: "NAME (dir DIR, workspace WS)".
func (p Project) String() string {
	return fmt.Sprintf("%s (dir %s, workspace %s)", p.Name, p.Dir, p.Workspace)
}
