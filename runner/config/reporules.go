package config

import (
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/atollhq/atoll/runner/discovery"
)

// AtlantisFile is the repository configuration atoll reads, as Atlantis
// would, when a repository has no atoll.yaml; a repo rule's
// repo_config_file names another.
const AtlantisFile = "atlantis.yaml"

// RepoRule is one entry of the server's repo_rules, in the spirit of
// Atlantis's repos.yaml: settings for the repositories (and base branches)
// it matches. Every matching rule is applied in order; a key a later rule
// sets replaces what an earlier one set, a key it leaves out keeps the
// earlier value (see Server.RepoSettings). Lists and pointers are nil when
// the key is not written; an empty list written as [] is "set to nothing".
//
// YAML shape:
//
//	repo_rules:
//	- id: "acme/*"                 # glob on owner/name, or /regex/
//	  branch: /^main$/             # regex on the base branch; absent: all
//	  repo_config_file: infra/atlantis.yaml
//	  apply_requirements: [approved, mergeable]
//	  workflow: custom             # a server workflow, or "default"
//	  allowed_overrides: [apply_requirements, workflow, policy_check]
//	  allowed_workflows: [custom]
//	  allow_custom_workflows: false
//	  policy_check: true
//	  pre_workflow_hooks:  [{run: "make setup", description: "...", commands: "plan"}]
//	  post_workflow_hooks: [{run: "infracost ...", shell: bash, shellArgs: ["-c"]}]
type RepoRule struct {
	// ID selects repositories: a glob on "owner/name" (as `repos`; a
	// leading "HOST/" as Atlantis writes its ids is matched too), or a
	// regular expression between slashes ("/^acme\/.*/"), matched against
	// both "owner/name" and "HOST/owner/name". Required.
	ID string `yaml:"id"`
	// Branch is a regular expression between slashes on the pull
	// request's base branch; empty: every branch.
	Branch string `yaml:"branch"`
	// RepoConfigFile is the Atlantis-style file read when the repository
	// has no atoll.yaml (default "atlantis.yaml"); a path relative to the
	// repository root.
	RepoConfigFile string `yaml:"repo_config_file"`
	// ApplyRequirements replace the server's apply_requirements for the
	// repositories matched; policies_passed still always applies.
	ApplyRequirements []Requirement `yaml:"apply_requirements"`
	// Workflow is the workflow of projects that name none.
	Workflow string `yaml:"workflow"`
	// AllowedOverrides are the keys a repository file may set to change
	// what this rule fixes: apply_requirements (the file's list replaces
	// the requirements, any may be removed but policies_passed), workflow
	// (a project may pick a workflow) and policy_check.
	AllowedOverrides []string `yaml:"allowed_overrides"`
	// AllowedWorkflows, when set, are the only workflows a repository
	// file may pick.
	AllowedWorkflows []string `yaml:"allowed_workflows"`
	// AllowCustomWorkflows lets the repository file define workflows of
	// its own: anyone who can open a pull request then runs any command
	// on atoll's machine (inside the sandbox).
	AllowCustomWorkflows *bool `yaml:"allow_custom_workflows"`
	// PolicyCheck turns policy checks off (false) for the repositories
	// matched; mandatory policy sets whose `repos` name the repository
	// still run.
	PolicyCheck *bool `yaml:"policy_check"`
	// PreWorkflowHooks run in the checkout before a command's projects are
	// planned or applied; PostWorkflowHooks after.
	PreWorkflowHooks  []Hook `yaml:"pre_workflow_hooks"`
	PostWorkflowHooks []Hook `yaml:"post_workflow_hooks"`
}

// Hook is a pre- or post-workflow hook: a shell command run in the
// repository's checkout, as Atlantis's.
type Hook struct {
	// Run is the shell command. Required.
	Run string `yaml:"run"`
	// Description names the hook in comments and logs.
	Description string `yaml:"description"`
	// Shell and ShellArgs run the command (default sh, ["-c"]).
	Shell     string   `yaml:"shell"`
	ShellArgs []string `yaml:"shellArgs"`
	// Commands, comma-separated (plan, apply), limits the hook to those
	// commands; empty: every command.
	Commands string `yaml:"commands"`
}

// Overridable keys of allowed_overrides.
const (
	OverrideApplyRequirements = "apply_requirements"
	OverrideWorkflow          = "workflow"
	OverridePolicyCheck       = "policy_check"
)

