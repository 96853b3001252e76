// Package git keeps one bare mirror per repository and hands out a
// worktree per job at an exact commit: never a full clone per pull
// request. It runs the git binary.
//
// The installation token reaches git only as an HTTP Authorization header
// set through GIT_CONFIG_COUNT/GIT_CONFIG_KEY_n/GIT_CONFIG_VALUE_n in the
// child's environment: never in argv (so never in /proc/PID/cmdline), a
// URL, the mirror's config, a log line or an error (errors quote git's
// output with the token scrubbed). No global git configuration is needed.
package git

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/atollhq/atoll/vcs"
)

// Committer is the identity of the merge commits MergeWorktree makes.
const (
	CommitterName  = "atoll"
	CommitterEmail = "atoll@localhost"
)

// ErrMergeConflict is wrapped by MergeWorktree when head does not merge
// cleanly into base.
var ErrMergeConflict = errors.New("git: merge conflict")

// ErrCommitMissing is wrapped by Worktree and MergeWorktree when the
// mirror lacks a commit: fetch it (or make the merge again) first. It is
// vcs.ErrCommitMissing.
var ErrCommitMissing = vcs.ErrCommitMissing

// Mirrors manages the bare mirrors under Dir (Dir/owner/name.git, lower
// case). Set the exported fields before first use; the zero value of the
// rest is ready. Safe for concurrent use: fetches and worktree additions
// and removals of one repository are serialised.
type Mirrors struct {
	// Dir holds the mirrors.
	Dir string
	// Token returns the token for repo's remote; nil or "" means no
	// authentication.
	Token func(ctx context.Context, repo vcs.Repo) (string, error)
	// CloneURL returns repo's HTTPS URL (without credentials); default
	// "https://github.com/owner/name.git".
	CloneURL func(repo vcs.Repo) string
	Logger   *slog.Logger

	mu       sync.Mutex
	locks    map[string]*sync.Mutex
	prepared map[preparedKey]*preparedMerge // see PrepareMerge
	// preparedTTL replaces the constant's when set (tests).
	fetches     map[string]int // FetchCommits calls per mirror path, for maintenanceDue
	preparedTTL time.Duration
	// sweepOnce removes, once per process, the prepared worktrees a
	// stopped one left.
	sweepOnce sync.Once
}

