package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atollhq/atoll/vcs"
)

// A merge prepared ahead of its job: PrepareMerge makes the merge
// worktree of a pull request's base and head while the event that will
// queue its plan is still storing its run, opening check runs and
// waiting for a worker; the job's MergeWorktree of the same two commits
// then takes it over by renaming it to its own dir instead of making it.
const (
	// preparedDir, under Mirrors.Dir, holds the prepared worktrees. No
	// GitHub owner name starts with a dot, so no mirror lives there.
	preparedDir = ".prepared"
	// maxPrepared bounds the prepared merges waiting at once.
	maxPrepared = 4
)

// preparedTTL is how long a prepared merge waits for its job before it
// is removed (its job was claimed by another replica, or queued behind
// busy workers: it then makes its merge itself); Mirrors.preparedTTL,
// when set, replaces it (tests).
const preparedTTL = time.Minute

type preparedKey struct{ mirror, base, head string }

// preparedMerge is one merge being made or made ahead of its job.
type preparedMerge struct {
	repo vcs.Repo
	dir  string
	done chan struct{}
	sha  string // the merge commit, when err is nil
	err  error
}

// PrepareMerge starts making, in the background, the worktree
// MergeWorktree(ctx, repo, baseSHA, headSHA, dest) would make, so that
// the first such call takes it over (by rename) instead of making it.
// Both commits must be in the mirror already and be full ids (a call
// with other ids simply makes its own merge). It returns at once and
// does nothing when that merge is already prepared or maxPrepared are
// waiting. A prepared merge that no call takes within preparedTTL is
// removed; one left by a stopped process is removed by the first
// PrepareMerge of the next.
func (m *Mirrors) PrepareMerge(ctx context.Context, repo vcs.Repo, baseSHA, headSHA string) {
	if checkSHA("base sha", baseSHA) != nil || checkSHA("head sha", headSHA) != nil {
		return
	}
	path, err := m.MirrorPath(repo)
	if err != nil {
		return
	}
	key := preparedKey{path, strings.ToLower(baseSHA), strings.ToLower(headSHA)}
	m.mu.Lock()
	if m.prepared == nil {
		m.prepared = make(map[preparedKey]*preparedMerge)
	}
	if _, ok := m.prepared[key]; ok || len(m.prepared) >= maxPrepared {
		m.mu.Unlock()
		return
	}
	p := &preparedMerge{repo: repo, done: make(chan struct{})}
	m.prepared[key] = p
	m.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				p.err = fmt.Errorf("git: prepare merge: panic: %v", r)
			}
			close(p.done)
			if p.err != nil {
				m.logger().Debug("merge not prepared", "repo", repo.FullName(), "err", p.err)
				m.discardPrepared(ctx, key, p)
				return
			}
			ttl := preparedTTL
			if m.preparedTTL > 0 {
				ttl = m.preparedTTL
			}
			time.AfterFunc(ttl, func() { m.discardPrepared(ctx, key, p) })
		}()
		p.dir, p.err = m.preparedWorktreeDir()
		if p.err != nil {
			return
		}
		p.sha, p.err = m.mergeWorktree(ctx, repo, baseSHA, headSHA, p.dir)
	}()
}

