package runner

import (
	"context"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/view"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// The engine as runner/pr's Engine, Repos, Replies, Gate, Policies and
// Issues (wire.go builds the Life).

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
func (a prEngine) SetPlanState(ctx context.Context, key string, st PlanState, jobID string) {
	a.r.exec.SetPlanState(ctx, key, st, jobID)
}
func (a prEngine) DropPlanFile(ctx context.Context, p Plan) { a.r.exec.DropSharedPlan(ctx, p) }
func (a prEngine) LeaveQueues(ctx context.Context, repo string, number int) {
	a.r.planQueue.Leave(ctx, repo, number)
}
func (a prEngine) LockReleased() { a.r.planQueue.Released() }

type prRepos struct{ r *Runner }

func (a prRepos) RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (RepoConfig, error) {
	return a.r.projects.RepoConfig(ctx, repo, ref, base)
}
func (a prRepos) AffectedProjects(ctx context.Context, pr vcs.PullRequest) ([]projects.Affected, RepoConfig, error) {
	return a.r.projects.Affected(ctx, pr)
}
func (a prRepos) AllProjects(ctx context.Context, repo vcs.Repo, sha string, rc RepoConfig) ([]Project, error) {
	return a.r.projects.All(ctx, repo, sha, rc)
}
func (a prRepos) ConfigNote(rc RepoConfig) string { return a.r.view.ConfigNote(rc) }

type prReplies struct{ r *Runner }

func (a prReplies) Say(ctx context.Context, repo vcs.Repo, number int, m templates.Message) error {
	return a.r.view.Say(ctx, repo, number, m)
}
func (a prReplies) Reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error {
	return a.r.view.Reply(ctx, repo, number, name, data)
}
func (a prReplies) ReplyOnce(ctx context.Context, pr vcs.PullRequest, kind, name string, data any) error {
	return a.r.view.ReplyOnce(ctx, pr, kind, name, data)
}
func (a prReplies) ReplyConfigError(ctx context.Context, pr vcs.PullRequest, ce *projects.ConfigError) error {
	return a.r.replyConfigError(ctx, pr, ce)
}
func (a prReplies) Text(m templates.Message) string { return a.r.view.Text(m) }
func (a prReplies) AuditCommand(ctx context.Context, repo vcs.Repo, number int, user, command, outcome, why string) {
	a.r.trail.Command(ctx, repo, number, user, command, outcome, why)
}
func (a prReplies) AuditReleased(ctx context.Context, repo string, number int, released []string, cause string) {
	a.r.trail.Released(ctx, repo, number, released, cause)
}

type prGate struct{ r *Runner }

func (a prGate) ApplyBlocked(ctx context.Context) *templates.ApplyDisabled {
	if b := a.r.switches.Blocked(ctx); b != nil {
		return b.Notice()
	}
	return nil
}
func (a prGate) CheckRequirements(ctx context.Context, pr vcs.PullRequest, rc RepoConfig, plans []Plan) ([]templates.RefusedProject, []gate.Clearance, error) {
	return a.r.gates.Requirements(ctx, pr, rc, plans)
}
func (a prGate) GateMerged(ctx context.Context, pr vcs.PullRequest, path gate.Path, projects []Project) ([]Project, []gate.Clearance, error) {
	return a.r.gates.Merged(ctx, pr, path, projects)
}

type prPolicies struct{ r *Runner }

func (a prPolicies) Configured() bool                 { return a.r.cfg.Policies != nil }
func (a prPolicies) Set(name string) policy.SetConfig { return a.r.gates.PolicySet(name) }
func (a prPolicies) IsOwner(ctx context.Context, repo vcs.Repo, user string, owners []string) bool {
	return a.r.gates.IsOwner(ctx, repo, user, owners)
}
func (a prPolicies) ReviewCanApprove(results []policy.Result) bool {
	return a.r.gates.ReviewCanApprove(results)
}
func (a prPolicies) Refresh(ctx context.Context, j Job) {
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
