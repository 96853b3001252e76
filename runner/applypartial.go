package runner

import (
	"context"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// applyWhatPasses answers an apply some of whose projects are refused.
// With apply_all_or_nothing (the default) nothing is applied and the reply
// lists the refused projects with why, and those that would have passed.
// With apply_all_or_nothing: false, as Atlantis does, the projects that
// pass are applied and the reply lists both.
func (r *Runner) applyWhatPasses(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command,
	pending []Plan, refused []templates.RefusedProject, cleared []gate.Clearance) error {
	isRefused := map[string]bool{}
	for _, p := range refused {
		isRefused[p.Name] = true
	}
	var passing []Plan
	var names []string
	for _, p := range pending {
		if !isRefused[p.Project.Name] {
			passing = append(passing, p)
			names = append(names, p.Project.Name)
		}
	}
	if r.srv.ApplyAllOrNothing || len(passing) == 0 {
		return r.reply(ctx, pr.Repo, pr.Number, "apply_refused.tmpl", templates.ApplyRefused{Projects: refused, Withheld: names})
	}
	if err := r.reply(ctx, pr.Repo, pr.Number, "apply_refused.tmpl", templates.ApplyRefused{Projects: refused, Applying: names}); err != nil {
		return err
	}
	return r.claimAndApply(ctx, pr, user, passing, runOptions(cmd), cleared)
}

// replyApplyBlocked tells why applies are stopped server-wide.
func (r *Runner) replyApplyBlocked(ctx context.Context, repo vcs.Repo, number int, b *applyBlock) error {
	d := templates.ApplyDisabled{Disabled: b.Disabled}
	if b.Lock != nil {
		d.Reason, d.By, d.Since = b.Lock.Reason, b.Lock.By, b.Lock.Since
	}
	return r.reply(ctx, repo, number, "apply_disabled.tmpl", d)
}
