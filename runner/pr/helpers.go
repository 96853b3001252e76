package pr

import (
	"context"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// runOptions are cmd's RunOptions.
func runOptions(cmd *command.Command) records.RunOptions {
	if cmd == nil {
		return records.RunOptions{}
	}
	return records.RunOptions{Verbose: cmd.Verbose, NoAutomerge: cmd.AutoMergeDisabled, MergeMethod: cmd.AutoMergeMethod}
}

// dedupe is ss without repeats, in order.
func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// configErrorReply answers err, the failure to read pr's repository
// configuration: a broken file (*projects.ConfigError) is told on pr and
// the reply's error returned; any other err is returned as it is.
func (l *Life) configErrorReply(ctx context.Context, pr vcs.PullRequest, err error) error {
	if ce, ok := err.(*projects.ConfigError); ok {
		return l.replyConfigError(ctx, pr, ce)
	}
	return err
}

// replyConfigError audits pr's broken repository configuration ce and
// tells pr about it.
func (l *Life) replyConfigError(ctx context.Context, pr vcs.PullRequest, ce *projects.ConfigError) error {
	l.d.Audit.ConfigError(ctx, pr, ce)
	return l.d.Replies.ReplyConfigError(ctx, pr, ce)
}
