package config

import (
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/robfig/cron/v3"

	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/vcs"
)

// Validate checks the whole configuration and returns a *ValidationError
// listing every problem, or nil. Values LoadServer read are located by file
// and line, environment variable or flag.
func (s Server) Validate() error {
	errs := &errList{}
	c := checker{src: s.src, errs: errs}

	if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		c.errorf("listen", "invalid address %q: use HOST:PORT or :PORT", s.Listen)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		c.errorf("listen", "invalid port %q", port)
	}
	if s.URL != "" {
		checkURL(c, "url", s.URL)
	}
	if s.DataDir == "" {
		c.errorf("data_dir", "required")
	}
	if d := s.Database; d != "" && !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") {
		// Never echo the value: it may carry a password.
		c.errorf("database", "must be empty (bbolt in data_dir) or a postgres:// URL")
	}
	oneOf(c, "log_level", s.LogLevel, "debug", "info", "warn", "error")
	if s.Workers < 1 || s.Workers > 256 {
		c.errorf("workers", "must be between 1 and 256, got %d", s.Workers)
	}
	if s.ReconcileInterval < 0 {
		c.errorf("reconcile_interval", "must not be negative")
	}
	if s.InboxRetention < time.Hour {
		c.errorf("inbox_retention", "must be at least 1h, got %s", s.InboxRetention)
	}

	g := s.GitHub
	if g.AppID <= 0 {
		c.errorf("github.app_id", "required: the GitHub App's numeric id")
	}
	switch {
	case g.PrivateKey == "":
		c.errorf("github", "a private key is required: set github.private_key_file (or github.private_key)")
	default:
		if block, _ := pem.Decode([]byte(g.PrivateKey)); block == nil {
			key := "github.private_key"
			if g.PrivateKeyFile != "" {
				key = "github.private_key_file"
			}
			c.errorf(key, "not a PEM-encoded private key")
		}
	}
	if g.WebhookSecret == "" {
		c.errorf("github", "a webhook secret is required, atoll never accepts unsigned webhooks: set github.webhook_secret_file (or github.webhook_secret)")
	}
	checkURL(c, "github.api_url", g.APIURL)
	if (g.ClientID == "") != (g.ClientSecret == "") {
		c.errorf("github.client_id", "github.client_id and github.client_secret (or client_secret_file) go together")
	}
	for _, t := range s.UI.AdminTeams {
		if o, slug, ok := strings.Cut(t, "/"); !ok || o == "" || slug == "" {
			c.errorf("ui.admin_teams", "%q is not org/team-slug", t)
		}
	}
	if s.UI.SessionTTL <= 0 {
		c.errorf("ui.session_ttl", "must be positive")
	}
	if s.Audit.Retention < 0 {
		c.errorf("audit.retention", "must not be negative")
	}
	if g.GraphQLURL != "" {
		checkURL(c, "github.graphql_url", g.GraphQLURL)
	}

	for i, r := range s.Repos {
		if err := discovery.ValidGlob(strings.TrimPrefix(r, "!")); err != nil {
			c.badGlob(index("repos", i), err)
		}
	}
	oneOf(c, "checkout_strategy", s.CheckoutStrategy, "merge", "branch")
	oneOf(c, "sandbox", s.Sandbox, SandboxAuto, SandboxRequired, SandboxOff)
	for key, paths := range map[string][]string{"sandbox_read_paths": s.SandboxReadPaths, "sandbox_write_paths": s.SandboxWritePaths} {
		for i, p := range paths {
			if !filepath.IsAbs(p) {
				c.errorf(index(key, i), "%q is not an absolute path", p)
			}
		}
	}

	s.validateTerraform(c)
	s.validateApply(c)
	s.validateCommands(c)
	s.validateReplicas(c)
	s.validateOps(c)
	for _, p := range []struct {
		key string
		cp  CommandPermission
	}{{"plan", s.Permissions.Plan}, {"apply", s.Permissions.Apply}, {"unlock", s.Permissions.Unlock}, {"approve_policies", s.Permissions.ApprovePolicies}} {
		key := "permissions." + p.key
		if !vcs.ValidPermission(p.cp.Permission) || p.cp.Permission == vcs.PermissionNone {
			c.errorf(key+".permission", "unknown permission %q: use read, triage, write, maintain or admin", p.cp.Permission)
		}
		checkTeams(c, key+".teams", p.cp.Teams)
	}
	s.validatePolicySets(c)
	s.validateDrift(c)
	s.validateRepoRules(c)
	return errs.err()
}

