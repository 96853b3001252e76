package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/vcs"
)

// The repository configuration's types are runner/projects'.
const RepoConfigFile = projects.RepoConfigFile

type (
	RepoConfig        = projects.RepoConfig
	ConfiguredProject = projects.ConfiguredProject
	configError       = projects.ConfigError
	affected          = projects.Affected
)

// repoConfig reads and checks the repository configuration at ref for
// pull requests into base: atoll.yaml, else the Atlantis-style file the
// server's repo rules name (atlantis.yaml by default), else none.
func (r *Runner) repoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (RepoConfig, error) {
	return r.repoConfigFrom(repo, ref, base, func(name string) ([]byte, error) {
		return r.host.ReadFile(ctx, repo, ref, name)
	})
}

// repoConfigNames are the files repoConfig reads, in order.
func (r *Runner) repoConfigNames(repo vcs.Repo, base string) []string {
	return []string{RepoConfigFile, r.srv.RepoSettings(repo.FullName(), base).RepoConfigFile}
}

// repoConfigFrom is repoConfig with the files read by read, which
// returns vcs.ErrNotFound for a file the commit does not have.
func (r *Runner) repoConfigFrom(repo vcs.Repo, ref, base string, read func(name string) ([]byte, error)) (RepoConfig, error) {
	for _, name := range r.repoConfigNames(repo, base) {
		data, err := read(name)
		if errors.Is(err, vcs.ErrNotFound) {
			continue
		}
		if err != nil {
			return RepoConfig{}, fmt.Errorf("read %s at %s: %w", name, short(ref), err)
		}
		rc, err := r.parseRepoConfig(repo.FullName(), base, name, data)
		if err != nil {
			var ce *configError
			if errors.As(err, &ce) {
				ce.Commit = ref
			}
			return RepoConfig{}, err
		}
		rc.Present, rc.File = true, name
		return rc, nil
	}
	// No file: the server's requirements, as its repo rules set them for
	// this repository.
	return RepoConfig{Defaults: r.effectiveRequirements(repo.FullName(), base, config.Project{})}, nil
}

// affectedProjects finds the projects a PR changes, with their settings.
//
// The mirror is fetched first, and the repository configuration and the
// configuration files discovery reads come from its objects in one go
// (see withTree): no API call for the repository configuration.
func (r *Runner) affectedProjects(ctx context.Context, pr vcs.PullRequest) ([]affected, RepoConfig, error) {
	if err := r.fetchPR(ctx, pr); err != nil {
		return nil, RepoConfig{}, err
	}
	names := r.repoConfigNames(pr.Repo, pr.BaseRef)
	files := r.treeFiles(ctx, pr.Repo, pr.HeadSHA, func(p string) bool {
		return discovery.WantFile(p) || slices.Contains(names, p)
	})
	read := func(name string) ([]byte, error) { return r.host.ReadFile(ctx, pr.Repo, pr.HeadSHA, name) }
	if files != nil {
		read = func(name string) ([]byte, error) {
			data, ok := files[name]
			switch {
			case !ok:
				return nil, vcs.ErrNotFound
			case data == nil: // too large to be read from the objects
				return r.host.ReadFile(ctx, pr.Repo, pr.HeadSHA, name)
			}
			return data, nil
		}
	}
	rc, err := r.repoConfigFrom(pr.Repo, pr.HeadSHA, pr.BaseRef, read)
	if err != nil {
		return nil, rc, err
	}
	changed, err := facts.ChangedFiles(ctx, r.host, r.git, pr)
	if err != nil {
		return nil, rc, err
	}
	var found []affected
	if files != nil {
		found, err = r.discoverChanged(ctx, commitTree{files: files}, changed, rc)
		return found, rc, err
	}
	err = r.withWorktree(ctx, pr.Repo, pr.HeadSHA, func(root string) error {
		found, err = r.discoverChanged(ctx, commitTree{root: root}, changed, rc)
		return err
	})
	return found, rc, err
}

// treeFiles is the files of sha that want accepts, read from the
// mirror's objects, or nil when Git cannot read them so (see withTree).
func (r *Runner) treeFiles(ctx context.Context, repo vcs.Repo, sha string, want func(path string) bool) map[string][]byte {
	tr, ok := r.git.(treeReader)
	if !ok {
		return nil
	}
	files, err := tr.TreeFiles(ctx, repo, sha, want, maxDiscoveryFile)
	if err != nil {
		r.log.Debug("discovery needs a checkout", "repo", repo.FullName(), "sha", short(sha), "err", err)
		return nil
	}
	return files
}

