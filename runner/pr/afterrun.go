package pr

import (
	"context"

	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// AfterRunDone finishes what run runID leaves behind once every job is
// final: a plan run's labels; a merged PR's locks released for applied
// projects, and automerge; other runs are left to Deps.Issues. It does
// nothing while a job is not final.
func (l *Life) AfterRunDone(ctx context.Context, runID string) {
	var run records.Run
	if ok, err := l.d.Records.Get(ctx, records.Runs, runID, &run); err != nil || !ok {
		return
	}
	jobs, err := l.d.Engine.RunJobs(ctx, run)
	if err != nil {
		return
	}
	for _, j := range jobs {
		if !j.State.Final() {
			return
		}
	}
	switch run.Command {
	case "autoplan", "plan", "queued-plan":
		l.labelPlanRun(ctx, run, jobs)
	case "apply-after-merge", "apply", "retry-after-merge":
		l.afterApplyRun(ctx, run, jobs)
	default:
		l.d.Issues.AfterRun(ctx, run, jobs)
	}
}

// afterApplyRun releases the locks of applied projects of a merged PR and
// merges an open PR whose projects are all applied when automerge is on.
func (l *Life) afterApplyRun(ctx context.Context, run records.Run, jobs []records.Job) {
	pr, err := l.d.Host.GetPullRequest(ctx, run.Repo, run.Number)
	if err != nil {
		l.d.Log.Error("after apply: get PR", "pr", run.Number, "err", err)
		return
	}
	if pr.Merged {
		var failed, refused []string
		for _, j := range jobs {
			switch j.Outcome.Status {
			case string(templates.StatusApplied):
				if err := l.d.Locks.Unlock(ctx, execute.LockKey(j)); err != nil {
					l.d.Log.Error("release lock", "project", j.Project.Name, "err", err)
				}
				crashpoint.Hit(ctx, crashpoint.LockReleased)
				l.d.Queue.Released()
				l.discardPlanOf(ctx, j)
			case string(templates.StatusRefused):
				refused = append(refused, j.Project.Name)
			default:
				failed = append(failed, j.Project.Name)
			}
		}
		if len(failed) > 0 {
			_ = l.d.Replies.Say(ctx, run.Repo, run.Number, templates.MergedApplyFailed{Projects: failed})
		}
		if len(refused) > 0 {
			_ = l.d.Replies.Say(ctx, run.Repo, run.Number, templates.MergedApplyRefused{Projects: refused})
		}
		return
	}
	if run.Options.NoAutomerge || !l.automerge(ctx, run.Repo) {
		return
	}
	plans, err := l.d.Records.PlansOf(ctx, run.Repo.FullName(), run.Number)
	if err != nil || len(plans) == 0 {
		return
	}
	for _, p := range plans {
		if p.State != records.PlanApplied || p.HeadSHA != pr.HeadSHA {
			return
		}
	}
	method := l.d.Settings.Automerge.Method
	if run.Options.MergeMethod != "" {
		method = run.Options.MergeMethod
	}
	if _, err := l.d.Merger.MergePullRequest(ctx, run.Repo, run.Number, method, pr.HeadSHA); err != nil {
		_ = l.d.Replies.Say(ctx, run.Repo, run.Number, templates.AutomergeFailed{Error: err.Error()})
		return
	}
	if pr.HeadRef != "" && !pr.Fork() && l.deleteSourceBranch(ctx, pr, plans) {
		if err := l.d.Merger.DeleteBranch(ctx, run.Repo, pr.HeadRef); err != nil {
			_ = l.d.Replies.Say(ctx, run.Repo, run.Number, templates.BranchDeleteFailed{Branch: pr.HeadRef, Error: err.Error()})
		}
	}
}

// deleteSourceBranch reports whether automerge deletes the merged pull
// request's branch (delete_source_branch_on_merge): when every merged
// project says so, by its own setting or else the file's top-level one,
// as read from the pull request's head.
func (l *Life) deleteSourceBranch(ctx context.Context, pr vcs.PullRequest, plans []records.Plan) bool {
	rc, err := l.d.Repos.RepoConfig(ctx, pr.Repo, pr.HeadSHA, pr.BaseRef)
	if err != nil {
		return false
	}
	for _, p := range plans {
		if v := projects.FirstBool(p.Project.DeleteSourceBranch, &rc.DeleteSourceBranch); !*v {
			return false
		}
	}
	return true
}

func (l *Life) discardPlanOf(ctx context.Context, j records.Job) {
	var p records.Plan
	key := records.PlanKey(j.Repo.FullName(), j.Number, j.Project.Name)
	if ok, _ := l.d.Records.Get(ctx, records.Plans, key, &p); ok {
		l.DiscardPlan(ctx, p)
	}
}

// automerge reports whether a repo merges PRs once applied.
func (l *Life) automerge(ctx context.Context, repo vcs.Repo) bool {
	rc, err := l.d.Repos.RepoConfig(ctx, repo, repo.DefaultBranch, repo.DefaultBranch)
	if err == nil && rc.Source.Automerge != nil {
		return *rc.Source.Automerge
	}
	return l.d.Settings.Automerge.Enabled
}
