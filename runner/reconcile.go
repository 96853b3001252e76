package runner

import (
	"context"
	"strings"
	"time"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// reconcileLoop reconciles at start-up and then every
// reconcile_interval (0: at start-up only): GitHub does not redeliver a
// failed webhook by itself, so atoll does not trust webhooks alone.
func (r *Runner) reconcileLoop(ctx context.Context) {
	if r.srv.ReconcileInterval <= 0 {
		r.Reconcile(ctx)
		return
	}
	t := time.NewTicker(r.srv.ReconcileInterval)
	defer t.Stop()
	for {
		r.Reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Reconcile releases the locks of PRs found closed, then plans every open
// PR whose head has neither a plan nor a job. Releasing comes first: a PR
// found new must not be told a project is locked by a PR that is gone.
func (r *Runner) Reconcile(ctx context.Context) {
	r.reconcileLocks(ctx)
	repos, err := r.servedRepos(ctx)
	if err != nil {
		r.log.Error("reconcile: list repos", "err", err)
		return
	}
	for _, repo := range repos {
		prs, err := r.host.ListOpenPullRequests(ctx, repo)
		if err != nil {
			r.log.Error("reconcile: list open PRs", "repo", repo.FullName(), "err", err)
			continue
		}
		for _, pr := range prs {
			pr.Repo.InstallationID = repo.InstallationID
			st, err := r.pr.State(ctx, pr)
			if err != nil || (st.HeadSHA == pr.HeadSHA && !st.Closed) {
				continue // seen (a PR seen closed and open again was reopened)
			}
			r.log.Info("reconcile: planning a PR whose head was never seen", "repo", repo.FullName(), "pr", pr.Number)
			if err := r.pr.Autoplan(ctx, pr, ""); err != nil {
				r.log.Error("reconcile: autoplan", "pr", pr.Number, "err", err)
			}
		}
	}
}

// reconcileLocks releases locks whose PR is closed without merge, or
// merged in a repo whose merged PRs do not wait for an apply.
func (r *Runner) reconcileLocks(ctx context.Context) {
	held, err := r.cfg.Store.List(ctx)
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, l := range held {
		key := records.PRKey(l.Owner.Repo, l.Owner.Number)
		if seen[key] || l.Owner.Number == 0 {
			continue
		}
		seen[key] = true
		repo := repoFromFullName(l.Owner.Repo)
		pr, err := r.host.GetPullRequest(ctx, repo, l.Owner.Number)
		if err != nil || pr.State != "closed" {
			continue
		}
		if pr.Merged {
			continue // apply after merge, or its retry, releases them
		}
		r.pr.MarkClosed(ctx, l.Owner.Repo, l.Owner.Number)
		if released, err := r.pr.ReleasePR(ctx, l.Owner.Repo, l.Owner.Number); err == nil {
			r.trail.Released(ctx, l.Owner.Repo, l.Owner.Number, released, "pull request closed (reconciled)")
			r.log.Info("reconcile: released the locks of a closed PR", "repo", l.Owner.Repo, "pr", l.Owner.Number)
		}
	}
}

// servedRepos lists the allowlisted repos of every installation.
func (r *Runner) servedRepos(ctx context.Context) ([]vcs.Repo, error) {
	ids, err := r.host.ListInstallations(ctx)
	if err != nil {
		return nil, err
	}
	var out []vcs.Repo
	for _, id := range ids {
		repos, err := r.host.ListInstallationRepos(ctx, id)
		if err != nil {
			r.log.Error("list installation repos", "installation", id, "err", err)
			continue
		}
		for _, repo := range repos {
			repo.InstallationID = id
			if r.srv.RepoAllowed(repo.FullName()) {
				out = append(out, repo)
			}
		}
	}
	return out, nil
}

func repoFromFullName(full string) vcs.Repo {
	owner, name, _ := strings.Cut(full, "/")
	return vcs.Repo{Owner: owner, Name: name}
}
