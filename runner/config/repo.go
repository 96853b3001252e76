package config

import (
	"fmt"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode"

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

// RepoDrift is a repository's drift detection override.
type RepoDrift struct {
	// Enabled turns drift detection on or off for the repository; nil: the
	// server's.
	Enabled *bool `yaml:"enabled"`
	// Schedule is a cron expression (see ParseSchedule); empty: the server's.
	Schedule string `yaml:"schedule"`
}

// ProjectCore is what a project is and how it runs, as atoll.yaml says
// it: the part of Project that a job, plan or pull request record keeps
// as it is (records.Project embeds it, and its json names are the
// records' own, so stored records stay readable).
type ProjectCore struct {
	// Name identifies the project in commands (-p) and checks; default
	// discovery.DefaultName(Dir, Workspace). Unique.
	Name string `yaml:"name" json:"name"`
	// Dir is the root module's directory relative to the repository root
	// ("." is the root). Required.
	Dir string `yaml:"dir" json:"dir"`
	// Workspace is the Terraform workspace (default "default"). Dir plus
	// Workspace is unique.
	Workspace string `yaml:"workspace" json:"workspace"`
	// TerraformVersion is a version constraint overriding the server's.
	TerraformVersion string `yaml:"terraform_version" json:"terraform_version,omitempty"`
	// Distribution is terraform or opentofu; empty: the server's.
	Distribution string `yaml:"distribution" json:"distribution,omitempty"`
	// VarFiles are -var-file arguments, relative to Dir.
	VarFiles []string `yaml:"var_files" json:"var_files,omitempty"`
	// AutoRemediate applies the drift plan of this project without a
	// comment, once its apply requirements hold.
	AutoRemediate bool `yaml:"auto_remediate" json:"auto_remediate,omitempty"`
	// Workflow names the project's workflow (server config workflows, or
	// the repository's own where the server allows them; see
	// LookupWorkflow); empty: the repo rules' (default "default").
	Workflow string `yaml:"workflow" json:"workflow,omitempty"`
	// PolicyCheck false turns policy checks off for the project, only where
	// repo_rules list policy_check in allowed_overrides. In a record it
	// holds the file's top-level policy_check when the project sets none.
	PolicyCheck *bool `yaml:"policy_check" json:"policy_check,omitempty"`
}

// Project is one project of atoll.yaml. After ParseRepo, Dir is clean, and
// Name, Workspace and Autoplan hold their defaults.
type Project struct {
	ProjectCore `yaml:",inline"`
	// Autoplan says when the project is planned by itself.
	Autoplan Autoplan `yaml:"autoplan"`
	// ApplyRequirements change the server's defaults: "mergeable" adds a
	// requirement, "!approved" removes one, which the server must allow
	// (repo_may_relax). After ParseRepo it holds the repository-level
	// entries first, then the project's: later entries win.
	ApplyRequirements []string `yaml:"apply_requirements"`
	// RequiredReviewers add to the server's and the repository's. Paths are
	// written relative to Dir; after ParseRepo they are relative to the
	// repository root and the list starts with the repository-level rules.
	// A rule without paths applies to every apply of the project.
	RequiredReviewers []ReviewerRule `yaml:"required_reviewers"`
	// Branch, a /regex/ on the pull request's base branch, limits the
	// project to pull requests into matching branches; empty: all. See
	// Repo.ForBranch.
	Branch string `yaml:"branch"`
	// TerraformDistribution is Atlantis's name for Distribution; ParseRepo
	// moves it there.
	TerraformDistribution string `yaml:"terraform_distribution"`
	// RepoLocks.Mode is when the project's dir and workspace are locked:
	// on_plan (the default), on_apply, or disabled (never).
	RepoLocks       RepoLocks `yaml:"repo_locks"`
	AtlantisProject `yaml:",inline"`
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

func parseRepo(filename string, data []byte, srv Server, atlantisFile bool) (Repo, error) {
	errs, warns := &errList{}, &errList{}
	src := sources{}
	var r Repo
	root := parseYAML(filename, data, errs)
	if root != nil {
		src[""] = origin{filename, root.Line, root.Column}
		d := &decoder{file: filename, errs: errs, src: src}
		d.decode(root, reflect.ValueOf(&r).Elem(), "")
		if d.exhausted() {
			return Repo{}, errs.err()
		}
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
			w.Warning = true
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

var projectNameRE = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_./:@+-]*$`)

func (r *Repo) check(c checker, srv Server, atlantisFile bool) {
	rs := srv.RepoSettings("", "")
	if atlantisFile && r.Version == 2 {
		// Version 2 differs from 3 only in how run steps were split into
		// words; atoll runs them as version 3 does, whole, in a shell.
		c.warnf("version", "read as version 3: run steps are given to the shell as they are written, not split into words as version 2 did")
		r.Version = 3
	}
	switch {
	case atlantisFile && !c.src.set("version"):
		c.report("version", FieldError{Kind: KindVersionRequired, Message: "required: write version: 3, as Atlantis requires"})
	case atlantisFile && r.Version != 3:
		c.report("version", FieldError{Kind: KindUnsupportedAtlantisVersion, Count: r.Version, Message: fmt.Sprintf("unsupported version %d: atoll reads version 3 of atlantis.yaml", r.Version)})
	case c.src.set("version") && r.Version != 1 && r.Version != 3:
		c.report("version", FieldError{Kind: KindUnsupportedVersion, Count: r.Version, Message: fmt.Sprintf("unsupported version %d: use 1 (atoll's meaning of the keys) or 3 (Atlantis's)", r.Version)})
	}
	v3 := r.Version == 3
	if r.ApplyMode != "" {
		switch r.ApplyMode {
		case ApplyComment, ApplyAfterMerge, ApplyBoth:
		default:
			c.report("apply_mode", FieldError{Kind: KindUnknownApplyMode, Value: string(r.ApplyMode), Message: fmt.Sprintf("unknown apply mode %q: use comment, after_merge or both", r.ApplyMode)})
		}
	}
	if r.Automerge != nil && *r.Automerge && !srv.Automerge.Enabled {
		if v3 {
			c.warn("automerge", FieldError{Kind: KindAutomergeIgnored, Message: "automerge is not enabled on this server (automerge.enabled): atoll leaves the pull request open once applied"})
		} else {
			c.report("automerge", FieldError{Kind: KindAutomergeNotEnabled, Message: "automerge is not enabled on this server (automerge.enabled): a repository may only turn it off"})
		}
	}
	checkGlobs(c, "ignore", r.Ignore)
	if c.src.set("drift") {
		if !srv.Drift.RepoOverride {
			c.report("drift", FieldError{Kind: KindDriftNotAllowed, Message: "this server does not let repositories change drift detection (drift.repo_override is false)"})
		} else if r.Drift.Schedule != "" {
			if _, err := ParseSchedule(r.Drift.Schedule); err != nil {
				c.report("drift.schedule", FieldError{Kind: KindInvalidSchedule, Value: r.Drift.Schedule, Detail: err.Error(), Message: fmt.Sprintf("%v", err)})
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
			c.report("workflows", FieldError{Kind: KindWorkflowsNotAllowed, Message: "this server does not let repositories define workflows (its repo_rules do not set allow_custom_workflows): pick a server workflow with a project's workflow key"})
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
			c.report(join(key, "workspace"), FieldError{Kind: KindInvalidWorkspace, Value: ws, Message: fmt.Sprintf("invalid workspace name %q: use letters, digits, '-', '_' and '.'", ws)})
		}
		name := p.Name
		if c.src.set(join(key, "name")) {
			if !projectNameRE.MatchString(name) {
				c.report(join(key, "name"), FieldError{Kind: KindInvalidProjectName, Value: name, Message: fmt.Sprintf("invalid project name %q: use letters, digits and . _ - / : @ +, not starting with '-'", name)})
			}
		} else if ok {
			name = discovery.DefaultName(dir, ws)
		}
		if name != "" {
			if j, dup := names[name]; dup {
				c.report(join(key, "name"), FieldError{Kind: KindDuplicateProjectName, Value: name, Index: j, Message: fmt.Sprintf("project name %q is already used by projects[%d]", name, j)})
			} else {
				names[name] = i
			}
		}
		if ok {
			k := [2]string{dir, ws}
			if j, dup := pairs[k]; dup {
				c.report(key, FieldError{Kind: KindDuplicateDirWorkspace, Value: dir, Other: ws, Index: j, Message: fmt.Sprintf("dir %q with workspace %q is already projects[%d]: atoll keeps one state, lock and plan per dir and workspace, so give one of them another workspace", dir, ws, j)})
			} else {
				pairs[k] = i
			}
		}
		checkConstraint(c, join(key, "terraform_version"), p.TerraformVersion)
		if p.TerraformDistribution != "" {
			if p.Distribution != "" && p.Distribution != p.TerraformDistribution {
				c.report(join(key, "terraform_distribution"), FieldError{Kind: KindDistributionsDisagree, Value: p.Distribution, Other: p.TerraformDistribution, Message: fmt.Sprintf("distribution %q and terraform_distribution %q disagree: keep one", p.Distribution, p.TerraformDistribution)})
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
				c.report(fk, FieldError{Kind: KindInvalidVarFile, Value: f, Message: fmt.Sprintf("invalid var file %q: give a path relative to the project dir", f)})
			} else if ok && escapes(path.Join(dir, f)) {
				c.report(fk, FieldError{Kind: KindVarFileOutside, Value: f, Message: fmt.Sprintf("var file %q is outside the repository", f)})
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
				c.report(join(key, "branch"), FieldError{Kind: KindBranchNeedsSlashes, Value: p.Branch, Message: fmt.Sprintf("write the regular expression between slashes: /%s/", p.Branch)})
			} else if _, err := regexp.Compile(expr); err != nil {
				c.report(join(key, "branch"), FieldError{Kind: KindInvalidRegexp, Value: p.Branch, Detail: err.Error(), Message: fmt.Sprintf("invalid regular expression: %v", err)})
			}
		}
		if p.Workflow != "" {
			r.checkWorkflowChoice(c, join(key, "workflow"), p.Workflow, srv, rs)
		}
		checkPolicyCheck(c, join(key, "policy_check"), p.PolicyCheck, rs)
		switch p.RepoLocks.Mode {
		case "", "on_plan":
		case LockOnApply, LockDisabled:
		default:
			c.report(join(key, "repo_locks.mode"), FieldError{Kind: KindUnknownLockMode, Value: string(p.RepoLocks.Mode), Message: fmt.Sprintf("unknown value %q: use on_plan, on_apply or disabled", p.RepoLocks.Mode)})
		}
		p.AtlantisProject.check(c, key)
	}
	for i, p := range r.Projects {
		for j, dep := range p.DependsOn {
			if _, ok := names[dep]; !ok {
				c.warn(index(join(index("projects", i), "depends_on"), j), FieldError{Kind: KindUnknownDependency, Value: dep, Message: fmt.Sprintf("no project named %q in this file: atoll waits for no such project", dep)})
			}
		}
	}
}

// checkDir validates a project dir and returns it cleaned.
func checkDir(c checker, key, dir string) (string, bool) {
	switch {
	case dir == "":
		c.report(key, FieldError{Kind: KindDirRequired, Message: "required: the project's directory relative to the repository root (\".\" for the root)"})
	case path.IsAbs(dir) || strings.Contains(dir, `\`) || (len(dir) > 1 && dir[1] == ':'):
		c.report(key, FieldError{Kind: KindDirNotRelative, Value: dir, Message: fmt.Sprintf("dir %q must be relative to the repository root, with forward slashes", dir)})
	case escapes(path.Clean(dir)):
		c.report(key, FieldError{Kind: KindDirOutside, Value: dir, Message: fmt.Sprintf("dir %q is outside the repository", dir)})
	case strings.ContainsFunc(dir, unicode.IsControl):
		c.report(key, FieldError{Kind: KindDirControlChar, Value: dir, Message: fmt.Sprintf("dir %q holds a control character, which no repository path can hold", dir)})
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
			c.report(k, FieldError{Kind: KindUnknownRequirement, Value: e, Allowed: requirementNames(), Message: fmt.Sprintf("unknown requirement %q: use %s (prefix one with ! to remove it)", e, requirementNames())})
			continue
		case remove && r == PoliciesPassed:
			c.report(k, FieldError{Kind: KindPoliciesPassedKept, Message: "policies_passed can never be removed: failing policies are approved by their owners instead"})
		case remove && !slices.Contains(srv.RepoMayRelax, r):
			c.report(k, FieldError{Kind: KindRemovalNotAllowed, Value: string(r), Message: fmt.Sprintf("removing %q would loosen what the server config fixes (its repo_may_relax does not list %q)", r, r)})
		}
		if j, ok := seen[string(r)]; ok && strings.HasPrefix(list[j], "!") != remove {
			c.report(k, FieldError{Kind: KindAddsAndRemoves, Name: key, Value: string(r), Other: index(key, j), Message: fmt.Sprintf("%q both adds and removes %q (see %s)", key, r, index(key, j))})
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
	p := Project{ProjectCore: ProjectCore{Name: dir, Dir: dir, Workspace: discovery.DefaultWorkspace},
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