// lock returns the mutex of repo's mirror, locked.
func (m *Mirrors) lock(path string) func() {
	m.mu.Lock()
	if m.locks == nil {
		m.locks = make(map[string]*sync.Mutex)
	}
	l, ok := m.locks[path]
	if !ok {
		l = &sync.Mutex{}
		m.locks[path] = l
	}
	m.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (m *Mirrors) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

// validName is what GitHub allows in an owner or repository name.
var validName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// MirrorPath returns where repo's bare mirror lives.
func (m *Mirrors) MirrorPath(repo vcs.Repo) (string, error) {
	if m.Dir == "" {
		return "", errors.New("git: Mirrors.Dir is not set")
	}
	for _, part := range []string{repo.Owner, repo.Name} {
		if !validName.MatchString(part) || part == "." || part == ".." {
			return "", fmt.Errorf("git: invalid repository name %q", repo.FullName())
		}
	}
	return filepath.Join(m.Dir, strings.ToLower(repo.Owner), strings.ToLower(repo.Name)+".git"), nil
}

func (m *Mirrors) cloneURL(repo vcs.Repo) string {
	if m.CloneURL != nil {
		return m.CloneURL(repo)
	}
	return "https://github.com/" + repo.Owner + "/" + repo.Name + ".git"
}

// validRefspec accepts refspecs such as "+refs/pull/7/head:refs/pull/7/head".
var validRefspec = regexp.MustCompile(`^\+?refs/[A-Za-z0-9_./*-]+(:refs/[A-Za-z0-9_./*-]+)?$`)

// Fetch brings repo's mirror up to date: every branch
// (+refs/heads/*:refs/heads/*, pruned) and the extra refspecs, for example
// "+refs/pull/7/head:refs/pull/7/head". The first fetch creates the mirror;
// later ones are incremental.
func (m *Mirrors) Fetch(ctx context.Context, repo vcs.Repo, refspecs ...string) error {
	path, err := m.MirrorPath(repo)
	if err != nil {
		return err
	}
	for _, rs := range refspecs {
		if !validRefspec.MatchString(rs) || strings.Contains(rs, "..") {
			return fmt.Errorf("git: fetch %s: invalid refspec %q", repo.FullName(), rs)
		}
	}
	token := ""
	if m.Token != nil {
		if token, err = m.Token(ctx, repo); err != nil {
			return fmt.Errorf("git: fetch %s: token: %w", repo.FullName(), err)
		}
	}
	unlock := m.lock(path)
	defer unlock()
	if err := m.ensureMirror(ctx, path); err != nil {
		return fmt.Errorf("git: fetch %s: %w", repo.FullName(), err)
	}
	args := []string{"fetch", "--prune", "--no-tags", "--no-write-fetch-head", "--quiet", "--", m.cloneURL(repo), "+refs/heads/*:refs/heads/*"}
	args = append(args, refspecs...)
	if _, err := m.run(ctx, command{dir: path, args: args, token: token}); err != nil {
		if strings.Contains(err.Error(), "could not read Username") || strings.Contains(err.Error(), "Authentication failed") {
			return fmt.Errorf("git: fetch %s: the remote refused the credentials: %w", repo.FullName(), err)
		}
		return fmt.Errorf("git: fetch %s: %w", repo.FullName(), err)
	}
	m.logger().Info("fetched mirror", "repo", repo.FullName(), "refspecs", len(refspecs)+1)
	return nil
}

// validCommitRefspec accepts "<full sha>" and "+<full sha>:refs/...".
var validCommitRefspec = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64}|\+?(?:[0-9a-f]{40}|[0-9a-f]{64}):refs/[A-Za-z0-9_./-]+)$`)

// FetchCommits brings the commits refspecs name by full id into repo's
// mirror: "<sha>" fetches the commit alone, "+<sha>:refs/pull/7/head"
// also points that ref at it. Asking for commits by id lets the remote
// skip its listing of refs (git's protocol v2: one HTTP request fewer
// than Fetch); the branches are not updated. A remote that refuses
// requests for unadvertised commits (GitHub allows reachable ones) makes
// it fail: use Fetch then.
func (m *Mirrors) FetchCommits(ctx context.Context, repo vcs.Repo, refspecs ...string) error {
	path, err := m.MirrorPath(repo)
	if err != nil {
		return err
	}
	if len(refspecs) == 0 {
		return fmt.Errorf("git: fetch commits of %s: none named", repo.FullName())
	}
	for _, rs := range refspecs {
		if !validCommitRefspec.MatchString(rs) || strings.Contains(rs, "..") {
			return fmt.Errorf("git: fetch commits of %s: invalid refspec %q", repo.FullName(), rs)
		}
	}
	token := ""
	if m.Token != nil {
		if token, err = m.Token(ctx, repo); err != nil {
			return fmt.Errorf("git: fetch commits of %s: token: %w", repo.FullName(), err)
		}
	}
	unlock := m.lock(path)
	defer unlock()
	if err := m.ensureMirror(ctx, path); err != nil {
		return fmt.Errorf("git: fetch commits of %s: %w", repo.FullName(), err)
	}
	args := []string{"-c", "protocol.version=2"}
	if !m.maintenanceDue(path) {
		// git's automatic maintenance after a fetch (a process that
		// mostly finds nothing to do) runs every maintenanceEvery
		// fetches of a mirror, not on each event's way to its plans.
		args = append(args, "-c", "maintenance.auto=false")
	}
	args = append(args, "fetch", "--no-tags", "--no-write-fetch-head", "--quiet", "--", m.cloneURL(repo))
	args = append(args, refspecs...)
	if _, err := m.run(ctx, command{dir: path, args: args, token: token}); err != nil {
		return fmt.Errorf("git: fetch commits of %s: %w", repo.FullName(), err)
	}
	m.logger().Info("fetched commits", "repo", repo.FullName(), "commits", len(refspecs))
	return nil
}

// maintenanceEvery is how many of a mirror's FetchCommits calls there
// are for one that lets git run its automatic maintenance (Fetch always
// does).
const maintenanceEvery = 8

// maintenanceDue counts a FetchCommits of the mirror at path (locked) and
// reports whether this one runs git's automatic maintenance: the first
// of a process, then every maintenanceEvery-th.
func (m *Mirrors) maintenanceDue(path string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fetches == nil {
		m.fetches = make(map[string]int)
	}
	n := m.fetches[path]
	m.fetches[path] = n + 1
	return n%maintenanceEvery == 0
}

// ensureMirror creates an empty bare repository at path if none is there.
func (m *Mirrors) ensureMirror(ctx context.Context, path string) error {
	if _, err := os.Stat(filepath.Join(path, "HEAD")); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create mirror directory: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".init-*")
	if err != nil {
		return fmt.Errorf("create mirror: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, err := m.run(ctx, command{args: []string{"init", "--bare", "--quiet", tmp}}); err != nil {
		return fmt.Errorf("create mirror: %w", err)
	}
	// Objects only ever arrive by fetch; gc in the background as usual.
	if _, err := m.run(ctx, command{dir: tmp, args: []string{"config", "core.logAllRefUpdates", "false"}}); err != nil {
		return fmt.Errorf("create mirror: %w", err)
	}
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("create mirror: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("create mirror: %w", err)
	}
	return nil
}

// validSHA is a full or abbreviated hex commit id.
var validSHA = regexp.MustCompile(`^[0-9a-fA-F]{4,64}$`)

func checkSHA(what, sha string) error {
	if !validSHA.MatchString(sha) {
		return fmt.Errorf("git: %s %q is not a commit sha", what, sha)
	}
	return nil
}

// validRev is a sha or a ref name such as "refs/pull/7/head" or "main".
var validRev = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./-]*$`)

