package runner

import (
	"context"
	"io"
	"sync"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// The bridge between the runner and runner/execute, which runs the job
// bodies: the adapter that gives execute what it asks of the runner
// (execute.Engine, execute.Gate), the Jobs built in New, and one-line
// wrappers keeping the names the rest of the root still calls.

// Sandbox is how the runner confines terraform (see execute.Sandbox).
type Sandbox = execute.Sandbox

// PlanFilesBucket is the record bucket of shared plan files, for `atoll
// db migrate`, which moves a data dir's plan files into it.
const PlanFilesBucket = execute.PlanFilesBucket

const bucketPlanFiles = execute.PlanFilesBucket

// execHolder holds the runner's execute.Jobs, made on first use (a
// Runner of a test may be built without New).
type execHolder struct {
	once sync.Once
	jobs *execute.Jobs
}

// jobs is r's execute.Jobs.
func (r *Runner) jobs() *execute.Jobs {
	r.exec.once.Do(func() { r.exec.jobs = newJobs(r) })
	return r.exec.jobs
}

// newJobs is the execute.Jobs of r.
func newJobs(r *Runner) *execute.Jobs {
	return execute.New(execute.Deps{Server: r.srv, DataDir: r.cfg.DataDir, TFEnv: r.tfEnv, TFSecrets: r.tfSecrets,
		Masker: r.masker, Resolve: r.cfg.Resolve, Launch: r.cfg.Launch, Sandbox: r.cfg.Sandbox, Policies: r.cfg.Policies,
		Shared: r.cfg.Cluster.Shared, Store: r.cfg.Store, Rec: r.rec, Host: r.host, Git: r.git,
		Engine: execEngine{r}, Gate: execEngine{r}, Observer: r.observer, WorkDir: r.workDir,
		AfterJob: deferAfterJob, Log: r.log, Now: r.now})
}

// execEngine is the runner as execute.Engine and execute.Gate.
type execEngine struct{ r *Runner }

func (e execEngine) RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (projects.RepoConfig, error) {
	return e.r.repoConfig(ctx, repo, ref, base)
}
func (e execEngine) FetchPR(ctx context.Context, pr vcs.PullRequest) error {
	return e.r.fetchPR(ctx, pr)
}
func (e execEngine) LockFor(ctx context.Context, job Job, pr vcs.PullRequest) (locks.Lock, bool, []int, error) {
	return e.r.lockFor(ctx, job, pr)
}
func (e execEngine) Blocked(ctx context.Context) (Outcome, bool) { return e.r.blockedOutcome(ctx) }
func (e execEngine) NoteApplying(ctx context.Context, job Job, s *terraform.Summary) {
	e.r.noteApplying(ctx, job, s)
}
func (e execEngine) DiscardPlan(ctx context.Context, p Plan) { e.r.discardPlan(ctx, p) }
func (e execEngine) Text(m templates.Message) string         { return e.r.text(m) }
func (e execEngine) PRURL(repo string, number int) string    { return e.r.prURL(repo, number) }
func (e execEngine) UnmetPlanRequirements(ctx context.Context, pr vcs.PullRequest, reqs []string) ([]string, error) {
	return e.r.unmetPlanRequirements(ctx, pr, reqs)
}
func (e execEngine) DecidePolicies(ctx context.Context, path gate.Path, job Job, results []policy.Result) gate.Decision {
	return e.r.decidePolicies(ctx, path, job, results)
}
func (e execEngine) RenderReasons(rs []gate.Reason) []string { return e.r.renderReasons(rs) }
func (e execEngine) BaseName(ctx context.Context, repo vcs.Repo, baseSHA, baseRef string, p Project) string {
	return e.r.baseRules(ctx, repo, baseSHA, baseRef, p).BaseName
}
func (e execEngine) PolicyChecksOff(ctx context.Context, job Job) bool {
	return e.r.policyChecksOff(ctx, job)
}
func (e execEngine) ScopedMandatory(results []policy.Result) []policy.Result {
	return e.r.scopedMandatory(results)
}

// planResult is a finished plan, as drift and remediation read it.
type planResult struct {
	outcome   Outcome
	planFile  string
	localPlan string
	sha256    string
	changes   bool
	planJSON  []byte
	wd        *terraform.Workdir
}

// Wrappers: the names the rest of the root calls (see WAVE12's rule 3).

func (r *Runner) planProject(ctx context.Context, job *Job, root string, out io.Writer, refreshOnly bool) (planResult, error) {
	res, err := r.jobs().PlanProject(ctx, job, root, out, refreshOnly)
	return planResult{outcome: res.Outcome, planFile: res.File, localPlan: res.LocalPlan, sha256: res.SHA256,
		changes: res.Changes, planJSON: res.PlanJSON, wd: res.Workdir}, err
}
func (r *Runner) newJobSpace(ctx context.Context, job Job, log io.Writer, applies bool) (*execute.Space, func()) {
	return r.jobs().NewJobSpace(ctx, job, log, applies)
}
func (r *Runner) checkoutCommit(ctx context.Context, repo vcs.Repo, number int, sha, base, head, dir string) error {
	return r.jobs().CheckoutCommit(ctx, repo, number, sha, base, head, dir)
}
func (r *Runner) setPlanState(ctx context.Context, key string, st PlanState, jobID string) {
	r.jobs().SetPlanState(ctx, key, st, jobID)
}
func (r *Runner) evaluatePolicies(ctx context.Context, job Job, pr vcs.PullRequest, planJSON []byte) []policy.Result {
	return r.jobs().EvaluatePolicies(ctx, job, pr, planJSON)
}
func (r *Runner) planSHA256(ctx context.Context, p Plan) (string, error) {
	return r.jobs().PlanSHA256(ctx, p)
}
func (r *Runner) planFileOf(ctx context.Context, p Plan) (string, error) {
	return r.jobs().PlanFileOf(ctx, p)
}
func (r *Runner) dropSharedPlan(ctx context.Context, p Plan)    { r.jobs().DropSharedPlan(ctx, p) }
func (r *Runner) baseRefOf(ctx context.Context, job Job) string { return r.jobs().BaseRefOf(ctx, job) }
func lockKey(job Job) locks.Key                                 { return execute.LockKey(job) }
func (r *Runner) sharePlan(ctx context.Context, file string) error {
	return r.jobs().SharePlan(ctx, file)
}
