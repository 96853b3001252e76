package runner

import (
	"context"
	"path/filepath"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/vcs"
)

// The repository configuration and project discovery are
// runner/projects'. The wrappers below keep the root's callers as they
// were; a cleanup after the split calls projects directly.

// RepoConfigFile is the repository configuration's path at the repo root.
const RepoConfigFile = projects.RepoConfigFile

type (
	RepoConfig        = projects.RepoConfig
	ConfiguredProject = projects.ConfiguredProject
	configError       = projects.ConfigError
	affected          = projects.Affected
)

// projects is the runner's project loader: its code host, mirrors,
// server configuration and work directory.
func (r *Runner) projects() *projects.Loader {
	return &projects.Loader{Host: r.host, Git: r.git, Server: r.srv,
		WorkDir: filepath.Join(r.cfg.DataDir, "work"), Log: r.log}
}

func (r *Runner) repoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (RepoConfig, error) {
	return r.projects().RepoConfig(ctx, repo, ref, base)
}

func (r *Runner) affectedProjects(ctx context.Context, pr vcs.PullRequest) ([]affected, RepoConfig, error) {
	return r.projects().Affected(ctx, pr)
}

func (r *Runner) allProjects(ctx context.Context, repo vcs.Repo, sha string, rc RepoConfig) ([]Project, error) {
	return r.projects().All(ctx, repo, sha, rc)
}

func (r *Runner) fetchPR(ctx context.Context, pr vcs.PullRequest) error {
	return r.projects().FetchPR(ctx, pr)
}

func (r *Runner) effectiveRequirements(repo, base string, p config.Project) []string {
	return projects.EffectiveRequirements(r.srv, repo, base, p)
}

func filterProjects(ps []Project, name, dir, workspace string) []Project {
	return projects.Filter(ps, name, dir, workspace)
}

func requirementNames(reqs []config.Requirement) []string { return projects.RequirementNames(reqs) }

func firstBool(vs ...*bool) *bool { return projects.FirstBool(vs...) }

func short(sha string) string { return projects.Short(sha) }

// withDefaults is srv with the runner's defaults in its zero values.
func withDefaults(srv config.Server) config.Server { return srv.WithRunnerDefaults() }
