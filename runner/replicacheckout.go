package runner

import (
	"context"
	"fmt"
)

// checkoutShared puts commit sha of job's repository in dir, for a job
// that did not fetch it itself (a drift check, whose run fetched the
// default branch; an apply of a stored plan has checkoutPlanned). On a
// shared store such a job may run on another replica than the one that
// fetched the commit, so a commit this replica's mirror lacks is fetched
// (the branches, then the pull request's head); given base and head, a
// merge commit is made again from them. On a store of its own, sha is
// checked out as it is.
func (r *Runner) checkoutShared(ctx context.Context, job Job, sha, base, head, dir string) error {
	err := r.git.Worktree(ctx, job.Repo, sha, dir)
	if err == nil || !r.shared() {
		return err
	}
	if ferr := r.git.Fetch(ctx, job.Repo); ferr != nil {
		return fmt.Errorf("%w (fetching it: %v)", err, ferr)
	}
	if err = r.git.Worktree(ctx, job.Repo, sha, dir); err == nil {
		return nil
	}
	if job.Number > 0 {
		spec := fmt.Sprintf("+refs/pull/%d/head:refs/pull/%d/head", job.Number, job.Number)
		if r.git.Fetch(ctx, job.Repo, spec) == nil {
			if err = r.git.Worktree(ctx, job.Repo, sha, dir); err == nil {
				return nil
			}
		}
	}
	if base == "" || head == "" || sha == head {
		return err
	}
	if _, merr := r.git.MergeWorktree(ctx, job.Repo, base, head, dir); merr != nil {
		return fmt.Errorf("%w (merging %s into %s again: %v)", err, head, base, merr)
	}
	r.log.Info("made a plan's merge commit again on this replica", "job", job.ID, "base", base, "head", head)
	return nil
}
