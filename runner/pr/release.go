package pr

import (
	"context"
	"path"
	"strings"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// ReleaseLock releases the lock on k as `atoll unlock` does for that
// project, for an admin (the web UI): the holding PR's plan of it is
// discarded (unless it is being applied), and the PR is told who released
// it (by: "@alice in the web UI"). false: k was free.
func (l *Life) ReleaseLock(ctx context.Context, k locks.Key, by string) (locks.Lock, bool, error) {
	held, ok, err := l.d.Locks.Get(ctx, k)
	if err != nil || !ok {
		return held, ok, err
	}
	defer l.d.Engine.LockPR(records.PRKey(held.Owner.Repo, held.Owner.Number))()
	plans, err := l.d.Records.PlansOf(ctx, held.Owner.Repo, held.Owner.Number)
	if err != nil {
		return held, false, err
	}
	for _, p := range plans {
		if path.Clean(p.Project.Dir) == held.Key.Dir && p.Project.Workspace == held.Key.Workspace && p.State != records.PlanApplying {
			l.DiscardPlan(ctx, p)
		}
	}
	if err := l.d.Locks.Unlock(ctx, held.Key); err != nil {
		return held, false, err
	}
	if owner, name, ok := strings.Cut(held.Owner.Repo, "/"); ok && owner != "" && name != "" && !strings.Contains(name, "/") {
		_ = l.d.Replies.Say(ctx, vcs.Repo{Owner: owner, Name: name}, held.Owner.Number,
			templates.LockReleasedByAdmin{Dir: held.Key.Dir, Workspace: held.Key.Workspace, By: by})
	}
	return held, true, nil
}