func (s Server) validateTerraform(c checker) {
	t := s.Terraform
	oneOf(c, "terraform.distribution", t.Distribution, DistributionTerraform, DistributionOpenTofu)
	checkConstraint(c, "terraform.version", t.Version)
	if t.ReleasesURL != "" {
		checkURL(c, "terraform.releases_url", t.ReleasesURL)
	}
	for name := range t.Env {
		if !envNameRE.MatchString(name) {
			c.errorf(join("terraform.env", name), "invalid environment variable name")
		}
	}
	for i, name := range t.SecretsEnv {
		if !envNameRE.MatchString(name) {
			c.errorf(index("terraform.secrets_env", i), "invalid environment variable name %q", name)
		}
	}
}

func (s Server) validateApply(c checker) {
	switch s.ApplyMode {
	case ApplyComment, ApplyAfterMerge, ApplyBoth:
	default:
		c.errorf("apply_mode", "unknown apply mode %q: use comment, after_merge or both", s.ApplyMode)
	}
	seen := map[Requirement]bool{}
	for i, r := range s.ApplyRequirements {
		key := index("apply_requirements", i)
		switch {
		case !knownRequirement(r):
			c.errorf(key, "unknown requirement %q: use %s", r, requirementNames())
		case seen[r]:
			c.errorf(key, "%q is listed twice", r)
		}
		seen[r] = true
	}
	if s.Approvals < 1 {
		c.errorf("approvals", "must be at least 1, got %d", s.Approvals)
	}
	for i, r := range s.RepoMayRelax {
		key := index("repo_may_relax", i)
		switch {
		case r == PoliciesPassed:
			c.errorf(key, "policies_passed can never be relaxed: failing policies are approved by their owners instead")
		case !knownRequirement(r):
			c.errorf(key, "unknown requirement %q: use approved, mergeable or undiverged", r)
		}
	}
	checkReviewerRules(c, "required_reviewers", s.RequiredReviewers)
	oneOf(c, "automerge.method", s.Automerge.Method, "merge", "squash", "rebase")
}

func (s Server) validatePolicySets(c checker) {
	names := map[string]int{}
	for i, p := range s.PolicySets {
		key := index("policy_sets", i)
		switch {
		case p.Name == "":
			c.errorf(join(key, "name"), "required")
		case !nameRE.MatchString(p.Name):
			c.errorf(join(key, "name"), "invalid name %q: use letters, digits, '-', '_' and '.'", p.Name)
		default:
			if j, dup := names[p.Name]; dup {
				c.errorf(join(key, "name"), "policy set %q is already defined by policy_sets[%d]", p.Name, j)
			}
			names[p.Name] = i
		}
		if p.Path == "" {
			c.errorf(join(key, "path"), "required: the directory of .rego files")
		}
		for j, o := range p.Owners {
			if strings.TrimSpace(o) == "" || strings.ContainsAny(o, " \t") || strings.Count(o, "/") > 1 {
				c.errorf(index(join(key, "owners"), j), "invalid owner %q: use a login or org/team-slug", o)
			}
		}
		if p.Approvals < 1 {
			c.errorf(join(key, "approvals"), "must be at least 1, got %d", p.Approvals)
		}
		oneOf(c, join(key, "enforcement"), p.Enforcement, "mandatory", "advisory")
		checkGlobs(c, join(key, "repos"), p.Repos)
		checkGlobs(c, join(key, "projects"), p.Projects)
		oneOf(c, join(key, "format"), p.Format, PolicyFormatAtoll, PolicyFormatConftest)
		if len(p.Namespaces) > 0 && p.Format != PolicyFormatConftest {
			c.errorf(join(key, "namespaces"), "only a set with format conftest reads namespaces (rules of format atoll live in package atoll)")
		}
		for j, ns := range p.Namespaces {
			if !regoPackageRE.MatchString(ns) {
				c.errorf(index(join(key, "namespaces"), j), "invalid Rego package %q: use names such as main or terraform.aws", ns)
			}
		}
	}
}