func checkRev(what, rev string) error {
	if !validRev.MatchString(rev) || strings.Contains(rev, "..") {
		return fmt.Errorf("git: %s %q is not a commit sha or ref name", what, rev)
	}
	return nil
}

// HasCommits reports whether repo's mirror already holds every commit of
// shas (full or abbreviated ids), so that a caller that needs only those
// commits can skip a fetch: commits never change, so one fetched for an
// event's discovery serves its jobs too. No mirror yet: false.
func (m *Mirrors) HasCommits(ctx context.Context, repo vcs.Repo, shas ...string) (bool, error) {
	path, err := m.MirrorPath(repo)
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(filepath.Join(path, "HEAD")); err != nil {
		return false, nil
	}
	var in strings.Builder
	for _, sha := range shas {
		if err := checkSHA("sha", sha); err != nil {
			return false, err
		}
		in.WriteString(sha + "^{commit}\n")
	}
	if len(shas) == 0 {
		return true, nil
	}
	// One process for all of them: "<oid> commit <size>" for each found,
	// "<name> missing" (or "ambiguous") for any other.
	out, err := m.run(ctx, command{dir: path, args: []string{"cat-file", "--batch-check"}, stdin: strings.NewReader(in.String())})
	if err != nil {
		return false, fmt.Errorf("git: has commits (%s): %w", repo.FullName(), err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(shas) {
		return false, fmt.Errorf("git: has commits (%s): %d answers for %d commits", repo.FullName(), len(lines), len(shas))
	}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) != 3 || f[1] != "commit" {
			return false, nil
		}
	}
	return true, nil
}

// Worktree checks out sha (already fetched) into a new detached worktree
// at dest, which must not exist yet.
func (m *Mirrors) Worktree(ctx context.Context, repo vcs.Repo, sha, dest string) error {
	if err := checkSHA("sha", sha); err != nil {
		return err
	}
	path, err := m.MirrorPath(repo)
	if err != nil {
		return err
	}
	if dest, err = filepath.Abs(dest); err != nil {
		return err
	}
	unlock := m.lock(path)
	defer unlock()
	// One git command when the commit is there; a commit the mirror
	// lacks is told apart once worktree add has failed.
	if _, err := m.run(ctx, command{dir: path, args: []string{"worktree", "add", "--detach", "--quiet", dest, sha + "^{commit}"}}); err != nil {
		if _, cerr := m.run(ctx, command{dir: path, args: []string{"cat-file", "-e", sha + "^{commit}"}}); cerr != nil {
			return fmt.Errorf("git: worktree of %s at %s: %w (fetch first): %w", repo.FullName(), sha, ErrCommitMissing, cerr)
		}
		return fmt.Errorf("git: worktree of %s at %s: %w", repo.FullName(), sha, err)
	}
	return nil
}

