package runner

import (
	"context"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// The engine as runner/execute's Engine and Gate (wire.go builds the
// Jobs).

// Sandbox is how the runner confines terraform (see execute.Sandbox).
type Sandbox = execute.Sandbox

// PlanFilesBucket is the record bucket of shared plan files, for `atoll
// db migrate`, which moves a data dir's plan files into it.
const PlanFilesBucket = execute.PlanFilesBucket

// execEngine is the engine as execute.Engine.
type execEngine struct{ r *Runner }

func (e execEngine) RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (projects.RepoConfig, error) {
	return e.r.projects.RepoConfig(ctx, repo, ref, base)
}
func (e execEngine) FetchPR(ctx context.Context, pr vcs.PullRequest) error {
	return e.r.projects.FetchPR(ctx, pr)
}
func (e execEngine) LockFor(ctx context.Context, job Job, pr vcs.PullRequest) (locks.Lock, bool, []int, error) {
	return e.r.planQueue.LockFor(ctx, execute.LockKey(job), job, pr)
}
func (e execEngine) Blocked(ctx context.Context) (Outcome, bool) { return e.r.blockedOutcome(ctx) }
func (e execEngine) NoteApplying(ctx context.Context, job Job, s *terraform.Summary) {
	e.r.noteApplying(ctx, job, s)
}
func (e execEngine) DiscardPlan(ctx context.Context, p Plan) { e.r.pr.DiscardPlan(ctx, p) }
func (e execEngine) Text(m templates.Message) string         { return e.r.view.Text(m) }
func (e execEngine) PRURL(repo string, number int) string    { return e.r.view.PRURL(repo, number) }

// execGate is the gate as execute.Gate.
type execGate struct{ r *Runner }

func (e execGate) UnmetPlanRequirements(ctx context.Context, pr vcs.PullRequest, reqs []string) ([]string, error) {
	return e.r.gates.UnmetPlanRequirements(ctx, pr, reqs)
}
func (e execGate) DecidePolicies(ctx context.Context, path gate.Path, job Job, results []policy.Result) gate.Decision {
	return e.r.gates.DecidePolicies(ctx, path, job, results)
}
func (e execGate) RenderReasons(rs []gate.Reason) []string { return e.r.gates.RenderReasons(rs) }
func (e execGate) BaseName(ctx context.Context, repo vcs.Repo, baseSHA, baseRef string, p Project) string {
	return e.r.gates.BaseRules(ctx, repo, baseSHA, baseRef, p).BaseName
}
func (e execGate) PolicyChecksOff(ctx context.Context, job Job) bool {
	return e.r.gates.PolicyChecksOff(ctx, job)
}
func (e execGate) ScopedMandatory(results []policy.Result) []policy.Result {
	return e.r.gates.ScopedMandatory(results)
}