// allProjects lists every project of the repository at sha.
func (r *Runner) allProjects(ctx context.Context, repo vcs.Repo, sha string, rc RepoConfig) ([]Project, error) {
	var out []Project
	err := r.withTree(ctx, repo, sha, func(tree commitTree) error {
		var err error
		out, err = r.discoverAll(ctx, tree, rc)
		return err
	})
	return out, err
}

// treeReader is the optional part of Git that reads a commit's files
// from the mirror's objects: vcs/git's *Mirrors has it.
type treeReader interface {
	TreeFiles(ctx context.Context, repo vcs.Repo, sha string, want func(path string) bool, maxSize int64) (map[string][]byte, error)
}

// maxDiscoveryFile is the size above which discovery does not scan a
// configuration file for module calls (as runner/discovery does in a
// checkout).
const maxDiscoveryFile = 8 << 20

// withTree gives fn the commit sha to discover in: its configuration
// files read from the mirror's objects, without a checkout (an event's
// discovery then costs two git commands instead of a worktree added and
// removed), or, when Git cannot read them so (a linked configuration
// file), a temporary worktree.
func (r *Runner) withTree(ctx context.Context, repo vcs.Repo, sha string, fn func(tree commitTree) error) error {
	if files := r.treeFiles(ctx, repo, sha, discovery.WantFile); files != nil {
		return fn(commitTree{files: files})
	}
	return r.withWorktree(ctx, repo, sha, func(root string) error { return fn(commitTree{root: root}) })
}

// withWorktree checks sha out into a temporary worktree for fn.
func (r *Runner) withWorktree(ctx context.Context, repo vcs.Repo, sha string, fn func(root string) error) error {
	if err := os.MkdirAll(filepath.Join(r.cfg.DataDir, "work"), 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(filepath.Join(r.cfg.DataDir, "work"), "tree-")
	if err != nil {
		return err
	}
	_ = os.Remove(dir) // git worktree add wants to create it
	if err := r.git.Worktree(ctx, repo, sha, dir); err != nil {
		return fmt.Errorf("check out %s: %w", short(sha), err)
	}
	defer func() {
		if err := r.git.RemoveWorktree(context.WithoutCancel(ctx), repo, dir); err != nil {
			r.log.Warn("remove worktree", "dir", dir, "err", err)
		}
	}()
	return fn(dir)
}

// commitChecker is the optional part of Git that spares a fetch: vcs/git's
// *Mirrors has it.
type commitChecker interface {
	HasCommits(ctx context.Context, repo vcs.Repo, shas ...string) (bool, error)
}

// fetchPR brings the PR's head and the branches into the repo's mirror,
// unless the mirror already holds the PR's head and base commits: then
// the fetch an event made for its discovery serves its jobs, and a job
// starts without a second round trip to GitHub.
func (r *Runner) fetchPR(ctx context.Context, pr vcs.PullRequest) error {
	if cc, ok := r.git.(commitChecker); ok && pr.HeadSHA != "" && pr.BaseSHA != "" {
		if has, err := cc.HasCommits(ctx, pr.Repo, pr.HeadSHA, pr.BaseSHA); err == nil && has {
			r.log.Debug("mirror holds the pull request's commits: no fetch", "repo", pr.Repo.FullName(), "pr", pr.Number)
			return nil
		}
	}
	spec := fmt.Sprintf("+refs/pull/%d/head:refs/pull/%d/head", pr.Number, pr.Number)
	if err := r.git.Fetch(ctx, pr.Repo, spec); err != nil {
		return fmt.Errorf("fetch #%d: %w", pr.Number, err)
	}
	return nil
}

// filterProjects keeps the projects a command's -p, -d and -w select.
func filterProjects(ps []Project, name, dir, workspace string) []Project {
	var out []Project
	for _, p := range ps {
		if name != "" && p.Name != name {
			continue
		}
		if dir != "" && filepath.Clean(p.Dir) != filepath.Clean(dir) {
			continue
		}
		if workspace != "" && p.Workspace != workspace {
			continue
		}
		out = append(out, p)
	}
	return out
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
