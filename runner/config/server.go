// Package config reads atoll's two configurations: the server's (a YAML
// file, ATOLL_* environment variables and command-line flags, flags winning
// over the environment, the environment over the file) and a repository's
// atoll.yaml, which may tighten what the server fixes but never loosen it,
// or, without one, its Atlantis atlantis.yaml (ParseAtlantis), read with
// Atlantis's meaning of the keys. The server's workflows and repo_rules
// (Workflow, RepoRule) are data here; the runner executes them.
//
// Both are read strictly: unknown keys, wrong types and invalid values are
// errors, every one of them is reported (not only the first), each with its
// file, line and column, as a *ValidationError. The configuration
// reference in the README documents every key.
package config

import (
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/vcs"
)

// Terraform distributions.
const (
	DistributionTerraform = "terraform"
	DistributionOpenTofu  = "opentofu"
)

// ApplyMode says what may trigger an apply.
type ApplyMode string

// Apply modes.
const (
	// ApplyComment applies on an `atoll apply` comment.
	ApplyComment ApplyMode = "comment"
	// ApplyAfterMerge applies when the pull request is merged into the
	// default branch; `atoll apply` comments are refused.
	ApplyAfterMerge ApplyMode = "after_merge"
	// ApplyBoth allows both.
	ApplyBoth ApplyMode = "both"
)

// Requirement is a condition that must hold before an apply.
type Requirement string

// Apply requirements.
const (
	// Approved: the pull request has at least Server.Approvals approving
	// reviews (stale ones dropped when DismissStaleApprovals is set).
	Approved Requirement = "approved"
	// Mergeable: GitHub reports the pull request mergeable (no conflicts,
	// branch protection satisfied apart from atoll's own checks).
	Mergeable Requirement = "mergeable"
	// Undiverged: the pull request's branch contains the base branch's head.
	Undiverged Requirement = "undiverged"
	// PoliciesPassed: every mandatory policy set passed or was approved by
	// its owners. It is always in force and can never be removed.
	PoliciesPassed Requirement = "policies_passed"
)

// Requirements lists every known requirement, in the order atoll reports them.
var Requirements = []Requirement{Approved, Mergeable, Undiverged, PoliciesPassed}

