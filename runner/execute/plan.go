package execute

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/safefs"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Plan plans one project for a PR and stores the plan: it reads the pull
// request (a closed one, or one whose head moved past job.HeadSHA, is
// skipped), checks the project's plan requirements, takes its lock when
// plans take it, checks the head out merged into the base (or as it is),
// plans, evaluates the policy sets and stores the plan (records.Plans).
// The outcome is planned, no changes, locked, skipped or plan_error;
// job.Commit and job.BaseSHA are set to what was planned.
func (x *Jobs) Plan(ctx context.Context, job *records.Job, log io.Writer) records.Outcome {
	sp, done := x.NewJobSpace(ctx, *job, log, false)
	// Removed once the comment shows the plan: not on the way to it.
	defer DeferAfterJob(ctx, done)
	// The checkout of the commits the job was queued with runs beside
	// the pull request's read and the lock, which do not need it; it is
	// made again when the read finds another base (or it failed, so that
	// its error is the one the PR's own read gives).
	spec := x.checkoutAhead(ctx, *job, sp.Dir)
	defer spec.wait()
	pr, err := x.host.GetPullRequest(ctx, job.Repo, job.Number)
	if err != nil {
		return Failure(templates.StatusPlanError, Step("fetch pull request", err), nil)
	}
	if pr.State == "closed" {
		return records.Outcome{Status: string(templates.StatusSkipped), Error: x.text(templates.JobSkipped{Kind: templates.SkipPRClosed})}
	}
	if pr.HeadSHA != job.HeadSHA {
		return records.Outcome{Status: string(templates.StatusSkipped), Error: x.text(templates.JobSkipped{Kind: templates.SkipSuperseded, Commit: pr.HeadSHA})}
	}
	job.BaseSHA = pr.BaseSHA
	Mark(ctx, "pull request read")
	if reqs := job.Project.PlanRequirements; len(reqs) > 0 {
		unmet, err := x.unmetPlanRequirements(ctx, pr, reqs)
		if err != nil {
			return Failure(templates.StatusPlanError, Step("plan_requirements", err), nil)
		}
		if len(unmet) > 0 {
			return Failure(templates.StatusPlanError, Step("plan_requirements", errors.New(strings.Join(unmet, "; "))), nil)
		}
	}
	if out, locked := x.takeLock(ctx, *job, pr, "plan"); locked {
		return out
	}
	Mark(ctx, "requirements and lock")
	if commit, ok := spec.result(pr); ok {
		job.Commit = commit
	} else {
		if spec.base != "" {
			x.DropWorktree(ctx, job.Repo, sp.Dir)
		}
		if err := x.checkoutPR(ctx, job, pr, sp.Dir); err != nil {
			return Failure(templates.StatusPlanError, err, sp.Tail)
		}
	}
	Mark(ctx, "checkout")
	res, err := x.PlanProject(ctx, job, sp.Dir, sp.W, false)
	if err != nil {
		return Failure(templates.StatusPlanError, err, sp.Tail)
	}
	out := res.Outcome
	out.Policies = x.EvaluatePolicies(ctx, *job, pr, res.PlanJSON)
	Mark(ctx, "policies")
	plan := records.Plan{Repo: job.Repo.FullName(), Number: job.Number, Project: job.Project, HeadSHA: job.HeadSHA,
		BaseSHA: pr.BaseSHA, Commit: job.Commit, File: res.File, SHA256: res.SHA256, HasChanges: res.Changes,
		Summary: out.Summary, Policies: out.Policies, PlanJob: job.ID, State: records.PlanPlanned, Created: x.now(),
		ExtraArgs: job.ExtraArgs}
	if !res.Changes {
		plan.State = records.PlanApplied // nothing to apply
	}
	if err := x.rec.Put(ctx, records.Plans, records.PlanKey(plan.Repo, plan.Number, job.Project.Name), plan); err != nil {
		return Failure(templates.StatusPlanError, Step("store plan", err), sp.Tail)
	}
	Mark(ctx, "plan stored")
	return out
}