// MergeWorktree checks out baseSHA into a new worktree at dest and merges
// headSHA into it (git merge --no-ff, as GitHub's merge commit would),
// committing as CommitterName <CommitterEmail> at a fixed date
// (mergeDate). It returns the merge commit's SHA, which depends only on
// the two commits (and the merge's result): every mirror, on every
// replica, makes the same merge commit of the same base and head. On a conflict it returns an error wrapping
// ErrMergeConflict and leaves dest at baseSHA; remove it with
// RemoveWorktree. When the mirror lacks base or head it returns an error
// wrapping ErrCommitMissing and leaves no worktree at dest. When
// PrepareMerge made this merge ahead, dest takes that worktree over.
func (m *Mirrors) MergeWorktree(ctx context.Context, repo vcs.Repo, baseSHA, headSHA, dest string) (string, error) {
	if err := checkSHA("head sha", headSHA); err != nil {
		return "", err
	}
	if err := checkSHA("base sha", baseSHA); err != nil {
		return "", err
	}
	path, err := m.MirrorPath(repo)
	if err != nil {
		return "", err
	}
	if dest, err = filepath.Abs(dest); err != nil {
		return "", err
	}
	if sha, ok := m.adoptPrepared(ctx, path, baseSHA, headSHA, dest); ok {
		return sha, nil
	}
	return m.mergeWorktree(ctx, repo, baseSHA, headSHA, dest)
}

