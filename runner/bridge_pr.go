package runner

import (
	"context"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/runner/view"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// The engine as runner/pr's Engine and Issues (wire.go builds the Life;
// the other services it is given directly).

// DefaultInboxRetention is how long deliveries and command claims are
// kept when the server configuration's inbox_retention is zero.
const DefaultInboxRetention = pr.DefaultInboxRetention

type prEngine struct{ r *Runner }

func (a prEngine) LockPR(key string) func() { return a.r.prMu.Lock(key) }
func (a prEngine) StartPlanRun(ctx context.Context, pr vcs.PullRequest, command, user string, projects []Project, extra []string, opts RunOptions, note string, also ...locks.RecordUpdate) error {
	_, err := a.r.startPlanRun(ctx, pr, command, user, projects, extra, opts, note, also...)
	return err
}
func (a prEngine) StartApply(ctx context.Context, spec runSpec, cleared []gate.Clearance) error {
	_, err := a.r.startApply(ctx, spec, cleared)
	return err
}
func (a prEngine) RunJobs(ctx context.Context, run Run) ([]Job, error) {
	return view.RunJobs(ctx, a.r.rec, run)
}
func (a prEngine) ApplyBlocked(ctx context.Context) *templates.ApplyDisabled {
	if b := a.r.switches.Blocked(ctx); b != nil {
		return b.Notice()
	}
	return nil
}
func (a prEngine) RefreshPolicies(ctx context.Context, j Job) {
	a.r.afterUpdate(ctx, j)
	a.r.gates.PolicyCheck(ctx, j, a.r.view.ProjectResult(ctx, j))
}

type prIssues struct{ r *Runner }

func (a prIssues) OnIssueCommand(ctx context.Context, repo vcs.Repo, number int, labels []string, user string, cmd *command.Command) error {
	return a.r.drift.remedies.OnIssueCommand(ctx, repo, number, labels, user, cmd)
}
func (a prIssues) AfterRun(ctx context.Context, run Run, jobs []Job) {
	switch run.Command {
	case "drift":
		a.r.drift.reporter.Report(ctx, run, jobs)
	case "remediate", "auto-remediate":
		a.r.drift.remedies.AfterRemediation(ctx, run, jobs)
	}
}