var knownOverrides = []string{OverrideApplyRequirements, OverrideWorkflow, OverridePolicyCheck}

// RepoSettings are the repo rules that apply to one repository and base
// branch, merged (see Server.RepoSettings).
type RepoSettings struct {
	// RepoConfigFile is the Atlantis-style file to read when there is no
	// atoll.yaml (default AtlantisFile).
	RepoConfigFile string
	// ApplyRequirements, when ApplyRequirementsSet, replace the server's.
	ApplyRequirements    []Requirement
	ApplyRequirementsSet bool
	// Workflow is the default workflow's name ("default" unless set).
	Workflow             string
	AllowedOverrides     []string
	AllowedWorkflows     []string
	AllowCustomWorkflows bool
	// PolicyCheck is false when a rule turned policy checks off.
	PolicyCheck       bool
	PreWorkflowHooks  []Hook
	PostWorkflowHooks []Hook
}

// MayOverride reports whether a repository file may set key (one of the
// Override* constants).
func (r RepoSettings) MayOverride(key string) bool { return slices.Contains(r.AllowedOverrides, key) }

// WorkflowAllowed reports whether a repository file may pick the workflow
// name: every workflow unless allowed_workflows lists some; the rule's own
// workflow always.
func (r RepoSettings) WorkflowAllowed(name string) bool {
	return len(r.AllowedWorkflows) == 0 || slices.Contains(r.AllowedWorkflows, name) || name == r.Workflow
}

// RepoSettings returns the settings of the repository "owner/name" for
// pull requests into baseBranch (empty: the rules with a branch regex are
// skipped) from repo_rules; with no rule, the defaults: atlantis.yaml,
// the "default" workflow, no overrides, no custom workflows, policy
// checks on. A Server returned by ForRepo returns its repository's.
func (s Server) RepoSettings(fullName, baseBranch string) RepoSettings {
	if s.matched != nil && fullName == "" {
		return *s.matched
	}
	out := RepoSettings{RepoConfigFile: AtlantisFile, Workflow: DefaultWorkflowName, PolicyCheck: true}
	host := s.GitHub.host()
	for _, r := range s.RepoRules {
		if !r.matchesRepo(host, fullName) || !r.matchesBranch(baseBranch) {
			continue
		}
		if r.RepoConfigFile != "" {
			out.RepoConfigFile = r.RepoConfigFile
		}
		if r.ApplyRequirements != nil {
			out.ApplyRequirements, out.ApplyRequirementsSet = slices.Clone(r.ApplyRequirements), true
		}
		if r.Workflow != "" {
			out.Workflow = r.Workflow
		}
		if r.AllowedOverrides != nil {
			out.AllowedOverrides = slices.Clone(r.AllowedOverrides)
		}
		if r.AllowedWorkflows != nil {
			out.AllowedWorkflows = slices.Clone(r.AllowedWorkflows)
		}
		if r.AllowCustomWorkflows != nil {
			out.AllowCustomWorkflows = *r.AllowCustomWorkflows
		}
		if r.PolicyCheck != nil {
			out.PolicyCheck = *r.PolicyCheck
		}
		if r.PreWorkflowHooks != nil {
			out.PreWorkflowHooks = slices.Clone(r.PreWorkflowHooks)
		}
		if r.PostWorkflowHooks != nil {
			out.PostWorkflowHooks = slices.Clone(r.PostWorkflowHooks)
		}
	}
	return out
}

// ForRepo returns the server configuration as it applies to one
// repository and base branch: the repo rules' apply requirements replace
// apply_requirements, allowed_overrides: [apply_requirements] lets the
// repository remove any of them (repo_may_relax), and RepoSettings("", "")
// of the result returns the repository's settings. ParseRepo and
// Project.EffectiveApplyRequirements given the result apply the rules.
func (s Server) ForRepo(fullName, baseBranch string) Server {
	rs := s.RepoSettings(fullName, baseBranch)
	if rs.ApplyRequirementsSet {
		s.ApplyRequirements = slices.Clone(rs.ApplyRequirements)
	}
	if rs.MayOverride(OverrideApplyRequirements) {
		s.RepoMayRelax = []Requirement{Approved, Mergeable, Undiverged}
	}
	s.matched = &rs
	return s
}