// mergeWorktree is MergeWorktree making the merge.
func (m *Mirrors) mergeWorktree(ctx context.Context, repo vcs.Repo, baseSHA, headSHA, dest string) (string, error) {
	if err := m.Worktree(ctx, repo, baseSHA, dest); err != nil {
		return "", err
	}
	ident := []string{"-c", "user.name=" + CommitterName, "-c", "user.email=" + CommitterEmail}
	// No automatic maintenance after a merge: one process fewer per job;
	// the mirror's next fetch runs it.
	args := append(ident, "-c", "maintenance.auto=false", "-c", "gc.auto=0", "merge", "--no-ff", "--no-edit", "--quiet", headSHA)
	if _, err := m.run(ctx, command{dir: dest, args: args, fixedDates: true}); err != nil {
		conflicts, _ := m.run(ctx, command{dir: dest, args: []string{"diff", "--name-only", "--diff-filter=U"}})
		_, _ = m.run(ctx, command{dir: dest, args: []string{"merge", "--abort"}})
		if len(strings.TrimSpace(string(conflicts))) > 0 {
			files := strings.Fields(string(conflicts))
			return "", fmt.Errorf("%w: %s into %s (%s): %s", ErrMergeConflict, headSHA, baseSHA, repo.FullName(), strings.Join(files, ", "))
		}
		if _, cerr := m.run(ctx, command{dir: dest, args: []string{"cat-file", "-e", headSHA + "^{commit}"}}); cerr != nil {
			if rerr := m.RemoveWorktree(ctx, repo, dest); rerr != nil {
				return "", fmt.Errorf("git: merge %s into %s (%s): %w (fetch first), then %w", headSHA, baseSHA, repo.FullName(), ErrCommitMissing, rerr)
			}
			return "", fmt.Errorf("git: merge %s into %s (%s): %w (fetch first): %w", headSHA, baseSHA, repo.FullName(), ErrCommitMissing, cerr)
		}
		return "", fmt.Errorf("git: merge %s into %s (%s): %w", headSHA, baseSHA, repo.FullName(), err)
	}
	if sha, ok := detachedHead(dest); ok {
		return sha, nil
	}
	out, err := m.run(ctx, command{dir: dest, args: []string{"rev-parse", "HEAD"}})
	if err != nil {
		return "", fmt.Errorf("git: merge %s into %s (%s): %w", headSHA, baseSHA, repo.FullName(), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// validHead is the content of a detached HEAD file: a full object id.
var validHead = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})\n$`)

// detachedHead reads the commit a worktree's detached HEAD names from its
// files (the worktree's ".git" file names its git dir, whose HEAD holds
// the id: gitrepository-layout(5)), sparing a `git rev-parse HEAD`
// process on every job's way to terraform. ok is false when the files
// are not that simple shape; ask git then.
func detachedHead(worktree string) (sha string, ok bool) {
	dotGit, err := os.ReadFile(filepath.Join(worktree, ".git"))
	if err != nil {
		return "", false
	}
	gitDir, found := strings.CutPrefix(strings.TrimSuffix(string(dotGit), "\n"), "gitdir: ")
	if !found || !filepath.IsAbs(gitDir) || strings.ContainsAny(gitDir, "\n") {
		return "", false
	}
	head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil || !validHead.Match(head) {
		return "", false
	}
	return strings.TrimSpace(string(head)), true
}

// RemoveWorktree deletes the worktree at dest and its record in the
// mirror. A dest that is already gone is not an error.
func (m *Mirrors) RemoveWorktree(ctx context.Context, repo vcs.Repo, dest string) error {
	path, err := m.MirrorPath(repo)
	if err != nil {
		return err
	}
	if dest, err = filepath.Abs(dest); err != nil {
		return err
	}
	unlock := m.lock(path)
	defer unlock()
	if _, statErr := os.Stat(dest); statErr == nil {
		if _, err := m.run(ctx, command{dir: path, args: []string{"worktree", "remove", "--force", "--force", dest}}); err == nil {
			return nil // its record went with it: nothing to prune
		}
		// Not a registered worktree (or half made): remove the files.
		if rmErr := os.RemoveAll(dest); rmErr != nil {
			return fmt.Errorf("git: remove worktree %s: %w", dest, rmErr)
		}
	}
	if _, err := m.run(ctx, command{dir: path, args: []string{"worktree", "prune"}}); err != nil {
		return fmt.Errorf("git: remove worktree %s: %w", dest, err)
	}
	return nil
}

// ChangedFiles returns the paths changed between the merge base of base
// and head, and head (git diff base...head), as GitHub's PR diff shows
// them. A rename gives both paths. base and head are SHAs or ref names of
// the mirror.
func (m *Mirrors) ChangedFiles(ctx context.Context, repo vcs.Repo, base, head string) ([]string, error) {
	if err := checkRev("base", base); err != nil {
		return nil, err
	}
	if err := checkRev("head", head); err != nil {
		return nil, err
	}
	path, err := m.MirrorPath(repo)
	if err != nil {
		return nil, err
	}
	out, err := m.run(ctx, command{dir: path, args: []string{"diff", "--name-only", "--no-renames", "-z", base + "..." + head, "--"}})
	if err != nil {
		return nil, fmt.Errorf("git: changed files of %s %s...%s: %w", repo.FullName(), base, head, err)
	}
	files := []string{}
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// IsAncestor reports whether ancestor is an ancestor of (or equal to)
// descendant (SHAs or ref names of the mirror).
func (m *Mirrors) IsAncestor(ctx context.Context, repo vcs.Repo, ancestor, descendant string) (bool, error) {
	if err := checkRev("ancestor", ancestor); err != nil {
		return false, err
	}
	if err := checkRev("descendant", descendant); err != nil {
		return false, err
	}
	path, err := m.MirrorPath(repo)
	if err != nil {
		return false, err
	}
	_, err = m.run(ctx, command{dir: path, args: []string{"merge-base", "--is-ancestor", ancestor, descendant}})
	switch {
	case err == nil:
		return true, nil
	case exitCode(err) == 1:
		return false, nil
	default:
		return false, fmt.Errorf("git: is %s an ancestor of %s (%s): %w", ancestor, descendant, repo.FullName(), err)
	}
}
