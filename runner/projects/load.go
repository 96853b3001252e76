package projects

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// Host is the part of the code host a Loader reads: one file of a
// commit (vcs.ErrNotFound when the commit has none), and the files a
// pull request changes.
type Host interface {
	ReadFile(ctx context.Context, repo vcs.Repo, ref, path string) ([]byte, error)
	facts.FileLister
}

// Git is the part of the repository mirrors a Loader uses: fetching a
// pull request, checking a commit out into a temporary worktree, and
// the changed files when the code host's list is incomplete.
type Git interface {
	Fetch(ctx context.Context, repo vcs.Repo, refspecs ...string) error
	Worktree(ctx context.Context, repo vcs.Repo, sha, dest string) error
	RemoveWorktree(ctx context.Context, repo vcs.Repo, dest string) error
	facts.Differ
}

// TreeReader is the optional part of Git that reads a commit's files
// from the mirror's objects: vcs/git's *Mirrors has it.
type TreeReader interface {
	TreeFiles(ctx context.Context, repo vcs.Repo, sha string, want func(path string) bool, maxSize int64) (map[string][]byte, error)
}

// CommitChecker is the optional part of Git that spares a fetch: vcs/git's
// *Mirrors has it.
type CommitChecker interface {
	HasCommits(ctx context.Context, repo vcs.Repo, shas ...string) (bool, error)
}

// CommitFetcher is the optional part of Git that fetches commits by id,
// without the listing of the remote's refs a fetch of branches needs:
// vcs/git's *Mirrors has it.
type CommitFetcher interface {
	FetchCommits(ctx context.Context, repo vcs.Repo, refspecs ...string) error
}

// fullSHA is a full commit id, which FetchCommits asks for.
var fullSHA = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

// MergePreparer is the optional part of Git that makes a pull request's
// merge worktree ahead of its job, for the job's checkout to take over:
// vcs/git's *Mirrors has it.
type MergePreparer interface {
	PrepareMerge(ctx context.Context, repo vcs.Repo, baseSHA, headSHA string)
}

// Loader reads repository configurations and finds projects. Its zero
// value is not usable: Host, Git and WorkDir are required.
type Loader struct {
	Host Host
	Git  Git
	// Server is the server configuration, whose repo rules check a
	// repository's file and give the requirements it does not set.
	Server config.Server
	// WorkDir is where temporary worktrees are made (created if missing).
	WorkDir string
	// Log gets debug lines and warnings; nil: slog's default.
	Log *slog.Logger
}

func (l *Loader) log() *slog.Logger {
	if l.Log == nil {
		return slog.Default()
	}
	return l.Log
}

// MaxDiscoveryFile is the size above which discovery does not scan a
// configuration file for module calls (as runner/discovery does in a
// checkout).
const MaxDiscoveryFile = 8 << 20

// RepoConfig reads and checks the repository configuration at ref for
// pull requests into base: atoll.yaml, else the Atlantis-style file the
// server's repo rules name (atlantis.yaml by default), else none. A
// broken file is a *ConfigError.
func (l *Loader) RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (RepoConfig, error) {
	return l.repoConfigFrom(repo, ref, base, func(name string) ([]byte, error) {
		return l.Host.ReadFile(ctx, repo, ref, name)
	})
}

// configNames are the files RepoConfig reads, in order.
func (l *Loader) configNames(repo vcs.Repo, base string) []string {
	return []string{RepoConfigFile, l.Server.RepoSettings(repo.FullName(), base).RepoConfigFile}
}

