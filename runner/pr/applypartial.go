package pr

import (
	"context"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// applyWhatPasses answers an apply some of whose projects are refused.
// With apply_all_or_nothing (the default) nothing is applied and the reply
// lists the refused projects with why, and those that would have passed.
// With apply_all_or_nothing: false, as Atlantis does, the projects that
// pass are applied and the reply lists both.
func (l *Life) applyWhatPasses(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command,
	pending []records.Plan, refused []templates.RefusedProject, cleared []gate.Clearance) error {
	isRefused := map[string]bool{}
	for _, p := range refused {
		isRefused[p.Name] = true
	}
	var passing []records.Plan
	var names []string
	for _, p := range pending {
		if !isRefused[p.Project.Name] {
			passing = append(passing, p)
			names = append(names, p.Project.Name)
		}
	}
	if l.d.Settings.ApplyAllOrNothing || len(passing) == 0 {
		return l.d.Replies.Reply(ctx, pr.Repo, pr.Number, "apply_refused.tmpl", templates.ApplyRefused{Projects: refused, Withheld: names})
	}
	if err := l.d.Replies.Reply(ctx, pr.Repo, pr.Number, "apply_refused.tmpl", templates.ApplyRefused{Projects: refused, Applying: names}); err != nil {
		return err
	}
	return l.claimAndApply(ctx, pr, user, passing, runOptions(cmd), cleared)
}

// replyApplyBlocked tells why applies are stopped server-wide.
func (l *Life) replyApplyBlocked(ctx context.Context, repo vcs.Repo, number int, d *templates.ApplyDisabled) error {
	return l.d.Replies.Reply(ctx, repo, number, "apply_disabled.tmpl", *d)
}
