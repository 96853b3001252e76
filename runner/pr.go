package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// onPullRequest handles pull_request events: autoplan on opened, reopened,
// synchronize and ready_for_review; discard or apply on closed.
func (r *Runner) onPullRequest(ctx context.Context, e *vcs.PullRequestEvent) error {
	pr := e.PR
	if pr.Repo.InstallationID == 0 {
		pr.Repo.InstallationID = e.InstallationID
	}
	if !r.srv.RepoAllowed(pr.Repo.FullName()) {
		r.log.Info("repo not allowed; event ignored", "repo", pr.Repo.FullName())
		return nil
	}
	switch e.Action {
	case "opened", "reopened", "synchronize", "ready_for_review":
		return r.autoplan(ctx, pr, "")
	case "closed":
		if pr.Merged {
			return r.onMerged(ctx, pr)
		}
		return r.onClosed(ctx, pr)
	}
	return nil
}

// autoplan plans the projects a PR's change touches, once per head SHA.
// user is the commenter for `atoll plan`; empty for an automatic plan.
func (r *Runner) autoplan(ctx context.Context, pr vcs.PullRequest, reason string) error {
	defer r.prMu.lock(records.PRKey(pr.Repo.FullName(), pr.Number))()
	if pr.State != "" && pr.State != "open" {
		return nil
	}
	if _, _, err := r.noteHead(ctx, pr); err != nil {
		r.log.Error("record PR head", "pr", pr.Number, "err", err)
	}
	if refused, err := r.refuseFork(ctx, pr, ""); refused || err != nil {
		return err
	}
	if pr.Draft && !r.srv.AllowDraftPRs {
		return nil // planned when it becomes ready for review
	}
	// A new head discards the plans of the old one and folds their comments.
	st, err := r.prState(ctx, pr)
	if err != nil {
		return err
	}
	if st.HeadSHA == pr.HeadSHA && len(st.Projects) > 0 && reason == "" {
		return nil // already planned (a redelivery, or reconciliation racing a webhook)
	}
	if st.HeadSHA != "" && st.HeadSHA != pr.HeadSHA {
		if err := r.supersede(ctx, pr, st); err != nil {
			r.log.Error("supersede old plans", "pr", pr.Number, "err", err)
		}
	}
	projects, rc, err := r.affectedProjects(ctx, pr)
	if err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			r.recordHead(ctx, pr, nil)
			return r.replyConfigError(ctx, pr, ce)
		}
		return err
	}
	var auto []Project
	for _, p := range projects {
		if p.Autoplan {
			auto = append(auto, p.Project)
		}
	}
	if len(auto) == 0 {
		r.recordHead(ctx, pr, nil)
		return nil
	}
	// The head is seen in the same transaction that stores the plan's
	// jobs: a stop in between can neither lose the plan (head seen, no
	// job) nor plan it twice.
	_, err = r.startPlanRun(ctx, pr, "autoplan", "", auto, nil, RunOptions{}, r.configNote(rc), records.HeadUpdate(pr, auto))
	return err
}

// recordHead remembers the head SHA (and projects) last seen for a PR.
func (r *Runner) recordHead(ctx context.Context, pr vcs.PullRequest, projects []Project) {
	if err := r.cfg.Store.UpdateRecords(ctx, []locks.RecordUpdate{records.HeadUpdate(pr, projects)}); err != nil {
		r.log.Error("record PR head", "pr", pr.Number, "err", err)
	}
}

func (r *Runner) prState(ctx context.Context, pr vcs.PullRequest) (PRState, error) {
	return r.rec.PRStateOf(ctx, pr.Repo.FullName(), pr.Number)
}

// supersede discards the plans of older heads and minimizes their comments.
func (r *Runner) supersede(ctx context.Context, pr vcs.PullRequest, st PRState) error {
	plans, err := r.rec.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	for _, p := range plans {
		if p.HeadSHA == pr.HeadSHA || p.State == PlanApplying {
			continue
		}
		r.discardPlan(ctx, p)
	}
	for _, node := range st.PlanComments {
		if err := r.host.MinimizeComment(ctx, pr.Repo, node, "OUTDATED"); err != nil {
			r.log.Warn("minimize outdated plan comment", "pr", pr.Number, "err", err)
		}
	}
	return r.rec.ForgetPlanComments(ctx, pr.Repo.FullName(), pr.Number)
}

func (r *Runner) discardPlan(ctx context.Context, p Plan) {
	if p.File != "" {
		_ = os.Remove(p.File)
	}
	r.dropSharedPlan(ctx, p)
	if err := r.cfg.Store.DeleteRecord(ctx, records.Plans, records.PlanKey(p.Repo, p.Number, p.Project.Name)); err != nil {
		r.log.Error("discard plan", "plan", p.Project.Name, "err", err)
	}
}

// onClosed releases a closed PR's locks and discards its plans. It
// forgets the PR's planned projects, so that reopening it plans again.
func (r *Runner) onClosed(ctx context.Context, pr vcs.PullRequest) error {
	defer r.prMu.lock(records.PRKey(pr.Repo.FullName(), pr.Number))()
	r.markClosed(ctx, pr.Repo.FullName(), pr.Number)
	released, err := r.releasePR(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	r.auditReleased(ctx, pr.Repo.FullName(), pr.Number, released, "pull request closed")
	if len(released) == 0 {
		return nil
	}
	return r.say(ctx, pr.Repo, pr.Number, templates.ClosedLocksReleased{Projects: released})
}

// markClosed records that a PR was seen closed and forgets its planned
// projects: if it is reopened, autoplan and reconciliation plan it again.
func (r *Runner) markClosed(ctx context.Context, repo string, number int) {
	if err := r.rec.MarkClosed(ctx, repo, number); err != nil {
		r.log.Error("record PR closed", "pr", number, "err", err)
	}
}

// releasePR unlocks every lock a PR holds and discards its plans; it returns
// the released projects' names (dir and workspace).
func (r *Runner) releasePR(ctx context.Context, repo string, number int) ([]string, error) {
	plans, err := r.rec.PlansOf(ctx, repo, number)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		if p.State == PlanApplying {
			continue
		}
		r.discardPlan(ctx, p)
	}
	r.leaveQueues(ctx, repo, number)
	locks, err := r.cfg.Store.UnlockByOwner(ctx, repo, number)
	if err != nil {
		return nil, fmt.Errorf("release locks of #%d: %w", number, err)
	}
	crashpoint.Hit(ctx, crashpoint.LockReleased)
	r.lockReleased()
	var names []string
	for _, l := range locks {
		names = append(names, path.Join(l.Key.Dir)+" ("+l.Key.Workspace+")")
	}
	return names, nil
}