// Server is the server configuration. Build one with LoadServer, or start
// from DefaultServer; check it with Validate. The embedded structs only
// group fields: their keys sit at the top level of the YAML file.
type Server struct {
	// Listen is the HTTP listen address (default ":4141").
	Listen string `yaml:"listen"`
	// URL is the public base URL used in links to job pages; default
	// "http://localhost:PORT" from Listen.
	URL string `yaml:"url"`
	// DataDir holds the database, git mirrors, plans and downloaded
	// binaries (default "atoll-data", relative to the working directory).
	DataDir string `yaml:"data_dir"`
	// Database is where everything durable lives: empty (the default),
	// bbolt in DataDir; a postgres:// URL, PostgreSQL, shared by any
	// number of replicas. LoadServer fills it from DatabaseFile when that
	// is set.
	Database     string `yaml:"database"`
	DatabaseFile string `yaml:"database_file"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel string `yaml:"log_level"`
	// TemplatesDir overrides the embedded templates by file name.
	TemplatesDir string `yaml:"templates_dir"`
	// Workers is the number of jobs run at once (default 4).
	Workers int `yaml:"workers"`
	// ReconcileInterval is how often open pull requests and locks are
	// reconciled with GitHub (default 5m; 0: at start-up only).
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
	// InboxRetention is how long webhook deliveries stay in the inbox
	// (default 14 days, 336h); older ones are pruned, failed ones with
	// them. Comment commands older than this are not run.
	InboxRetention time.Duration `yaml:"inbox_retention"`
	// SummaryOnly posts counts and resource lists but not the plan text,
	// which stays on the job page.
	SummaryOnly bool `yaml:"summary_only"`
	// Ops: log format, metrics address, readiness and shutdown.
	Ops `yaml:",inline"`
	// Sandbox is "auto" (default: confine terraform with Landlock when
	// the kernel offers it, else run it unconfined with a warning),
	// "required" (refuse to start without it) or "off".
	Sandbox string `yaml:"sandbox"`
	// SandboxReadPaths and SandboxWritePaths are paths the sandbox lets
	// terraform read, or read and write, besides its job's own.
	SandboxReadPaths  []string `yaml:"sandbox_read_paths"`
	SandboxWritePaths []string `yaml:"sandbox_write_paths"`

	GitHub    GitHub `yaml:"github"`
	UI        UI     `yaml:"ui"`
	Audit     Audit  `yaml:"audit"`
	APIAuth   `yaml:",inline"`
	Intake    `yaml:",inline"`
	Terraform Terraform `yaml:"terraform"`
	// Permissions says who may run each command.
	Permissions Permissions `yaml:"permissions"`
	ApplyPolicy `yaml:",inline"`
	// Commands are the comment commands atoll answers, and the
	// server-wide apply switches.
	Commands `yaml:",inline"`
	// Replicas: how replicas sharing one database share the work.
	Replicas `yaml:",inline"`
	// PolicySets are the Rego policy sets evaluated on every plan.
	PolicySets []PolicySet `yaml:"policy_sets"`
	Drift      Drift       `yaml:"drift"`
	// Workflows are the named workflows projects may run (see Workflow);
	// "default" always exists.
	Workflows map[string]Workflow `yaml:"workflows"`
	// RepoRules are per-repository settings (see RepoRule).
	RepoRules []RepoRule `yaml:"repo_rules"`

	src     sources       // where each value came from, for error positions
	matched *RepoSettings // set by ForRepo
}

// GitHub is the GitHub App atoll runs as.
type GitHub struct {
	// AppID is the App's numeric id (required).
	AppID int64 `yaml:"app_id"`
	// PrivateKey is the App's PEM private key; LoadServer fills it from
	// PrivateKeyFile when that is set. One of the two is required.
	PrivateKey     string `yaml:"private_key"`
	PrivateKeyFile string `yaml:"private_key_file"`
	// WebhookSecret checks webhook signatures; LoadServer fills it from
	// WebhookSecretFile when that is set. Required: atoll never accepts
	// unsigned webhooks.
	WebhookSecret     string `yaml:"webhook_secret"`
	WebhookSecretFile string `yaml:"webhook_secret_file"`
	// APIURL is the REST API root (default "https://api.github.com/"; for
	// GitHub Enterprise Server "https://HOST/api/v3/"); it always ends in "/".
	APIURL string `yaml:"api_url"`
	// GraphQLURL is the GraphQL endpoint; empty: derived from APIURL.
	GraphQLURL string `yaml:"graphql_url"`
	// ClientID and ClientSecret are the App's OAuth credentials, with
	// which the web UI signs people in; LoadServer fills ClientSecret from
	// ClientSecretFile when that is set. Without them the web UI is off
	// (every page answers 503 after the 302 to /login).
	ClientID         string `yaml:"client_id"`
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
}

// UI configures the web UI.
type UI struct {
	// AdminTeams ("org/team-slug") see every repository, and may act on
	// each of them and on the server-wide apply lock.
	AdminTeams []string `yaml:"admin_teams"`
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration `yaml:"session_ttl"`
}

// Audit configures the audit trail.
type Audit struct {
	// Retention is how long records are kept (0, the default: forever).
	// Older records are pruned to a checkpoint that keeps the chain
	// verifiable.
	Retention time.Duration `yaml:"retention"`
}

// APIAuth guards atoll's REST API.
type APIAuth struct {
	// APIToken is the bearer token of the REST API; LoadServer fills it from
	// APITokenFile when that is set. Empty: the API refuses every request.
	APIToken     string `yaml:"api_token"`
	APITokenFile string `yaml:"api_token_file"`
}

// Intake says which repositories and pull requests atoll works on.
type Intake struct {
	// Repos are globs on "owner/name"; "!" excludes; the last matching rule
	// wins. Empty: every repository the App is installed on. See
	// RepoAllowed.
	Repos []string `yaml:"repos"`
	// AllowForkPRs lets pull requests from forks be planned (default false).
	AllowForkPRs bool `yaml:"allow_fork_prs"`
	// AllowDraftPRs plans draft pull requests; by default they are planned
	// when marked ready for review.
	AllowDraftPRs bool `yaml:"allow_draft_prs"`
	// CheckoutStrategy is "merge" (default: the PR merged into its base) or
	// "branch" (the PR's head as it is).
	CheckoutStrategy string `yaml:"checkout_strategy"`
}

// Terraform configures the terraform or tofu binary and its environment.
type Terraform struct {
	// Distribution is "terraform" (default) or "opentofu"; a project may
	// choose its own.
	Distribution string `yaml:"distribution"`
	// Version is a version constraint ("1.5.7", "~> 1.9"); empty: the
	// project's required_version, else any installed binary.
	Version string `yaml:"version"`
	// Binary is an explicit path to the binary; it wins over Version.
	Binary string `yaml:"binary"`
	// CLIConfigFile is passed as TF_CLI_CONFIG_FILE.
	CLIConfigFile string `yaml:"cli_config_file"`
	// PluginCacheDir is the shared provider cache (default
	// DATA_DIR/plugin-cache).
	PluginCacheDir string `yaml:"plugin_cache_dir"`
	// ReleasesURL is a mirror of releases.hashicorp.com for downloads.
	ReleasesURL string `yaml:"releases_url"`
	// Env is extra environment for every terraform run. An entry is a
	// value ("eu-west-1") or {value, secret}: a secret one is masked as
	// "***" in every text atoll writes.
	Env map[string]EnvValue `yaml:"env"`
	// SecretsEnv names variables of atoll's own environment passed to
	// terraform whose values are masked in every output.
	SecretsEnv []string `yaml:"secrets_env"`
}

// EnvValue is one terraform.env entry. In YAML it is written as a plain
// value (`TF_VAR_region: eu-west-1`) or as a mapping
// (`TF_VAR_token: {value: "...", secret: true}`).
type EnvValue struct {
	Value string `yaml:"value"`
	// Secret masks the value as "***" in every text atoll writes, as
	// terraform.secrets_env values are.
	Secret bool `yaml:"secret"`
}

// Permissions says who may run each command; each defaults to write.
// help and version need no permission.
type Permissions struct {
	Plan            CommandPermission `yaml:"plan"`
	Apply           CommandPermission `yaml:"apply"`
	Unlock          CommandPermission `yaml:"unlock"`
	ApprovePolicies CommandPermission `yaml:"approve_policies"`
}

// CommandPermission is the permission a command needs: the commenter must
// have at least Permission on the repository and, when Teams is set, be an
// active member of one of them ("org/team-slug").
type CommandPermission struct {
	Permission vcs.Permission `yaml:"permission"`
	Teams      []string       `yaml:"teams"`
}

// For returns the permission of a command by its name ("plan", "apply",
// "unlock", "approve_policies"); false for commands anyone may run.
func (p Permissions) For(command string) (CommandPermission, bool) {
	switch command {
	case "plan":
		return p.Plan, true
	case "apply":
		return p.Apply, true
	case "unlock":
		return p.Unlock, true
	case "approve_policies":
		return p.ApprovePolicies, true
	}
	return CommandPermission{}, false
}

// ApplyPolicy holds what must hold before an apply, and what follows it.
type ApplyPolicy struct {
	// ApplyMode is comment (default), after_merge or both.
	ApplyMode ApplyMode `yaml:"apply_mode"`
	// ApplyRequirements are the default requirements of every project
	// (default [approved, mergeable]); policies_passed always applies.
	ApplyRequirements []Requirement `yaml:"apply_requirements"`
	// Approvals is the number of approving reviews "approved" needs
	// (default 1).
	Approvals int `yaml:"approvals"`
	// DismissStaleApprovals drops approvals given before the planned head
	// commit (default true).
	DismissStaleApprovals bool `yaml:"dismiss_stale_approvals"`
	// RepoMayRelax lists the requirements an atoll.yaml may remove.
	RepoMayRelax []Requirement `yaml:"repo_may_relax"`
	// RequiredReviewers require reviews from teams for changed paths.
	RequiredReviewers []ReviewerRule `yaml:"required_reviewers"`
	// CodeOwners requires an approval from a code owner of each changed
	// file (CODEOWNERS), as GitHub's branch protection would.
	CodeOwners bool `yaml:"code_owners"`
	// Automerge merges a pull request once all its projects are applied.
	Automerge Automerge `yaml:"automerge"`
}

// Automerge merges pull requests whose plans are all applied.
type Automerge struct {
	// Enabled turns automerge on for every repository; a repository may
	// turn it off (atoll.yaml automerge: false), never on by itself.
	Enabled bool `yaml:"enabled"`
	// Method is merge (default), squash or rebase.
	Method string `yaml:"method"`
}

// ReviewerRule requires Count approving reviews from members of Teams when
// a changed file matches one of Paths.
type ReviewerRule struct {
	// Paths are globs on changed files, relative to the repository root
	// (server, atoll.yaml top level) or to the project dir (atoll.yaml
	// project). Empty: any change.
	Paths []string `yaml:"paths"`
	// Teams are "org/team-slug"; a review counts when its author is a member
	// of any of them.
	Teams []string `yaml:"teams"`
	// Count is the number of such reviews needed (default 1).
	Count int `yaml:"count"`
}

// PolicySet is one directory of Rego policies and who owns it. The fields
// match policy.SetConfig.
type PolicySet struct {
	// Name identifies the set (letters, digits, '-', '_', '.'); unique.
	Name string `yaml:"name"`
	// Path is the directory of .rego files.
	Path string `yaml:"path"`
	// Owners are users ("login") and teams ("org/team-slug") who may
	// approve a failing set.
	Owners []string `yaml:"owners"`
	// Approvals is the number of owner approvals a failing set needs
	// (default 1).
	Approvals int `yaml:"approvals"`
	// Enforcement is mandatory (default: a failure blocks the apply) or
	// advisory (shown only).
	Enforcement string `yaml:"enforcement"`
	// Repos and Projects are globs limiting the set to some repositories
	// ("owner/name") and project names; empty: all.
	Repos    []string `yaml:"repos"`
	Projects []string `yaml:"projects"`
	// AllowAuthorApproval lets an owner approve their own pull request.
	AllowAuthorApproval bool `yaml:"allow_author_approval"`
	// ReviewApproves counts an approving review by an owner as an approval.
	ReviewApproves bool `yaml:"review_approves"`
	// Format is how the Rego is read: "atoll" (default: rules deny and
	// warn in package atoll, input {plan, project, pull_request, user,
	// repo}) or "conftest" (rules deny, violation and warn in the
	// Namespaces, input the bare `terraform show -json` plan).
	Format string `yaml:"format"`
	// Namespaces are the Rego packages a conftest set's rules are read
	// from (default [main]); only with format conftest.
	Namespaces []string `yaml:"namespaces"`
}

// Policy set formats.
const (
	PolicyFormatAtoll    = "atoll"
	PolicyFormatConftest = "conftest"
)

// Drift configures scheduled drift detection on default branches.
type Drift struct {
	// Enabled turns drift detection on (default false).
	Enabled bool `yaml:"enabled"`
	// Schedule is a cron expression (5 fields, or a descriptor such as
	// @hourly, @daily, @every 6h), in UTC unless it starts with CRON_TZ=
	// (default "@daily").
	Schedule string `yaml:"schedule"`
	// Mode is plan (default) or refresh-only.
	Mode string `yaml:"mode"`
	// Jitter delays each repository's run by a random duration up to it,
	// to spread the load (default 0).
	Jitter time.Duration `yaml:"jitter"`
	// Concurrency is the number of drift plans run at once (default 2).
	Concurrency int `yaml:"concurrency"`
	// RepoOverride lets an atoll.yaml set its own schedule or turn drift
	// detection off.
	RepoOverride bool `yaml:"repo_override"`
	// AutoRemediateRepos are globs on "owner/name" of the repositories
	// whose atoll.yaml may turn auto_remediate on; empty: none.
	AutoRemediateRepos []string `yaml:"auto_remediate_repos"`
	// RemediateAloneTeams are teams ("org/team-slug") whose members may
	// remediate a drift issue without a second person's `atoll approve`.
	RemediateAloneTeams []string `yaml:"remediate_alone_teams"`
}

// The values of Server.Sandbox.
const (
	SandboxAuto     = "auto"
	SandboxRequired = "required"
	SandboxOff      = "off"
)

// DefaultServer returns the server configuration with every default filled
// in. It lacks the GitHub App credentials, so it does not pass Validate.
func DefaultServer() Server {
	return Server{
		Listen:            ":4141",
		DataDir:           "atoll-data",
		LogLevel:          "info",
		Workers:           4,
		ReconcileInterval: 5 * time.Minute,
		Ops:               defaultOps(),
		InboxRetention:    14 * 24 * time.Hour,
		Sandbox:           SandboxAuto,
		GitHub:            GitHub{APIURL: "https://api.github.com/"},
		UI:                UI{SessionTTL: 12 * time.Hour},
		Intake:            Intake{CheckoutStrategy: "merge"},
		Terraform:         Terraform{Distribution: DistributionTerraform},
		Permissions: Permissions{
			Plan:            CommandPermission{Permission: vcs.PermissionWrite},
			Apply:           CommandPermission{Permission: vcs.PermissionWrite},
			Unlock:          CommandPermission{Permission: vcs.PermissionWrite},
			ApprovePolicies: CommandPermission{Permission: vcs.PermissionWrite},
		},
		ApplyPolicy: ApplyPolicy{
			ApplyMode:             ApplyComment,
			ApplyRequirements:     []Requirement{Approved, Mergeable},
			Approvals:             1,
			DismissStaleApprovals: true,
			Automerge:             Automerge{Method: "merge"},
		},
		Commands: Commands{ApplyAllOrNothing: true},
		Replicas: Replicas{JobLease: 2 * time.Minute},
		Drift:    Drift{Schedule: "@daily", Mode: "plan", Concurrency: 2},
	}
}

// RepoAllowed reports whether atoll works on the repository "owner/name".
// With no rules, every repository is allowed. Otherwise the rules are read
// in order and the last one matching decides: a plain glob allows, a glob
// starting with "!" excludes; when none matches, the repository is allowed
// only if the first rule is an exclusion (a list of exclusions means
// "everything but"). Matching ignores letter case, as GitHub does.
func (s Server) RepoAllowed(fullName string) bool {
	if len(s.Repos) == 0 {
		return true
	}
	name := strings.ToLower(fullName)
	allowed := strings.HasPrefix(s.Repos[0], "!")
	for _, r := range s.Repos {
		neg := strings.HasPrefix(r, "!")
		if discovery.Match(strings.ToLower(strings.TrimPrefix(r, "!")), name) {
			allowed = !neg
		}
	}
	return allowed
}

// SlogLevel returns LogLevel as a slog.Level (info when unknown).
func (s Server) SlogLevel() slog.Level {
	switch s.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Redacted returns a copy with every secret replaced by "***" (when set),
// safe to log or show.
func (s Server) Redacted() Server {
	mask := func(v *string) {
		if *v != "" {
			*v = "***"
		}
	}
	mask(&s.GitHub.PrivateKey)
	mask(&s.GitHub.WebhookSecret)
	mask(&s.APIToken)
	if len(s.Terraform.Env) > 0 {
		env := make(map[string]EnvValue, len(s.Terraform.Env)) // a copy: the map is shared with the caller's
		for k, v := range s.Terraform.Env {
			if v.Secret {
				mask(&v.Value)
			}
			env[k] = v
		}
		s.Terraform.Env = env
	}
	s.src = nil
	return s
}

// fillDerived computes the defaults that depend on other values: URL from
// Listen, PluginCacheDir from DataDir, the API URL's trailing slash, and the
// defaults of list elements that were not written.
func (s *Server) fillDerived() {
	if s.URL == "" {
		port := "4141"
		if _, p, err := net.SplitHostPort(s.Listen); err == nil && p != "" {
			port = p
		}
		s.URL = "http://localhost:" + port
	}
	s.URL = strings.TrimRight(s.URL, "/")
	if s.Terraform.PluginCacheDir == "" && s.DataDir != "" {
		s.Terraform.PluginCacheDir = strings.TrimRight(s.DataDir, "/") + "/plugin-cache"
	}
	if s.GitHub.APIURL != "" && !strings.HasSuffix(s.GitHub.APIURL, "/") {
		s.GitHub.APIURL += "/"
	}
	for i := range s.PolicySets {
		p := &s.PolicySets[i]
		if p.Approvals == 0 && !s.src.set(join(index("policy_sets", i), "approvals")) {
			p.Approvals = 1
		}
		if p.Enforcement == "" {
			p.Enforcement = "mandatory"
		}
		if p.Format == "" {
			p.Format = PolicyFormatAtoll
		}
		if p.Format == PolicyFormatConftest && len(p.Namespaces) == 0 {
			p.Namespaces = []string{"main"}
		}
	}
	fillReviewerDefaults(s.RequiredReviewers, "required_reviewers", s.src)
	for _, cp := range []*CommandPermission{&s.Permissions.Plan, &s.Permissions.Apply, &s.Permissions.Unlock, &s.Permissions.ApprovePolicies} {
		if cp.Permission == "" {
			cp.Permission = vcs.PermissionWrite
		}
	}
}

func fillReviewerDefaults(rules []ReviewerRule, key string, src sources) {
	for i := range rules {
		if rules[i].Count == 0 && !src.set(join(index(key, i), "count")) {
			rules[i].Count = 1
		}
	}
}