// preparedWorktreeDir returns a new path under Dir/preparedDir for a
// worktree (not created: git worktree add creates it). The first call of
// a process removes what a stopped one left there.
func (m *Mirrors) preparedWorktreeDir() (string, error) {
	root := filepath.Join(m.Dir, preparedDir)
	m.sweepOnce.Do(func() { m.sweepPrepared(root) })
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(root, "merge-")
	if err != nil {
		return "", err
	}
	if err := os.Remove(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// sweepPrepared removes the prepared worktrees a stopped process left in
// root and, if there were any, the mirrors' records of them.
func (m *Mirrors) sweepPrepared(root string) {
	left, _ := os.ReadDir(root)
	if len(left) == 0 {
		return
	}
	if err := os.RemoveAll(root); err != nil {
		m.logger().Warn("remove prepared worktrees left by a stopped process", "err", err)
	}
	mirrors, _ := filepath.Glob(filepath.Join(m.Dir, "*", "*.git"))
	for _, path := range mirrors {
		unlock := m.lock(path)
		_, err := m.run(context.Background(), command{dir: path, args: []string{"worktree", "prune"}})
		unlock()
		if err != nil {
			m.logger().Warn("prune worktrees", "mirror", path, "err", err)
		}
	}
}

// takePrepared removes from the waiting merges, and returns, the one of
// key (p, when p is not nil: only that one); nil when there is none.
func (m *Mirrors) takePrepared(key preparedKey, p *preparedMerge) *preparedMerge {
	m.mu.Lock()
	defer m.mu.Unlock()
	got, ok := m.prepared[key]
	if !ok || (p != nil && got != p) {
		return nil
	}
	delete(m.prepared, key)
	return got
}

// discardPrepared removes p's worktree unless a MergeWorktree took it.
func (m *Mirrors) discardPrepared(ctx context.Context, key preparedKey, p *preparedMerge) {
	if m.takePrepared(key, p) == nil {
		return
	}
	m.removePrepared(ctx, p)
}

// removePrepared removes the worktree of p, which nothing else holds,
// once it has been made.
func (m *Mirrors) removePrepared(ctx context.Context, p *preparedMerge) {
	<-p.done
	if p.dir == "" {
		return
	}
	if err := m.RemoveWorktree(context.WithoutCancel(ctx), p.repo, p.dir); err != nil {
		m.logger().Warn("remove prepared worktree", "dir", p.dir, "err", err)
	}
}

// adoptPrepared gives dest the prepared merge of base and head into
// mirror path, if there is one that succeeded: its merge commit and true.
// With ok false, dest is as it was and the caller makes the merge itself.
func (m *Mirrors) adoptPrepared(ctx context.Context, path, baseSHA, headSHA, dest string) (sha string, ok bool) {
	p := m.takePrepared(preparedKey{path, strings.ToLower(baseSHA), strings.ToLower(headSHA)}, nil)
	if p == nil {
		return "", false
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		go m.removePrepared(ctx, p)
		return "", false
	}
	if p.err != nil {
		return "", false
	}
	if err := m.moveWorktree(ctx, path, p.dir, dest); err != nil {
		m.logger().Warn("take over prepared merge", "dir", p.dir, "err", err)
		m.removePrepared(ctx, p)
		return "", false
	}
	m.logger().Debug("took over prepared merge", "repo", p.repo.FullName(), "dest", dest)
	return p.sha, true
}

// moveWorktree moves the worktree at from, of the mirror at path, to
// dest, which must not exist: the directory is renamed and the mirror's
// record of where it is rewritten, which is what `git worktree move`
// does, without starting git (gitrepository-layout(5): the worktree's
// .git file names its record's dir, whose gitdir file holds the path of
// that .git file). A record of another shape is left to git.
func (m *Mirrors) moveWorktree(ctx context.Context, path, from, dest string) error {
	unlock := m.lock(path)
	defer unlock()
	if _, err := os.Lstat(dest); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("git: move worktree to %s: it exists", dest)
	}
	dotGit, err := os.ReadFile(filepath.Join(from, ".git"))
	if err != nil {
		return fmt.Errorf("git: move worktree %s: %w", from, err)
	}
	record, found := strings.CutPrefix(strings.TrimSuffix(string(dotGit), "\n"), "gitdir: ")
	gitdirFile := filepath.Join(record, "gitdir")
	if old, err := os.ReadFile(gitdirFile); !found || !filepath.IsAbs(record) || filepath.Dir(record) != filepath.Join(path, "worktrees") ||
		err != nil || strings.TrimSuffix(string(old), "\n") != filepath.Join(from, ".git") {
		if _, err := m.run(ctx, command{dir: path, args: []string{"worktree", "move", from, dest}}); err != nil {
			return fmt.Errorf("git: move worktree %s: %w", from, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("git: move worktree %s: %w", from, err)
	}
	if err := os.Rename(from, dest); err != nil {
		return fmt.Errorf("git: move worktree %s: %w", from, err)
	}
	tmp := gitdirFile + ".atoll-tmp"
	err = os.WriteFile(tmp, []byte(filepath.Join(dest, ".git")+"\n"), 0o644)
	if err == nil {
		err = os.Rename(tmp, gitdirFile)
	}
	if err != nil {
		_ = os.Remove(tmp)
		if rerr := os.Rename(dest, from); rerr != nil {
			return fmt.Errorf("git: move worktree %s: %w, and moving it back: %w", from, err, rerr)
		}
		return fmt.Errorf("git: move worktree %s: %w", from, err)
	}
	return nil
}