// repoConfigFrom is RepoConfig with the files read by read, which
// returns vcs.ErrNotFound for a file the commit does not have.
func (l *Loader) repoConfigFrom(repo vcs.Repo, ref, base string, read func(name string) ([]byte, error)) (RepoConfig, error) {
	for _, name := range l.configNames(repo, base) {
		data, err := read(name)
		if errors.Is(err, vcs.ErrNotFound) {
			continue
		}
		if err != nil {
			return RepoConfig{}, fmt.Errorf("read %s at %s: %w", name, Short(ref), err)
		}
		rc, err := Parse(l.Server, repo.FullName(), base, name, data)
		if err != nil {
			var ce *ConfigError
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
	return RepoConfig{Defaults: EffectiveRequirements(l.Server, repo.FullName(), base, config.Project{})}, nil
}

// Affected finds the projects pull request pr changes, with their
// settings, and the repository configuration at its head.
//
// The mirror is fetched first (see FetchPR), and the repository
// configuration and the configuration files discovery reads come from
// its objects in one go: no API call for the repository configuration.
func (l *Loader) Affected(ctx context.Context, pr vcs.PullRequest) ([]Affected, RepoConfig, error) {
	if err := l.FetchPR(ctx, pr); err != nil {
		return nil, RepoConfig{}, err
	}
	names := l.configNames(pr.Repo, pr.BaseRef)
	files := l.treeFiles(ctx, pr.Repo, pr.HeadSHA, func(p string) bool {
		return discovery.WantFile(p) || slices.Contains(names, p)
	})
	read := func(name string) ([]byte, error) { return l.Host.ReadFile(ctx, pr.Repo, pr.HeadSHA, name) }
	if files != nil {
		read = func(name string) ([]byte, error) {
			data, ok := files[name]
			switch {
			case !ok:
				return nil, vcs.ErrNotFound
			case data == nil: // too large to be read from the objects
				return l.Host.ReadFile(ctx, pr.Repo, pr.HeadSHA, name)
			}
			return data, nil
		}
	}
	rc, err := l.repoConfigFrom(pr.Repo, pr.HeadSHA, pr.BaseRef, read)
	if err != nil {
		return nil, rc, err
	}
	changed, err := facts.ChangedFiles(ctx, l.Host, l.Git, pr)
	if err != nil {
		return nil, rc, err
	}
	var found []Affected
	if files != nil {
		found, err = discoverChanged(ctx, commitTree{files: files}, changed, rc)
	} else {
		err = l.withWorktree(ctx, pr.Repo, pr.HeadSHA, func(root string) error {
			found, err = discoverChanged(ctx, commitTree{root: root}, changed, rc)
			return err
		})
	}
	if err == nil && len(found) > 0 {
		l.prepareMerge(ctx, pr)
	}
	return found, rc, err
}

// prepareMerge starts making the merge worktree the plans of an open pull
// request's projects will check out, while their run is stored and their
// jobs are queued and claimed: the first job takes it over (see vcs/git
// PrepareMerge) rather than making it on its way to terraform.
func (l *Loader) prepareMerge(ctx context.Context, pr vcs.PullRequest) {
	mp, ok := l.Git.(MergePreparer)
	if !ok || l.Server.CheckoutStrategy == "branch" || pr.Merged || (pr.State != "" && pr.State != "open") || pr.BaseSHA == "" || pr.HeadSHA == "" {
		return
	}
	mp.PrepareMerge(ctx, pr.Repo, pr.BaseSHA, pr.HeadSHA)
}

// All lists every project of the repository at sha, configured by rc.
func (l *Loader) All(ctx context.Context, repo vcs.Repo, sha string, rc RepoConfig) ([]records.Project, error) {
	var out []records.Project
	err := l.withTree(ctx, repo, sha, func(tree commitTree) error {
		var err error
		out, err = discoverAll(ctx, tree, rc)
		return err
	})
	return out, err
}

// treeFiles is the files of sha that want accepts, read from the
// mirror's objects, or nil when Git cannot read them so (see withTree).
func (l *Loader) treeFiles(ctx context.Context, repo vcs.Repo, sha string, want func(path string) bool) map[string][]byte {
	tr, ok := l.Git.(TreeReader)
	if !ok {
		return nil
	}
	files, err := tr.TreeFiles(ctx, repo, sha, want, MaxDiscoveryFile)
	if err != nil {
		l.log().Debug("discovery needs a checkout", "repo", repo.FullName(), "sha", Short(sha), "err", err)
		return nil
	}
	return files
}

// withTree gives fn the commit sha to discover in: its configuration
// files read from the mirror's objects, without a checkout (an event's
// discovery then costs two git commands instead of a worktree added and
// removed), or, when Git cannot read them so (a linked configuration
// file), a temporary worktree.
func (l *Loader) withTree(ctx context.Context, repo vcs.Repo, sha string, fn func(tree commitTree) error) error {
	if files := l.treeFiles(ctx, repo, sha, discovery.WantFile); files != nil {
		return fn(commitTree{files: files})
	}
	return l.withWorktree(ctx, repo, sha, func(root string) error { return fn(commitTree{root: root}) })
}

// withWorktree checks sha out into a temporary worktree for fn.
func (l *Loader) withWorktree(ctx context.Context, repo vcs.Repo, sha string, fn func(root string) error) error {
	if err := os.MkdirAll(l.WorkDir, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(l.WorkDir, "tree-")
	if err != nil {
		return err
	}
	_ = os.Remove(dir) // git worktree add wants to create it
	if err := l.Git.Worktree(ctx, repo, sha, dir); err != nil {
		return fmt.Errorf("check out %s: %w", Short(sha), err)
	}
	defer func() {
		if err := l.Git.RemoveWorktree(context.WithoutCancel(ctx), repo, dir); err != nil {
			l.log().Warn("remove worktree", "dir", dir, "err", err)
		}
	}()
	return fn(dir)
}

// FetchPR brings the PR's head and base into the repo's mirror, unless
// the mirror already holds both commits: then the fetch an event made for
// its discovery serves its jobs, and a job starts without a second round
// trip to GitHub. It asks for the two commits by id (see CommitFetcher),
// and fetches the branches and the PR's head ref as before when the
// remote refuses that.
func (l *Loader) FetchPR(ctx context.Context, pr vcs.PullRequest) error {
	if cc, ok := l.Git.(CommitChecker); ok && pr.HeadSHA != "" && pr.BaseSHA != "" {
		if has, err := cc.HasCommits(ctx, pr.Repo, pr.HeadSHA, pr.BaseSHA); err == nil && has {
			l.log().Debug("mirror holds the pull request's commits: no fetch", "repo", pr.Repo.FullName(), "pr", pr.Number)
			return nil
		}
	}
	if cf, ok := l.Git.(CommitFetcher); ok && fullSHA.MatchString(pr.HeadSHA) && fullSHA.MatchString(pr.BaseSHA) {
		err := cf.FetchCommits(ctx, pr.Repo, fmt.Sprintf("+%s:refs/pull/%d/head", pr.HeadSHA, pr.Number), pr.BaseSHA)
		if err == nil {
			return nil
		}
		l.log().Debug("fetch by commit id refused: fetching the branches", "repo", pr.Repo.FullName(), "pr", pr.Number, "err", err)
	}
	spec := fmt.Sprintf("+refs/pull/%d/head:refs/pull/%d/head", pr.Number, pr.Number)
	if err := l.Git.Fetch(ctx, pr.Repo, spec); err != nil {
		return fmt.Errorf("fetch #%d: %w", pr.Number, err)
	}
	return nil
}

// Filter keeps the projects a command's -p, -d and -w select; an empty
// name, dir or workspace selects every value.
func Filter(ps []records.Project, name, dir, workspace string) []records.Project {
	var out []records.Project
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

// Short is a commit's abbreviation: its first seven characters.
func Short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
