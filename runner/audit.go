package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/vcs"
)

// AuditTrail is where the runner records its decisions; *audit.Trail
// implements it.
type AuditTrail interface {
	Append(ctx context.Context, e audit.Entry) (audit.Record, error)
	Prune(ctx context.Context, cutoff time.Time) (int, error)
}

// audit records one decision. It never fails the caller: a record that
// cannot be written is logged. Hooks elsewhere in the runner are one call
// of this, or of the helpers below, so they stay out of the way of the
// code they observe.
func (r *Runner) audit(ctx context.Context, e audit.Entry) {
	if r.cfg.Audit == nil {
		return
	}
	if e.Actor == "" {
		e.Actor = "atoll"
	}
	if _, err := r.cfg.Audit.Append(context.WithoutCancel(ctx), e); err != nil {
		r.log.Error("audit", "action", e.Action, "err", err)
	}
}

// auditJob records a job's end: its kind, project and outcome.
func (r *Runner) auditJob(ctx context.Context, j Job) {
	d := map[string]string{"job": j.ID, "state": string(j.State)}
	if j.Outcome.Error != "" {
		d["error"] = j.Outcome.Error
	}
	for _, p := range j.Outcome.Policies {
		switch {
		case p.Err != "":
			d["policy."+p.Set] = "error"
		case len(p.Deny) > 0:
			d["policy."+p.Set] = "failed"
		default:
			d["policy."+p.Set] = "passed"
		}
	}
	r.audit(ctx, audit.Entry{Actor: j.User, Action: "job." + string(j.Kind), Repo: j.Repo.FullName(), Number: j.Number,
		Project: j.Project.Name, Workspace: j.Project.Workspace, SHA: j.Commit, Outcome: j.Outcome.Status, Details: d})
}

// auditCommand records a comment command and whether it was allowed.
func (r *Runner) auditCommand(ctx context.Context, repo vcs.Repo, number int, user, command, outcome, why string) {
	e := audit.Entry{Actor: user, Action: "command." + command, Repo: repo.FullName(), Number: number, Outcome: outcome}
	if why != "" {
		e.Details = map[string]string{"reason": why}
	}
	r.audit(ctx, e)
}

// pruneAuditLoop drops audit records older than the retention, hourly.
func (r *Runner) pruneAuditLoop(ctx context.Context) {
	if r.cfg.Audit == nil || r.cfg.AuditRetention <= 0 {
		return
	}
	for {
		if n, err := r.cfg.Audit.Prune(ctx, r.now().Add(-r.cfg.AuditRetention)); err != nil {
			r.log.Error("audit retention", "err", err)
		} else if n > 0 {
			r.log.Info("audit retention: pruned records", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}

// auditLock returns a function that records a lock taken by job and passes
// TryLock's results through.
func (r *Runner) auditLock(ctx context.Context, job Job) func(locks.Lock, bool, error) (locks.Lock, bool, error) {
	return func(l locks.Lock, acquired bool, err error) (locks.Lock, bool, error) {
		if err == nil {
			e := audit.Entry{Actor: job.User, Action: "lock.taken", Repo: job.Repo.FullName(), Number: job.Number,
				Project: job.Project.Name, Workspace: job.Project.Workspace, SHA: job.HeadSHA, Outcome: "ok"}
			if !acquired {
				e.Action, e.Outcome = "lock.refused", "held"
				e.Details = map[string]string{"held_by": fmt.Sprintf("%s#%d", l.Owner.Repo, l.Owner.Number)}
			}
			r.audit(ctx, e)
		}
		return l, acquired, err
	}
}

// auditReleased records the locks a PR's release freed, and why.
func (r *Runner) auditReleased(ctx context.Context, repo string, number int, released []string, cause string) {
	for _, p := range released {
		r.audit(ctx, audit.Entry{Action: "lock.released", Repo: repo, Number: number, Project: p, Outcome: "ok",
			Details: map[string]string{"cause": cause}})
	}
}

// auditConfigError records a repository configuration that was refused.
func (r *Runner) auditConfigError(ctx context.Context, pr vcs.PullRequest, ce *configError) {
	r.audit(ctx, audit.Entry{Action: "config.error", Repo: pr.Repo.FullName(), Number: pr.Number, SHA: ce.Commit,
		Outcome: "refused", Details: map[string]string{"file": ce.File, "errors": ce.Error()}})
}

// auditDrift records a drift finding or its closure.
func (r *Runner) auditDrift(ctx context.Context, j Job, action string, issue int) {
	r.audit(ctx, audit.Entry{Action: action, Repo: j.Repo.FullName(), Number: issue, Project: j.Project.Name,
		Workspace: j.Project.Workspace, SHA: j.Commit, Outcome: j.Outcome.Status})
}

// auditReview records whether an approving review counts for a PR's
// requirements.
func (r *Runner) auditReview(ctx context.Context, pr vcs.PullRequest, user string, perm vcs.Permission) {
	outcome := "counted"
	if !perm.AtLeast(vcs.PermissionWrite) {
		outcome = "refused"
	}
	r.audit(ctx, audit.Entry{Actor: user, Action: "review.approval", Repo: pr.Repo.FullName(), Number: pr.Number, SHA: pr.HeadSHA,
		Outcome: outcome, Details: map[string]string{"permission": string(perm)}})
}
