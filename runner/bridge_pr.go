package runner

import (
	"context"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// The root's side of runner/pr: the Life of pull requests built from the
// Runner's parts (adapters below), and the wrappers that keep the names
// other root code calls.

// DefaultInboxRetention is how long deliveries and command claims are
// kept when the server configuration's inbox_retention is zero.
const DefaultInboxRetention = pr.DefaultInboxRetention

// prLife is the Life of r's pull requests, built on first use (New
// builds it; a Runner a test put together builds it when first used).
func (r *Runner) prLife() *pr.Life {
	r.prOnce.Do(func() { r.pr = newPRLife(r) })
	return r.pr
}

// newPRLife builds the Life of r's pull requests.
func newPRLife(r *Runner) *pr.Life {
	return pr.New(pr.Deps{
		Settings: r.srv,
		Records:  r.rec,
		Locks:    r.cfg.Store,
		Host:     r.host,
		Engine:   prEngine{r},
		Repos:    prRepos{r},
		Replies:  prReplies{r},
		Gate:     prGate{r},
		Policies: prPolicies{r},
		Issues:   prIssues{r},
		BotLogin: func() string { return r.botLogin },
		Version:  r.versionData(),
		Log:      r.log,
		Now:      r.now,
	})
}

type prEngine struct{ r *Runner }

func (a prEngine) LockPR(key string) func() { return a.r.prMu.lock(key) }
func (a prEngine) StartPlanRun(ctx context.Context, pr vcs.PullRequest, command, user string, projects []Project, extra []string, opts RunOptions, note string, also ...locks.RecordUpdate) error {
	_, err := a.r.startPlanRun(ctx, pr, command, user, projects, extra, opts, note, also...)
	return err
}
func (a prEngine) StartApply(ctx context.Context, spec runSpec, cleared []gate.Clearance) error {
	_, err := a.r.startApply(ctx, spec, cleared)
	return err
}
func (a prEngine) RunJobs(ctx context.Context, run Run) ([]Job, error) { return a.r.runJobs(ctx, run) }
func (a prEngine) SetPlanState(ctx context.Context, key string, st PlanState, jobID string) {
	a.r.setPlanState(ctx, key, st, jobID)
}
func (a prEngine) DropPlanFile(ctx context.Context, p Plan) { a.r.dropSharedPlan(ctx, p) }
func (a prEngine) LeaveQueues(ctx context.Context, repo string, number int) {
	a.r.leaveQueues(ctx, repo, number)
}
func (a prEngine) LockReleased() { a.r.lockReleased() }

type prRepos struct{ r *Runner }

func (a prRepos) RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (RepoConfig, error) {
	return a.r.repoConfig(ctx, repo, ref, base)
}
func (a prRepos) AffectedProjects(ctx context.Context, pr vcs.PullRequest) ([]projects.Affected, RepoConfig, error) {
	return a.r.affectedProjects(ctx, pr)
}
func (a prRepos) AllProjects(ctx context.Context, repo vcs.Repo, sha string, rc RepoConfig) ([]Project, error) {
	return a.r.allProjects(ctx, repo, sha, rc)
}
func (a prRepos) ConfigNote(rc RepoConfig) string { return a.r.configNote(rc) }

type prReplies struct{ r *Runner }

func (a prReplies) Say(ctx context.Context, repo vcs.Repo, number int, m templates.Message) error {
	return a.r.say(ctx, repo, number, m)
}
func (a prReplies) Reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error {
	return a.r.reply(ctx, repo, number, name, data)
}
func (a prReplies) ReplyOnce(ctx context.Context, pr vcs.PullRequest, kind, name string, data any) error {
	return a.r.replyOnce(ctx, pr, kind, name, data)
}
func (a prReplies) ReplyConfigError(ctx context.Context, pr vcs.PullRequest, ce *projects.ConfigError) error {
	return a.r.replyConfigError(ctx, pr, ce)
}
func (a prReplies) Text(m templates.Message) string { return a.r.text(m) }
func (a prReplies) AuditCommand(ctx context.Context, repo vcs.Repo, number int, user, command, outcome, why string) {
	a.r.auditCommand(ctx, repo, number, user, command, outcome, why)
}
func (a prReplies) AuditReleased(ctx context.Context, repo string, number int, released []string, cause string) {
	a.r.auditReleased(ctx, repo, number, released, cause)
}

type prGate struct{ r *Runner }

func (a prGate) ApplyBlocked(ctx context.Context) *templates.ApplyDisabled {
	b := a.r.applyBlocked(ctx)
	if b == nil {
		return nil
	}
	d := templates.ApplyDisabled{Disabled: b.Disabled}
	if b.Lock != nil {
		d.Reason, d.By, d.Since = b.Lock.Reason, b.Lock.By, b.Lock.Since
	}
	return &d
}
func (a prGate) CheckRequirements(ctx context.Context, pr vcs.PullRequest, rc RepoConfig, plans []Plan) ([]templates.RefusedProject, []gate.Clearance, error) {
	return a.r.checkRequirements(ctx, pr, rc, plans)
}
func (a prGate) GateMerged(ctx context.Context, pr vcs.PullRequest, path gate.Path, projects []Project) ([]Project, []gate.Clearance, error) {
	return a.r.gateMerged(ctx, pr, path, projects)
}

type prPolicies struct{ r *Runner }

func (a prPolicies) Configured() bool                 { return a.r.cfg.Policies != nil }
func (a prPolicies) Set(name string) policy.SetConfig { return a.r.policySet(name) }
func (a prPolicies) IsOwner(ctx context.Context, repo vcs.Repo, user string, owners []string) bool {
	return a.r.isOwner(ctx, repo, user, owners)
}
func (a prPolicies) ReviewCanApprove(results []policy.Result) bool {
	return a.r.reviewCanApprove(results)
}
func (a prPolicies) Refresh(ctx context.Context, j Job) {
	a.r.afterUpdate(ctx, j)
	a.r.policyCheck(ctx, j, a.r.projectResult(ctx, j))
}

type prIssues struct{ r *Runner }

func (a prIssues) OnIssueCommand(ctx context.Context, repo vcs.Repo, number int, labels []string, user string, cmd *command.Command) error {
	return a.r.onIssueCommand(ctx, repo, number, labels, user, cmd)
}
func (a prIssues) AfterRun(ctx context.Context, run Run, jobs []Job) {
	switch run.Command {
	case "drift":
		a.r.reportDrift(ctx, run, jobs)
	case "remediate", "auto-remediate":
		a.r.afterRemediation(ctx, run, jobs)
	}
}

// Wrappers: the names other root code calls, delegating to r.prLife().

func (r *Runner) autoplan(ctx context.Context, p vcs.PullRequest, reason string) error {
	return r.prLife().Autoplan(ctx, p, reason)
}
func (r *Runner) prState(ctx context.Context, p vcs.PullRequest) (PRState, error) {
	return r.prLife().State(ctx, p)
}
func (r *Runner) supersede(ctx context.Context, p vcs.PullRequest, st PRState) error {
	return r.prLife().Supersede(ctx, p, st)
}
func (r *Runner) discardPlan(ctx context.Context, p Plan) { r.prLife().DiscardPlan(ctx, p) }
func (r *Runner) markClosed(ctx context.Context, repo string, number int) {
	r.prLife().MarkClosed(ctx, repo, number)
}
func (r *Runner) releasePR(ctx context.Context, repo string, number int) ([]string, error) {
	return r.prLife().ReleasePR(ctx, repo, number)
}
func (r *Runner) afterRunDone(ctx context.Context, runID string) { r.prLife().AfterRunDone(ctx, runID) }
func (r *Runner) pruneLoop(ctx context.Context)                  { r.prLife().PruneLoop(ctx, r.cfg.Store) }
func (r *Runner) authorize(ctx context.Context, repo vcs.Repo, user, cmdName string) (string, error) {
	return r.prLife().Authorize(ctx, repo, user, cmdName)
}
func mergeProjects(old, add []Project, sameHead bool) []Project {
	return pr.MergeProjects(old, add, sameHead)
}
func (r *Runner) versionData() templates.Version {
	return templates.Version{Version: r.cfg.Version, Commit: r.cfg.Commit, GoVersion: goVersion()}
}
