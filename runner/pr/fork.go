package pr

import (
	"context"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// NoteHead appends pr's head to the PR's head history when it differs
// from the last head recorded, in one store transaction, and returns the
// last entry and whether this call added it. A head is dated with
// pr.UpdatedAt (atoll's clock when that is missing): never earlier than
// the push that made it the head.
func (l *Life) NoteHead(ctx context.Context, pr vcs.PullRequest) (records.HeadSeen, bool, error) {
	at := pr.UpdatedAt
	if at.IsZero() {
		at = l.d.Now()
	}
	return l.d.Records.NoteHead(ctx, pr.Repo.FullName(), pr.Number, pr.Author, pr.HeadSHA, at)
}

// refuseFork tells a fork's PR that it is neither planned nor applied
// when the server does not allow forks, and reports whether it did.
// command is the refused command, "" for an automatic plan (told once per
// PR).
func (l *Life) refuseFork(ctx context.Context, pr vcs.PullRequest, command string) (bool, error) {
	if !pr.Fork() || l.d.Settings.AllowForkPRs {
		return false, nil
	}
	data := templates.ForkRefused{Command: command, HeadRepo: pr.HeadRepo}
	if command == "" {
		return true, l.d.Replies.ReplyOnce(ctx, pr, "fork", "fork_refused.tmpl", data)
	}
	return true, l.d.Replies.Reply(ctx, pr.Repo, pr.Number, "fork_refused.tmpl", data)
}

// forkCommandRefused checks a plan or apply command on a PR: a fork's PR
// is refused when forks are not allowed, and, when they are, whenever its
// head is not the head it had when the comment was written (a fork can
// push after the maintainer read it). pr is the PR as fetched when the
// command was accepted; the job then runs on exactly pr.HeadSHA.
func (l *Life) forkCommandRefused(ctx context.Context, pr vcs.PullRequest, c vcs.Comment, user string, cmd *command.Command) (bool, error) {
	if !pr.Fork() || (cmd.Name != "plan" && cmd.Name != "apply") {
		return false, nil
	}
	if refused, err := l.refuseFork(ctx, pr, cmd.Name); refused || err != nil {
		return refused, err
	}
	head, added, err := l.NoteHead(ctx, pr)
	if err != nil {
		return false, err
	}
	if head.At.Before(c.CreatedAt) { // a comment without a date cannot be placed: refused
		return false, nil
	}
	l.d.Log.Warn("fork head moved after the comment; command refused", "pr", pr.Number, "head", pr.HeadSHA,
		"head_since", head.At, "comment_created", c.CreatedAt)
	return true, l.d.Replies.Reply(ctx, pr.Repo, pr.Number, "fork_head_moved.tmpl",
		templates.ForkHeadMoved{User: user, Command: cmd.Name, Head: pr.HeadSHA, Unseen: added})
}
