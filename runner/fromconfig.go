package runner

import (
	"os"
	"path"

	"github.com/atollhq/atoll/runner/config"
)

// SettingsFrom turns the server configuration into the runner's settings.
// Values of the environment variables named in terraform.secrets_env are
// read here; they and the terraform.env values marked secret are
// Settings.Terraform.Secrets, masked everywhere.
func SettingsFrom(srv config.Server) Settings {
	s := Settings{
		RepoAllowed:       srv.RepoAllowed,
		AllowForkPRs:      srv.AllowForkPRs,
		AllowDraftPRs:     srv.AllowDraftPRs,
		CheckoutStrategy:  srv.CheckoutStrategy,
		Workers:           srv.Workers,
		ApplyMode:         string(srv.ApplyMode),
		Approvals:         srv.Approvals,
		DismissStale:      srv.DismissStaleApprovals,
		Automerge:         srv.Automerge.Enabled,
		MergeMethod:       srv.Automerge.Method,
		ReconcileInterval: srv.ReconcileInterval,
		InboxRetention:    srv.InboxRetention,
		SummaryOnly:       srv.SummaryOnly,
		CodeOwners:        srv.CodeOwners,
		Terraform: TerraformSettings{
			Distribution:   srv.Terraform.Distribution,
			Version:        srv.Terraform.Version,
			Binary:         srv.Terraform.Binary,
			CLIConfigFile:  srv.Terraform.CLIConfigFile,
			PluginCacheDir: srv.Terraform.PluginCacheDir,
			ReleasesURL:    srv.Terraform.ReleasesURL,
			Env:            map[string]string{},
		},
		Drift: DriftSettings{
			Enabled: srv.Drift.Enabled, Schedule: srv.Drift.Schedule, Mode: srv.Drift.Mode,
			Jitter: srv.Drift.Jitter, Concurrency: srv.Drift.Concurrency, RepoOverride: srv.Drift.RepoOverride,
			AutoRemediateRepos: srv.Drift.AutoRemediateRepos, RemediateAloneTeams: srv.Drift.RemediateAloneTeams,
		},
		Permissions: map[string]CommandPermission{},
		Workflows:   Workflows{Named: srv.Workflows, HasRules: len(srv.RepoRules) > 0, RepoSettings: srv.RepoSettings},
		Commands: Commands{
			Aliases: srv.CommandAliases, CommandAllowed: srv.CommandAllowed, AllowedCommands: srv.AllowCommands,
			DisableApply: srv.DisableApply, ApplyPartial: !srv.ApplyAllOrNothing, QuietPolicyChecks: srv.QuietPolicyChecks,
			JobTimeout: srv.JobTimeout,
		},
	}
	for _, r := range srv.ApplyRequirements {
		s.ApplyRequirements = append(s.ApplyRequirements, string(r))
	}
	for k, v := range srv.Terraform.Env {
		s.Terraform.Env[k] = v.Value
		if v.Secret {
			s.Terraform.Secrets = append(s.Terraform.Secrets, v.Value)
		}
	}
	for _, name := range srv.Terraform.SecretsEnv {
		if v, ok := os.LookupEnv(name); ok {
			s.Terraform.Env[name] = v
			s.Terraform.Secrets = append(s.Terraform.Secrets, v)
		}
	}
	for _, cmd := range []string{"plan", "apply", "unlock", "approve_policies"} {
		if p, ok := srv.Permissions.For(cmd); ok {
			s.Permissions[cmd] = CommandPermission{Level: p.Permission, Teams: p.Teams}
		}
	}
	for _, rule := range srv.RequiredReviewers {
		s.RequiredReviewers = append(s.RequiredReviewers, ReviewerRule{Paths: rule.Paths, Teams: rule.Teams, Count: rule.Count})
	}
	return s
}

// RepoConfigFuncs are the Config.ParseRepo, Config.Requirements and
// Config.AtlantisFile of a server configuration: each applies the server's
// repo_rules for the repository and base branch.
func RepoConfigFuncs(srv config.Server) (
	parse func(repo, base, filename string, data []byte) (config.Repo, error),
	reqs func(repo, base string, p config.Project) []string,
	atlantisFile func(repo, base string) string,
) {
	parse = func(repo, base, name string, data []byte) (config.Repo, error) {
		if path.Base(name) == config.RepoFile {
			return config.ParseRepo(name, data, srv.ForRepo(repo, base))
		}
		return config.ParseAtlantis(name, data, srv.ForRepo(repo, base))
	}
	reqs = func(repo, base string, p config.Project) []string {
		var out []string
		for _, r := range p.EffectiveApplyRequirements(srv.ForRepo(repo, base)) {
			out = append(out, string(r))
		}
		return out
	}
	atlantisFile = func(repo, base string) string { return srv.RepoSettings(repo, base).RepoConfigFile }
	return parse, reqs, atlantisFile
}