func (s Server) validateDrift(c checker) {
	d := s.Drift
	if d.Schedule == "" {
		if d.Enabled {
			c.errorf("drift.schedule", "required when drift detection is enabled")
		}
	} else if _, err := ParseSchedule(d.Schedule); err != nil {
		c.errorf("drift.schedule", "%v", err)
	}
	oneOf(c, "drift.mode", d.Mode, "plan", "refresh-only")
	if d.Jitter < 0 {
		c.errorf("drift.jitter", "must not be negative")
	}
	if d.Concurrency < 1 {
		c.errorf("drift.concurrency", "must be at least 1, got %d", d.Concurrency)
	}
}

// ParseSchedule parses a drift schedule: a standard 5-field cron expression
// ("0 3 * * 1-5") or a descriptor (@yearly, @monthly, @weekly, @daily,
// @hourly, @every DURATION of at least a minute), optionally prefixed by
// CRON_TZ=Zone.
func ParseSchedule(spec string) (cron.Schedule, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("invalid cron schedule %q (%v): use 5 fields (minute hour day month weekday) or @hourly, @daily, @weekly, @every 6h", spec, err)
	}
	if every, ok := sched.(cron.ConstantDelaySchedule); ok && every.Delay < time.Minute {
		return nil, fmt.Errorf("invalid cron schedule %q: @every needs a positive interval of at least 1m", spec)
	}
	return sched, nil
}

var (
	envNameRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	nameRE        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	regoPackageRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
	teamRE        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+$`)
)

func knownRequirement(r Requirement) bool {
	for _, k := range Requirements {
		if r == k {
			return true
		}
	}
	return false
}

func requirementNames() string {
	parts := make([]string, len(Requirements))
	for i, r := range Requirements {
		parts[i] = string(r)
	}
	return strings.Join(parts, ", ")
}

func oneOf(c checker, key, value string, allowed ...string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	c.unknownValue(key, value, allowed...)
}

func checkURL(c checker, key, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.errorf(key, "invalid URL %q: give an absolute http:// or https:// URL", raw)
	}
}

func checkConstraint(c checker, key, constraint string) {
	if constraint == "" {
		return
	}
	if _, err := version.NewConstraint(constraint); err != nil {
		c.report(key, FieldError{Kind: KindInvalidConstraint, Value: constraint, Message: fmt.Sprintf("invalid version constraint %q: use a version (1.5.7) or a constraint (~> 1.9, >= 1.6)", constraint)})
	}
}

func checkTeams(c checker, key string, teams []string) {
	for i, t := range teams {
		if !teamRE.MatchString(t) {
			c.report(index(key, i), FieldError{Kind: KindInvalidTeam, Value: t, Message: fmt.Sprintf("invalid team %q: use org/team-slug", t)})
		}
	}
}

func checkGlobs(c checker, key string, globs []string) {
	for i, g := range globs {
		if err := discovery.ValidGlob(g); err != nil {
			c.badGlob(index(key, i), err)
		}
	}
}

func checkReviewerRules(c checker, key string, rules []ReviewerRule) {
	for i, r := range rules {
		k := index(key, i)
		if len(r.Teams) == 0 {
			c.report(join(k, "teams"), FieldError{Kind: KindTeamsRequired, Message: "required: at least one org/team-slug"})
		}
		checkTeams(c, join(k, "teams"), r.Teams)
		checkGlobs(c, join(k, "paths"), r.Paths)
		if r.Count < 1 {
			c.report(join(k, "count"), FieldError{Kind: KindCountTooSmall, Count: r.Count, Message: fmt.Sprintf("must be at least 1, got %d", r.Count)})
		}
	}
}