// takeLock locks the job's project for its PR when cmd ("plan" or
// "apply") takes the lock under the project's repo_locks.mode; locked is
// true, with the outcome to report, when it cannot.
func (x *Jobs) takeLock(ctx context.Context, job records.Job, pr vcs.PullRequest, cmd string) (records.Outcome, bool) {
	if !job.Project.LocksOn(cmd) {
		return records.Outcome{}, false
	}
	held, ok, behind, err := x.lockFor(ctx, job, pr)
	if err != nil {
		st := templates.StatusPlanError
		if cmd == "apply" {
			st = templates.StatusApplyFailed
		}
		return Failure(st, Step("lock", err), nil), true
	}
	if !ok {
		out := records.Outcome{Status: string(templates.StatusLocked)}
		if held.Owner.Number > 0 {
			out.LockedBy = &records.LockHolder{Repo: held.Owner.Repo, Number: held.Owner.Number, Author: held.Owner.Author}
		}
		for _, n := range behind {
			out.Behind = append(out.Behind, records.LockHolder{Repo: job.Repo.FullName(), Number: n})
		}
		return out, true
	}
	return records.Outcome{}, false
}

// LockKey is the key of the lock of job's project: its repository, dir
// and workspace.
func LockKey(job records.Job) locks.Key {
	return locks.Key{Repo: job.Repo.FullName(), Dir: job.Project.Dir, Workspace: job.Project.Workspace}
}

// checkoutPR puts the job's head (job.HeadSHA, the head the command was
// accepted for, never the PR's head as it is now) in dir: merged into base
// (the default) or as it is. job.Commit records what was checked out.
//
// The fetch of the event that queued the job has, as a rule, brought its
// commits already: the checkout is tried first, and the pull request
// fetched (then checked out again) only when the mirror lacks one. Asking
// the mirror first cost a git process on every job's way to terraform.
func (x *Jobs) checkoutPR(ctx context.Context, job *records.Job, pr vcs.PullRequest, dir string) error {
	err := x.checkoutFetched(ctx, job, pr, dir)
	if !errors.Is(err, vcs.ErrCommitMissing) {
		return err
	}
	x.DropWorktree(ctx, job.Repo, dir)
	if err := x.fetchPR(ctx, pr); err != nil {
		return Step("fetch", err)
	}
	return x.checkoutFetched(ctx, job, pr, dir)
}

// checkoutFetched is checkoutPR once the commits are in the mirror: an
// error wraps vcs.ErrCommitMissing when they are not.
func (x *Jobs) checkoutFetched(ctx context.Context, job *records.Job, pr vcs.PullRequest, dir string) error {
	if x.srv.CheckoutStrategy == "branch" {
		job.Commit = job.HeadSHA
		return Step("checkout", x.git.Worktree(ctx, job.Repo, job.HeadSHA, dir))
	}
	sha, err := x.git.MergeWorktree(ctx, job.Repo, pr.BaseSHA, job.HeadSHA, dir)
	if err != nil {
		return Step("checkout (merge into "+pr.BaseRef+")", err)
	}
	job.Commit = sha
	return nil
}

// aheadCheckout is a checkout started before the pull request was read
// (see checkoutAhead).
type aheadCheckout struct {
	base   string // the base it merges into; "" when none was started
	done   chan struct{}
	commit string
	err    error
}

// checkoutAhead starts checking job out into dir as checkoutPR would,
// from the head and base the job was queued with, and returns at once.
// With no base known it starts nothing.
func (x *Jobs) checkoutAhead(ctx context.Context, job records.Job, dir string) *aheadCheckout {
	a := &aheadCheckout{done: make(chan struct{})}
	if job.BaseSHA == "" || job.HeadSHA == "" {
		close(a.done)
		return a
	}
	a.base = job.BaseSHA
	go func() {
		defer close(a.done)
		defer func() {
			if p := recover(); p != nil {
				a.err = fmt.Errorf("checkout: panic: %v", p)
			}
		}()
		pr := vcs.PullRequest{Repo: job.Repo, Number: job.Number, HeadSHA: job.HeadSHA, BaseSHA: job.BaseSHA}
		a.err = x.checkoutPR(ctx, &job, pr, dir)
		a.commit = job.Commit
	}()
	return a
}

// wait returns once the checkout has ended.
func (a *aheadCheckout) wait() { <-a.done }

// result waits for the checkout and returns its commit when it is what
// checkoutPR would make for pr now (the same base, made without error);
// ok is false when dir must be checked out again.
func (a *aheadCheckout) result(pr vcs.PullRequest) (commit string, ok bool) {
	a.wait()
	if a.base == "" || a.err != nil || a.base != pr.BaseSHA {
		return "", false
	}
	return a.commit, true
}

// NewJobSpace sets up job's space over its log; done removes the
// worktree and the job's temp dir, whatever state they are in.
func (x *Jobs) NewJobSpace(ctx context.Context, job records.Job, log io.Writer, applies bool) (sp *Space, done func()) {
	sp = NewSpace(x.workDir(job.ID), log, applies)
	return sp, func() { x.DropWorktree(ctx, job.Repo, sp.Dir) }
}

