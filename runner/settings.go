package runner

import (
	"time"

	"github.com/atollhq/atoll/runner/config"

	"github.com/atollhq/atoll/vcs"
)

// Settings is the server-wide behaviour the runner follows; cmd/atoll
// fills it from the server configuration (runner/config).
type Settings struct {
	// RepoAllowed says whether atoll serves a repository ("owner/name").
	RepoAllowed func(fullName string) bool
	// AllowForkPRs plans PRs whose head is in a fork.
	AllowForkPRs bool
	// AllowDraftPRs plans draft PRs; otherwise they wait for ready_for_review.
	AllowDraftPRs bool
	// CheckoutStrategy is "merge" (plan what will land) or "branch".
	CheckoutStrategy string
	// Workers bounds the jobs that run at once.
	Workers int
	// ApplyMode is the default "comment", "after_merge" or "both".
	ApplyMode string
	// ApplyRequirements are the default requirements: approved,
	// mergeable, undiverged. Repos tighten them through atoll.yaml.
	ApplyRequirements []string
	// Approvals is how many approving reviews `approved` needs.
	Approvals int
	// DismissStale ignores approvals given to an older head commit.
	DismissStale bool
	// Permissions says who may run each command; a command without an entry
	// needs write permission.
	Permissions map[string]CommandPermission
	// Automerge merges a PR once all its projects are applied.
	Automerge   bool
	MergeMethod string
	// Terraform are the defaults for finding and running terraform.
	Terraform TerraformSettings
	// ReconcileInterval is how often open PRs and locks are reconciled.
	ReconcileInterval time.Duration
	// InboxRetention is how long deliveries and command claims are kept
	// (default DefaultInboxRetention); older comments never run.
	InboxRetention time.Duration
	// SummaryOnly leaves the plan text out of comments (job page only).
	SummaryOnly bool
	// RequiredReviewers are rules of teams that must approve changes to
	// paths; CodeOwners requires a code owner's approval per changed file.
	RequiredReviewers []ReviewerRule
	CodeOwners        bool
	// Drift configures the drift checks of default branches.
	Drift DriftSettings
	// Commands are the comment commands answered and the server-wide
	// apply switches.
	Commands
	// Workflows are the server's workflows.
	Workflows Workflows
}

// Commands are the comment commands the runner answers and how far an
// apply may go (server config: command_aliases, allow_commands,
// disable_apply, apply_all_or_nothing, quiet_policy_checks).
type Commands struct {
	// Aliases are words besides "atoll" that address commands.
	Aliases []string
	// CommandAllowed says whether a command (plan, apply, ...) runs;
	// nil allows every command.
	CommandAllowed func(name string) bool
	// AllowedCommands are the commands allowed, for the refusal's text
	// (empty: all).
	AllowedCommands []string
	// DisableApply refuses every apply.
	DisableApply bool
	// ApplyPartial (apply_all_or_nothing: false) lets an unselected apply
	// apply the projects that meet their requirements when others are
	// refused; by default it applies nothing then.
	ApplyPartial bool
	// QuietPolicyChecks leaves passing policy sets out of comments.
	QuietPolicyChecks bool
	// JobTimeout bounds each job (plan, apply, its custom steps); 0: none.
	JobTimeout time.Duration
}

// Workflows are the server's named workflows and the repository rules that
// pick them.
type Workflows struct {
	// Named are the server config's workflows, by name.
	Named map[string]config.Workflow
	// HasRules: the server has repo_rules, so RepoSettings may differ
	// between repositories.
	HasRules bool
	// RepoSettings are the repo_rules of a repository ("owner/name") and
	// base branch; nil: no rules (the "default" workflow, no custom
	// workflows).
	RepoSettings func(fullName, baseBranch string) config.RepoSettings
}

// CommandPermission is who may run one command: everyone with at least
// Level on the repo, or (when Teams is non-empty) members of one of Teams
// with at least Level.
type CommandPermission struct {
	Level vcs.Permission
	Teams []string // "org/team"
}

// TerraformSettings are where terraform comes from and how it runs.
type TerraformSettings struct {
	Distribution   string // "terraform" or "opentofu"
	Version        string // constraint or exact version; empty: required_version
	Binary         string // explicit path
	CLIConfigFile  string
	PluginCacheDir string
	ReleasesURL    string
	Env            map[string]string
	// Secrets are values masked in every output, comment and log.
	Secrets []string
}

// ReviewerRule requires Count approvals from members of Teams when a PR
// changes a file matching Paths.
type ReviewerRule struct {
	Paths []string
	Teams []string
	Count int
}

// DriftSettings configure scheduled drift checks.
type DriftSettings struct {
	Enabled      bool
	Schedule     string // cron
	Mode         string // "plan" or "refresh-only"
	Jitter       time.Duration
	Concurrency  int
	RepoOverride bool
	// AutoRemediateRepos are globs on "owner/name" where auto_remediate is
	// honoured; RemediateAloneTeams may remediate without a second person.
	AutoRemediateRepos  []string
	RemediateAloneTeams []string
}

func (s *Settings) defaults() {
	if s.RepoAllowed == nil {
		s.RepoAllowed = func(string) bool { return true }
	}
	if s.CommandAllowed == nil {
		s.CommandAllowed = func(string) bool { return true }
	}
	if s.CheckoutStrategy == "" {
		s.CheckoutStrategy = "merge"
	}
	if s.Workers <= 0 {
		s.Workers = 4
	}
	if s.ApplyMode == "" {
		s.ApplyMode = "comment"
	}
	if s.Approvals <= 0 {
		s.Approvals = 1
	}
	if s.MergeMethod == "" {
		s.MergeMethod = "merge"
	}
	if s.Terraform.Distribution == "" {
		s.Terraform.Distribution = "terraform"
	}
	if s.ReconcileInterval <= 0 {
		s.ReconcileInterval = 5 * time.Minute
	}
	if s.InboxRetention <= 0 {
		s.InboxRetention = DefaultInboxRetention
	}
	if s.Drift.Mode == "" {
		s.Drift.Mode = "plan"
	}
	if s.Drift.Concurrency <= 0 {
		s.Drift.Concurrency = 2
	}
}

// permissionFor returns who may run command.
func (s *Settings) permissionFor(command string) CommandPermission {
	if p, ok := s.Permissions[command]; ok && p.Level != "" {
		return p
	}
	return CommandPermission{Level: vcs.PermissionWrite}
}
