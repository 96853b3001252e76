package pr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// OnPullRequest handles a pull_request event: autoplan on opened,
// reopened, synchronize and ready_for_review; discard or apply on closed.
// A repository the server does not serve is ignored.
func (l *Life) OnPullRequest(ctx context.Context, e *vcs.PullRequestEvent) error {
	pr := e.PR
	if pr.Repo.InstallationID == 0 {
		pr.Repo.InstallationID = e.InstallationID
	}
	if !l.d.Settings.RepoAllowed(pr.Repo.FullName()) {
		l.d.Log.Info("repo not allowed; event ignored", "repo", pr.Repo.FullName())
		return nil
	}
	switch e.Action {
	case "opened", "reopened", "synchronize", "ready_for_review":
		return l.Autoplan(ctx, pr, "")
	case "closed":
		if pr.Merged {
			return l.OnMerged(ctx, pr)
		}
		return l.OnClosed(ctx, pr)
	}
	return nil
}

// Autoplan plans the projects a PR's change touches, once per head SHA;
// reason, when not empty, plans again a head already planned. A closed
// PR, a fork's when forks are refused and a draft (unless drafts are
// allowed) are not planned.
func (l *Life) Autoplan(ctx context.Context, pr vcs.PullRequest, reason string) error {
	defer l.d.Engine.LockPR(records.PRKey(pr.Repo.FullName(), pr.Number))()
	if pr.State != "" && pr.State != "open" {
		return nil
	}
	if _, _, err := l.NoteHead(ctx, pr); err != nil {
		l.d.Log.Error("record PR head", "pr", pr.Number, "err", err)
	}
	if refused, err := l.refuseFork(ctx, pr, ""); refused || err != nil {
		return err
	}
	if pr.Draft && !l.d.Settings.AllowDraftPRs {
		return nil // planned when it becomes ready for review
	}
	// A new head discards the plans of the old one and folds their comments.
	st, err := l.State(ctx, pr)
	if err != nil {
		return err
	}
	if st.HeadSHA == pr.HeadSHA && len(st.Projects) > 0 && reason == "" {
		return nil // already planned (a redelivery, or reconciliation racing a webhook)
	}
	if st.HeadSHA != "" && st.HeadSHA != pr.HeadSHA {
		if err := l.Supersede(ctx, pr, st); err != nil {
			l.d.Log.Error("supersede old plans", "pr", pr.Number, "err", err)
		}
	}
	found, rc, err := l.d.Repos.Affected(ctx, pr)
	if err != nil {
		var ce *projects.ConfigError
		if errors.As(err, &ce) {
			l.recordHead(ctx, pr, nil)
			return l.replyConfigError(ctx, pr, ce)
		}
		return err
	}
	var auto []records.Project
	for _, p := range found {
		if p.Autoplan {
			auto = append(auto, p.Project)
		}
	}
	if len(auto) == 0 {
		l.recordHead(ctx, pr, nil)
		return nil
	}
	// The head is seen in the same transaction that stores the plan's
	// jobs: a stop in between can neither lose the plan (head seen, no
	// job) nor plan it twice.
	return l.d.Engine.StartPlanRun(ctx, pr, "autoplan", "", auto, nil, records.RunOptions{}, l.d.Replies.ConfigNote(rc), records.HeadUpdate(pr, auto))
}

// recordHead remembers the head SHA (and projects) last seen for a PR.
func (l *Life) recordHead(ctx context.Context, pr vcs.PullRequest, projects []records.Project) {
	if err := l.d.Records.Store().UpdateRecords(ctx, []locks.RecordUpdate{records.HeadUpdate(pr, projects)}); err != nil {
		l.d.Log.Error("record PR head", "pr", pr.Number, "err", err)
	}
}

// State is what is recorded of pr.
func (l *Life) State(ctx context.Context, pr vcs.PullRequest) (records.PRState, error) {
	return l.d.Records.PRStateOf(ctx, pr.Repo.FullName(), pr.Number)
}

// Supersede discards the plans of pr's older heads (not those being
// applied) and minimizes their comments.
func (l *Life) Supersede(ctx context.Context, pr vcs.PullRequest, st records.PRState) error {
	plans, err := l.d.Records.PlansOf(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	for _, p := range plans {
		if p.HeadSHA == pr.HeadSHA || p.State == records.PlanApplying {
			continue
		}
		l.DiscardPlan(ctx, p)
	}
	for _, node := range st.PlanComments {
		if err := l.d.Host.MinimizeComment(ctx, pr.Repo, node, "OUTDATED"); err != nil {
			l.d.Log.Warn("minimize outdated plan comment", "pr", pr.Number, "err", err)
		}
	}
	return l.d.Records.ForgetPlanComments(ctx, pr.Repo.FullName(), pr.Number)
}

// DiscardPlan removes a stored plan: its file, its shared copy and its
// record (a failure is logged).
func (l *Life) DiscardPlan(ctx context.Context, p records.Plan) {
	if p.File != "" {
		_ = os.Remove(p.File)
	}
	l.d.Plans.DropSharedPlan(ctx, p)
	if err := l.d.Records.Store().DeleteRecord(ctx, records.Plans, records.PlanKey(p.Repo, p.Number, p.Project.Name)); err != nil {
		l.d.Log.Error("discard plan", "plan", p.Project.Name, "err", err)
	}
}

// OnClosed releases a closed PR's locks and discards its plans. It
// forgets the PR's planned projects, so that reopening it plans again.
func (l *Life) OnClosed(ctx context.Context, pr vcs.PullRequest) error {
	defer l.d.Engine.LockPR(records.PRKey(pr.Repo.FullName(), pr.Number))()
	l.MarkClosed(ctx, pr.Repo.FullName(), pr.Number)
	released, err := l.ReleasePR(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	l.d.Audit.Released(ctx, pr.Repo.FullName(), pr.Number, released, "pull request closed")
	if len(released) == 0 {
		return nil
	}
	return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.ClosedLocksReleased{Projects: released})
}

// MarkClosed records that a PR was seen closed and forgets its planned
// projects: if it is reopened, autoplan and reconciliation plan it again.
// A failure is logged.
func (l *Life) MarkClosed(ctx context.Context, repo string, number int) {
	if err := l.d.Records.MarkClosed(ctx, repo, number); err != nil {
		l.d.Log.Error("record PR closed", "pr", number, "err", err)
	}
}

// ReleasePR unlocks every lock a PR holds and discards its plans (but
// those being applied); it returns the released projects' names (dir and
// workspace).
func (l *Life) ReleasePR(ctx context.Context, repo string, number int) ([]string, error) {
	plans, err := l.d.Records.PlansOf(ctx, repo, number)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		if p.State == records.PlanApplying {
			continue
		}
		l.DiscardPlan(ctx, p)
	}
	l.d.Queue.Leave(ctx, repo, number)
	held, err := l.d.Locks.UnlockByOwner(ctx, repo, number)
	if err != nil {
		return nil, fmt.Errorf("release locks of #%d: %w", number, err)
	}
	crashpoint.Hit(ctx, crashpoint.LockReleased)
	l.d.Queue.Released()
	var names []string
	for _, lk := range held {
		names = append(names, path.Join(lk.Key.Dir)+" ("+lk.Key.Workspace+")")
	}
	return names, nil
}
