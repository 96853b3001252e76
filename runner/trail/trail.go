package trail

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// Sink is where the records go; *audit.Trail implements it.
type Sink interface {
	Append(ctx context.Context, e audit.Entry) (audit.Record, error)
	Prune(ctx context.Context, cutoff time.Time) (int, error)
}

// Trail records the runner's decisions in Sink. A nil Sink records
// nothing; Log and Now are required.
type Trail struct {
	Sink Sink
	// Retention is how long records are kept (PruneLoop); 0: forever.
	Retention time.Duration
	Log       *slog.Logger
	Now       func() time.Time
}

// Record appends e, with actor "atoll" when e names none. It outlives
// ctx's cancellation: a decision made is recorded.
func (t *Trail) Record(ctx context.Context, e audit.Entry) {
	if t.Sink == nil {
		return
	}
	if e.Actor == "" {
		e.Actor = "atoll"
	}
	if _, err := t.Sink.Append(context.WithoutCancel(ctx), e); err != nil {
		t.Log.Error("audit", "action", e.Action, "err", err)
	}
}

// Job records a job's end: its kind, project, outcome and policy results.
func (t *Trail) Job(ctx context.Context, j records.Job) {
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
	t.Record(ctx, audit.Entry{Actor: j.User, Action: "job." + string(j.Kind), Repo: j.Repo.FullName(), Number: j.Number,
		Project: j.Project.Name, Workspace: j.Project.Workspace, SHA: j.Commit, Outcome: j.Outcome.Status, Details: d})
}

// Command records a comment command and whether it was allowed (why: the
// reason of a refusal).
func (t *Trail) Command(ctx context.Context, repo vcs.Repo, number int, user, command, outcome, why string) {
	e := audit.Entry{Actor: user, Action: "command." + command, Repo: repo.FullName(), Number: number, Outcome: outcome}
	if why != "" {
		e.Details = map[string]string{"reason": why}
	}
	t.Record(ctx, e)
}

// Lock returns a function that records the lock job tried to take, given
// TryLock's results, and passes them through.
func (t *Trail) Lock(ctx context.Context, job records.Job) func(locks.Lock, bool, error) (locks.Lock, bool, error) {
	return func(l locks.Lock, acquired bool, err error) (locks.Lock, bool, error) {
		if err == nil {
			e := audit.Entry{Actor: job.User, Action: "lock.taken", Repo: job.Repo.FullName(), Number: job.Number,
				Project: job.Project.Name, Workspace: job.Project.Workspace, SHA: job.HeadSHA, Outcome: "ok"}
			if !acquired {
				e.Action, e.Outcome = "lock.refused", "held"
				e.Details = map[string]string{"held_by": fmt.Sprintf("%s#%d", l.Owner.Repo, l.Owner.Number)}
			}
			t.Record(ctx, e)
		}
		return l, acquired, err
	}
}

// Released records the locks (by project) a PR's release freed, and why.
func (t *Trail) Released(ctx context.Context, repo string, number int, released []string, cause string) {
	for _, p := range released {
		t.Record(ctx, audit.Entry{Action: "lock.released", Repo: repo, Number: number, Project: p, Outcome: "ok",
			Details: map[string]string{"cause": cause}})
	}
}

// ConfigError records a repository configuration that was refused.
func (t *Trail) ConfigError(ctx context.Context, pr vcs.PullRequest, ce *projects.ConfigError) {
	t.Record(ctx, audit.Entry{Action: "config.error", Repo: pr.Repo.FullName(), Number: pr.Number, SHA: ce.Commit,
		Outcome: "refused", Details: map[string]string{"file": ce.File, "errors": ce.Error()}})
}

// Drift records a drift finding or its closure (action) on issue.
func (t *Trail) Drift(ctx context.Context, j records.Job, action string, issue int) {
	t.Record(ctx, audit.Entry{Action: action, Repo: j.Repo.FullName(), Number: issue, Project: j.Project.Name,
		Workspace: j.Project.Workspace, SHA: j.Commit, Outcome: j.Outcome.Status})
}

// Review records whether user's approving review counts for a PR's
// requirements: it does with write permission (perm) or more.
func (t *Trail) Review(ctx context.Context, pr vcs.PullRequest, user string, perm vcs.Permission) {
	outcome := "counted"
	if !perm.AtLeast(vcs.PermissionWrite) {
		outcome = "refused"
	}
	t.Record(ctx, audit.Entry{Actor: user, Action: "review.approval", Repo: pr.Repo.FullName(), Number: pr.Number, SHA: pr.HeadSHA,
		Outcome: outcome, Details: map[string]string{"permission": string(perm)}})
}

// PruneLoop drops records older than Retention, hourly, until ctx ends;
// it returns at once without a Sink or a Retention.
func (t *Trail) PruneLoop(ctx context.Context) {
	if t.Sink == nil || t.Retention <= 0 {
		return
	}
	for {
		if n, err := t.Sink.Prune(ctx, t.Now().Add(-t.Retention)); err != nil {
			t.Log.Error("audit retention", "err", err)
		} else if n > 0 {
			t.Log.Info("audit retention: pruned records", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}