// DropWorktree removes a job's worktree dir and its temp dir.
func (x *Jobs) DropWorktree(ctx context.Context, repo vcs.Repo, dir string) {
	if err := x.git.RemoveWorktree(context.WithoutCancel(ctx), repo, dir); err != nil {
		x.log.Warn("remove worktree", "dir", dir, "err", err)
		_ = os.RemoveAll(dir)
	}
	_ = os.RemoveAll(jobTempDir(dir))
}

// PlanResult is a finished plan.
type PlanResult struct {
	Outcome   records.Outcome
	File      string // the stored plan, under the data dir
	LocalPlan string // its copy in the job's temp dir, which terraform may read
	SHA256    string
	Changes   bool
	PlanJSON  []byte
	// Workdir is the initialised working directory the plan ran in
	// (built-in steps only; nil for a workflow's): an apply of this plan
	// in the same job runs there, without a second init.
	Workdir *terraform.Workdir
}

// PlanProject runs init, workspace, plan and show for job's project in the
// checkout at root; refreshOnly makes a refresh-only plan (drift).
func (x *Jobs) PlanProject(ctx context.Context, job *records.Job, root string, out io.Writer, refreshOnly bool) (PlanResult, error) {
	if err := x.preHooks(ctx, job, root, out, "plan"); err != nil {
		return PlanResult{}, err
	}
	defer x.postHooks(ctx, job, root, out, "plan")
	if wf, err := x.workflowFor(ctx, *job); err != nil {
		return PlanResult{}, Step("workflow", err)
	} else if wf != nil {
		return x.planWithWorkflow(ctx, job, root, out, refreshOnly, wf)
	}
	wd, err := x.terraformFor(ctx, *job, root, out)
	if err != nil {
		return PlanResult{}, err
	}
	planDir := filepath.Join(x.cfg.DataDir, "plans")
	if err := os.MkdirAll(planDir, 0o700); err != nil {
		return PlanResult{}, Step("plan", err)
	}
	// terraform writes the plan in the job's temp dir, the one place
	// outside the worktree a sandboxed terraform may write; it is stored
	// under the data dir once made.
	localPlan := filepath.Join(jobTempDir(root), job.ID+".tfplan")
	planFile := filepath.Join(planDir, job.ID+".tfplan")
	// The text comes from the plan run itself: one terraform fewer than
	// a "show PLANFILE" after it. "show -json" stays, for the summary,
	// policies and the plan's hash.
	outcome, text, err := wd.PlanText(ctx, terraform.PlanOptions{Out: localPlan, RefreshOnly: refreshOnly,
		VarFiles: job.Project.VarFiles, ExtraArgs: job.ExtraArgs})
	if err != nil {
		return PlanResult{}, Step("plan", err)
	}
	Mark(ctx, "terraform plan")
	// The plan file is stored (copied, hashed, shared with the other
	// replicas) beside show -json, which only reads it too.
	type kept struct {
		sum string
		err error
	}
	keeping := make(chan kept, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				keeping <- kept{err: Step("plan", fmt.Errorf("panic keeping the plan file: %v", p))}
			}
		}()
		sum, err := x.keepPlan(ctx, localPlan, planFile)
		keeping <- kept{sum, err}
	}()
	summary, js, err := wd.Show(ctx, localPlan)
	k := <-keeping
	if err != nil {
		if k.err == nil { // no plan is stored for a failed show: not its file either
			_ = os.Remove(planFile)
			x.DropSharedPlan(context.WithoutCancel(ctx), records.Plan{File: planFile})
		}
		return PlanResult{}, Step("show", err)
	}
	Mark(ctx, "terraform show -json")
	if k.err != nil {
		return PlanResult{}, k.err
	}
	sum := k.sum
	Mark(ctx, "plan file kept")
	res := PlanResult{File: planFile, LocalPlan: localPlan, SHA256: sum, Changes: outcome == terraform.Changes, PlanJSON: js, Workdir: wd}
	res.Outcome = records.Outcome{Summary: summary, PlanText: terraform.StripANSI(text)}
	if res.Changes {
		res.Outcome.Status = string(templates.StatusPlanned)
	} else {
		res.Outcome.Status = string(templates.StatusNoChanges)
	}
	return res, nil
}

