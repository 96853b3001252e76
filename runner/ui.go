package runner

import (
	"context"
	"fmt"
	"strings"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// What the web UI asks: who may see and do what, and acting on a lock.

func repoFromName(fullName string) (vcs.Repo, error) {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return vcs.Repo{}, fmt.Errorf("%w: %q is not owner/name", ErrUnknownRepo, fullName)
	}
	return vcs.Repo{Owner: owner, Name: name}, nil
}

// Permission is user's permission on repo ("owner/name"), asked of GitHub
// with the App's installation token.
func (r *Runner) Permission(ctx context.Context, repo, user string) (vcs.Permission, error) {
	rp, err := repoFromName(repo)
	if err != nil {
		return vcs.PermissionNone, err
	}
	return r.host.UserPermission(ctx, rp, user)
}

// MayRun returns what user lacks to run command on repo, exactly as a
// comment command is checked ("" when allowed).
func (r *Runner) MayRun(ctx context.Context, repo, user, command string) (string, error) {
	rp, err := repoFromName(repo)
	if err != nil {
		return "", err
	}
	return r.pr.Authorize(ctx, rp, user, command)
}

// InTeam reports whether user is an active member of team
// ("org/team-slug"), asked through a served repository of that org.
func (r *Runner) InTeam(ctx context.Context, team, user string) (bool, error) {
	org, _, ok := strings.Cut(team, "/")
	if !ok {
		return false, fmt.Errorf("team %q is not org/team-slug", team)
	}
	repos, err := r.servedRepos(ctx)
	if err != nil {
		return false, err
	}
	for _, rp := range repos {
		if strings.EqualFold(rp.Owner, org) {
			return facts.MemberOfAny(ctx, r.host, rp, user, []string{team})
		}
	}
	return false, fmt.Errorf("atoll serves no repository of %s, so it cannot ask about its teams", org)
}

// ReleaseLock releases the lock on k as `atoll unlock` does for that
// project: the holding PR's plan of it is discarded (unless it is being
// applied), and the PR is told who released it (by: "@alice in the web
// UI"). false: k was free.
func (r *Runner) ReleaseLock(ctx context.Context, k locks.Key, by string) (locks.Lock, bool, error) {
	return r.pr.ReleaseLock(ctx, k, by)
}

// CancelJob cancels a job that is still queued: it ends skipped, saying
// who cancelled it, and its run goes on as if it had run. false: the job
// does not exist or has started.
func (r *Runner) CancelJob(ctx context.Context, id, by string) (Job, bool, error) {
	var job Job
	claimed := false
	err := records.Update(ctx, r.rec, records.Jobs, id, func(j *Job, exists bool) error {
		if !exists || j.State != JobQueued {
			return records.ErrAbort
		}
		j.State, j.Started = JobRunning, r.now() // claimed: no worker takes it now
		job, claimed = *j, true
		return nil
	})
	if err != nil || !claimed {
		return job, false, err
	}
	r.finishJob(ctx, job, Outcome{Status: string(templates.StatusSkipped), Error: r.view.Text(templates.JobSkipped{Kind: templates.SkipCancelled, By: by})})
	return job, true, nil
}
