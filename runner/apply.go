package runner

import (
	"context"

	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// afterRunDone finishes what a run leaves behind once every job is final:
// a merged PR's locks are released for applied projects, and automerge.
func (r *Runner) afterRunDone(ctx context.Context, runID string) {
	var run Run
	if ok, err := r.rec.Get(ctx, records.Runs, runID, &run); err != nil || !ok {
		return
	}
	jobs, err := r.runJobs(ctx, run)
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
		r.labelPlanRun(ctx, run, jobs)
	case "apply-after-merge", "apply", "retry-after-merge":
		r.afterApplyRun(ctx, run, jobs)
	case "drift":
		r.reportDrift(ctx, run, jobs)
	case "remediate", "auto-remediate":
		r.afterRemediation(ctx, run, jobs)
	}
}

// afterApplyRun releases the locks of applied projects of a merged PR and
// merges an open PR whose projects are all applied when automerge is on.
func (r *Runner) afterApplyRun(ctx context.Context, run Run, jobs []Job) {
	pr, err := r.host.GetPullRequest(ctx, run.Repo, run.Number)
	if err != nil {
		r.log.Error("after apply: get PR", "pr", run.Number, "err", err)
		return
	}
	if pr.Merged {
		var failed, refused []string
		for _, j := range jobs {
			switch j.Outcome.Status {
			case string(templates.StatusApplied):
				if err := r.cfg.Store.Unlock(ctx, lockKey(j)); err != nil {
					r.log.Error("release lock", "project", j.Project.Name, "err", err)
				}
				crashpoint.Hit(ctx, crashpoint.LockReleased)
				r.lockReleased()
				r.discardPlanOf(ctx, j)
			case string(templates.StatusRefused):
				refused = append(refused, j.Project.Name)
			default:
				failed = append(failed, j.Project.Name)
			}
		}
		if len(failed) > 0 {
			_ = r.say(ctx, run.Repo, run.Number, templates.MergedApplyFailed{Projects: failed})
		}
		if len(refused) > 0 {
			_ = r.say(ctx, run.Repo, run.Number, templates.MergedApplyRefused{Projects: refused})
		}
		return
	}
	if run.Options.NoAutomerge || !r.automerge(ctx, run.Repo) {
		return
	}
	plans, err := r.rec.PlansOf(ctx, run.Repo.FullName(), run.Number)
	if err != nil || len(plans) == 0 {
		return
	}
	for _, p := range plans {
		if p.State != PlanApplied || p.HeadSHA != pr.HeadSHA {
			return
		}
	}
	method := r.srv.Automerge.Method
	if run.Options.MergeMethod != "" {
		method = run.Options.MergeMethod
	}
	if _, err := r.host.MergePullRequest(ctx, run.Repo, run.Number, method, pr.HeadSHA); err != nil {
		_ = r.say(ctx, run.Repo, run.Number, templates.AutomergeFailed{Error: err.Error()})
		return
	}
	if pr.HeadRef != "" && !pr.Fork() && r.deleteSourceBranch(ctx, pr, plans) {
		if err := r.host.DeleteBranch(ctx, run.Repo, pr.HeadRef); err != nil {
			_ = r.say(ctx, run.Repo, run.Number, templates.BranchDeleteFailed{Branch: pr.HeadRef, Error: err.Error()})
		}
	}
}

// deleteSourceBranch reports whether automerge deletes the merged pull
// request's branch (delete_source_branch_on_merge): when every merged
// project says so, by its own setting or else the file's top-level one,
// as read from the pull request's head.
func (r *Runner) deleteSourceBranch(ctx context.Context, pr vcs.PullRequest, plans []Plan) bool {
	rc, err := r.repoConfig(ctx, pr.Repo, pr.HeadSHA, pr.BaseRef)
	if err != nil {
		return false
	}
	for _, p := range plans {
		if v := firstBool(p.Project.DeleteSourceBranch, &rc.DeleteSourceBranch); !*v {
			return false
		}
	}
	return true
}

func (r *Runner) discardPlanOf(ctx context.Context, j Job) {
	var p Plan
	key := records.PlanKey(j.Repo.FullName(), j.Number, j.Project.Name)
	if ok, _ := r.rec.Get(ctx, records.Plans, key, &p); ok {
		r.discardPlan(ctx, p)
	}
}

// automerge reports whether a repo merges PRs once applied.
func (r *Runner) automerge(ctx context.Context, repo vcs.Repo) bool {
	rc, err := r.repoConfig(ctx, repo, repo.DefaultBranch, repo.DefaultBranch)
	if err == nil && rc.Source.Automerge != nil {
		return *rc.Source.Automerge
	}
	return r.srv.Automerge.Enabled
}