// host is the code host's name in Atlantis-style repo ids: github.com, or
// the GitHub Enterprise Server's host from api_url.
func (g GitHub) host() string {
	u, err := url.Parse(g.APIURL)
	if err != nil || u.Host == "" || u.Host == "api.github.com" {
		return "github.com"
	}
	return u.Hostname()
}

// slashRegexp returns the expression of a "/regex/" value.
func slashRegexp(v string) (string, bool) {
	if len(v) >= 2 && strings.HasPrefix(v, "/") && strings.HasSuffix(v, "/") {
		return v[1 : len(v)-1], true
	}
	return "", false
}

func (r RepoRule) matchesRepo(host, fullName string) bool {
	long := host + "/" + fullName
	if expr, ok := slashRegexp(r.ID); ok {
		re, err := regexp.Compile(expr)
		return err == nil && (re.MatchString(fullName) || re.MatchString(long))
	}
	id := strings.ToLower(r.ID)
	return discovery.Match(id, strings.ToLower(fullName)) || discovery.Match(id, strings.ToLower(long))
}

func (r RepoRule) matchesBranch(branch string) bool {
	if r.Branch == "" {
		return true
	}
	if branch == "" {
		return false
	}
	expr, _ := slashRegexp(r.Branch)
	re, err := regexp.Compile(expr)
	return err == nil && re.MatchString(branch)
}

// validateRepoRules checks workflows and repo_rules.
func (s Server) validateRepoRules(c checker) {
	checkWorkflows(c, "workflows", s.Workflows)
	known := func(name string) bool {
		_, ok := LookupWorkflow(name, nil, s.Workflows)
		return ok
	}
	for i, r := range s.RepoRules {
		key := index("repo_rules", i)
		switch expr, isRE := slashRegexp(r.ID); {
		case strings.TrimSpace(r.ID) == "":
			c.errorf(join(key, "id"), "required: a glob on owner/name (acme/*) or a /regex/")
		case isRE:
			if _, err := regexp.Compile(expr); err != nil {
				c.errorf(join(key, "id"), "invalid regular expression: %v", err)
			}
		default:
			if err := discovery.ValidGlob(strings.ToLower(r.ID)); err != nil {
				c.badGlob(join(key, "id"), err)
			}
		}
		if r.Branch != "" {
			if expr, ok := slashRegexp(r.Branch); !ok {
				c.errorf(join(key, "branch"), "write the regular expression between slashes: /%s/", r.Branch)
			} else if _, err := regexp.Compile(expr); err != nil {
				c.errorf(join(key, "branch"), "invalid regular expression: %v", err)
			}
		}
		if f := r.RepoConfigFile; f != "" && (strings.HasPrefix(f, "/") || escapes(path.Clean(f)) || strings.Contains(f, `\`)) {
			c.errorf(join(key, "repo_config_file"), "give a path relative to the repository root, inside it")
		}
		for j, req := range r.ApplyRequirements {
			if !knownRequirement(req) {
				c.errorf(index(join(key, "apply_requirements"), j), "unknown requirement %q: use %s", req, requirementNames())
			}
		}
		if r.Workflow != "" && !known(r.Workflow) {
			c.errorf(join(key, "workflow"), "no workflow %q in workflows", r.Workflow)
		}
		for j, w := range r.AllowedWorkflows {
			if !known(w) {
				c.errorf(index(join(key, "allowed_workflows"), j), "no workflow %q in workflows", w)
			}
		}
		for j, o := range r.AllowedOverrides {
			if !slices.Contains(knownOverrides, o) {
				c.errorf(index(join(key, "allowed_overrides"), j), "unknown key %q: use %s", o, strings.Join(knownOverrides, ", "))
			}
		}
		for _, h := range []struct {
			name  string
			hooks []Hook
		}{{"pre_workflow_hooks", r.PreWorkflowHooks}, {"post_workflow_hooks", r.PostWorkflowHooks}} {
			for j, hook := range h.hooks {
				hk := index(join(key, h.name), j)
				if strings.TrimSpace(hook.Run) == "" {
					c.errorf(join(hk, "run"), "required: the command to run")
				}
				for _, cmd := range strings.Split(hook.Commands, ",") {
					if cmd = strings.TrimSpace(cmd); cmd != "" && cmd != "plan" && cmd != "apply" {
						c.errorf(join(hk, "commands"), "unknown command %q: use plan, apply or both, comma-separated", cmd)
					}
				}
			}
		}
	}
}