// terraformFor finds the binary and prepares the project's directory: init
// and workspace.
func (x *Jobs) terraformFor(ctx context.Context, job records.Job, root string, out io.Writer) (*terraform.Workdir, error) {
	wd, err := x.newWorkdirFor(ctx, job, root, out, nil, true)
	if err != nil {
		return nil, err
	}
	// The project's .terraform from an earlier job when init would make
	// the same one (see terraform.InitCache); a copy, its own.
	reused, err := wd.InitCached(ctx, terraform.InitCache{Dir: filepath.Join(x.cfg.DataDir, "init-cache")}, terraform.InitOptions{})
	if err != nil {
		return nil, Step("init", err)
	}
	if reused {
		x.log.Debug("init skipped: the project's .terraform from an earlier job", "job", job.ID, "project", job.Project.Name)
	}
	Mark(ctx, "init")
	if x.cfg.Sandbox != nil {
		// Past init, terraform runs providers: the plugin cache becomes
		// read-only.
		if wd, err = x.newWorkdir(ctx, job, root, out, nil); err != nil {
			return nil, err
		}
	}
	if ws := job.Project.Workspace; ws != "" && ws != "default" {
		if err := wd.SelectWorkspace(ctx, ws); err != nil {
			return nil, Step("workspace", err)
		}
	}
	return wd, nil
}

// newWorkdir finds the binary and writes the state backend, and returns a
// Workdir for the project that has run nothing yet; extraEnv (a
// workflow's env steps) is added to the server's terraform.env. Its
// terraform is sandboxed (see Sandbox) with the plugin cache read-only:
// init needs newWorkdirFor.
func (x *Jobs) newWorkdir(ctx context.Context, job records.Job, root string, out io.Writer, extraEnv map[string]string) (*terraform.Workdir, error) {
	return x.newWorkdirFor(ctx, job, root, out, extraEnv, false)
}

// newWorkdirFor is newWorkdir; forInit lets its terraform write the
// plugin cache.
func (x *Jobs) newWorkdirFor(ctx context.Context, job records.Job, root string, out io.Writer, extraEnv map[string]string, forInit bool) (*terraform.Workdir, error) {
	dir := filepath.Join(root, filepath.FromSlash(job.Project.Dir))
	// Before anything reads the project's files: a project dir that
	// leads out of the checkout is refused (see ensureStateBackend).
	if err := safefs.CheckDir(root, job.Project.Dir); err != nil {
		return nil, Step("init", x.projectDirError(job.Project.Dir, err))
	}
	tf := x.srv.Terraform
	tfEnv := x.tfEnv
	dist := terraform.Distribution(tf.Distribution)
	if job.Project.Distribution != "" {
		dist = terraform.Distribution(job.Project.Distribution)
	}
	version := tf.Version
	if job.Project.TerraformVersion != "" {
		version = job.Project.TerraformVersion
	}
	bin, err := x.cfg.Resolve(ctx, terraform.ResolveOptions{Distribution: dist, ExplicitPath: tf.Binary,
		VersionConstraint: version, ProjectDir: dir, DataDir: filepath.Join(x.cfg.DataDir, "bin"), ReleasesURL: tf.ReleasesURL})
	if err != nil {
		return nil, Step("find "+string(dist), err)
	}
	paths, err := x.jobPaths(job, root, bin)
	if err != nil {
		return nil, Step("init", err)
	}
	env := tfEnv
	if len(extraEnv) > 0 {
		env = make(map[string]string, len(tfEnv)+len(extraEnv))
		for k, v := range tfEnv {
			env[k] = v
		}
		for k, v := range extraEnv {
			env[k] = v
		}
	}
	wd, err := terraform.New(terraform.Config{Binary: bin, Dir: dir, RepoDir: root, Env: env, Secrets: x.tfSecrets, Masker: x.masker,
		PluginCacheDir: paths.cache, CLIConfigFile: tf.CLIConfigFile, Output: out, OnExit: x.observer.ObserveTerraformExit,
		TempDir: paths.tmp, Wrapper: x.wrapper(paths, forInit),
		JobMark: job.Mark})
	if err != nil {
		return nil, Step("init", err)
	}
	return wd, nil
}

// keepPlan stores the plan terraform wrote at localPlan (in the job's
// temp dir) as planFile under the data dir, shared with the other
// replicas, and returns its SHA-256: what an apply checks it against.
//
// The digest is of the stored copy: localPlan's dir is the sandbox's to
// write, planFile's is not.
func (x *Jobs) keepPlan(ctx context.Context, localPlan, planFile string) (string, error) {
	if err := CopyFile(localPlan, planFile); err != nil {
		return "", Step("plan", err)
	}
	sum, err := FileSHA256(planFile)
	if err != nil {
		return "", Step("plan", err)
	}
	if err := x.SharePlan(ctx, planFile); err != nil {
		return "", Step("plan", err)
	}
	return sum, nil
}
