package execute

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/safefs"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/runner/workflow"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Workflows: a project whose workflow is a server workflow (or the
// repository's own, where the server allows them) plans and applies
// through its stages instead of atoll's built-in init, plan and apply.
// Whatever the steps do, atoll still reads the plan from PLANFILE,
// records its SHA-256, evaluates every policy set on it, checks the apply
// requirements, and applies only that recorded plan.

// workflowFor returns the workflow job's project runs, or nil when it
// runs atoll's built-in steps (no workflow named, and no server workflow
// "default").
func (x *Jobs) workflowFor(ctx context.Context, job records.Job) (*config.Workflow, error) {
	name := job.Project.Workflow
	rs := config.RepoSettings{Workflow: config.DefaultWorkflowName}
	base := ""
	if len(x.srv.RepoRules) > 0 {
		base = x.BaseRefOf(ctx, job)
		rs = x.srv.RepoSettings(job.Repo.FullName(), base)
	}
	if name == "" {
		name = rs.Workflow
	}
	if name == "" {
		name = config.DefaultWorkflowName
	}
	var own map[string]config.Workflow
	if rs.AllowCustomWorkflows && name != config.DefaultWorkflowName {
		if _, onServer := x.srv.Workflows[name]; !onServer {
			ref := job.HeadSHA
			if ref == "" {
				ref = job.Commit
			}
			rc, err := x.repoConfig(ctx, job.Repo, ref, base)
			if err != nil {
				return nil, err
			}
			own = rc.Source.Workflows
		}
	}
	if _, ok := own[name]; !ok && name == config.DefaultWorkflowName {
		if _, ok := x.srv.Workflows[name]; !ok {
			return nil, nil // atoll's built-in steps
		}
	}
	w, ok := config.LookupWorkflow(name, own, x.srv.Workflows)
	if !ok {
		return nil, x.explain(templates.JobError{Kind: templates.JobErrWorkflowUndefined, Name: name})
	}
	return &w, nil
}

// BaseRefOf is the base branch of job's pull request, or the default
// branch (drift, a merged PR's apply); "" when unknown.
func (x *Jobs) BaseRefOf(ctx context.Context, job records.Job) string {
	if pr, ok := x.pullOf(ctx, job); ok {
		return pr.BaseRef
	}
	return job.Repo.DefaultBranch
}

// pullOf is job's pull request, when it has one.
func (x *Jobs) pullOf(ctx context.Context, job records.Job) (vcs.PullRequest, bool) {
	if job.Number == 0 || job.Kind == records.JobDrift {
		return vcs.PullRequest{}, false
	}
	pr, err := x.host.GetPullRequest(ctx, job.Repo, job.Number)
	if err != nil || pr.Number == 0 {
		return vcs.PullRequest{}, false
	}
	return pr, true
}

// stageRun is one project's run of a workflow's stages: the files and the
// variables its steps share.
type stageRun struct {
	x        *Jobs
	job      *records.Job
	root     string
	dir      string
	out      io.Writer
	planFile string // PLANFILE, in the project dir, where custom steps can reach it
	showFile string
	env      []string          // terraform's environment and Atlantis's variables
	selected bool              // the workspace is selected
	launch   workflow.Launcher // runs the steps' commands, sandboxed as terraform is
	inited   bool              // an init step ran in this checkout
	// planInit is the init of the workflow's plan stage, which an apply
	// stage without one runs before selecting a workspace: Atlantis
	// applies in the checkout its plan initialized, atoll in a fresh one.
	planInit terraform.InitOptions
}

func (x *Jobs) newStageRun(ctx context.Context, job *records.Job, root string, out io.Writer) (*stageRun, error) {
	dir := filepath.Join(root, filepath.FromSlash(job.Project.Dir))
	base, err := x.newWorkdir(ctx, *job, root, out, nil)
	if err != nil {
		return nil, err
	}
	paths, err := x.jobPaths(*job, root, base.Binary())
	if err != nil {
		return nil, Step("init", err)
	}
	s := &stageRun{x: x, job: job, root: root, dir: dir, out: out, launch: x.launcher(paths),
		planFile: filepath.Join(dir, "atoll-"+job.ID+".tfplan"), showFile: filepath.Join(dir, "atoll-"+job.ID+".json")}
	v := workflow.Vars{Workspace: job.Project.Workspace, Dir: dir, RepoRelDir: job.Project.Dir, PlanFile: s.planFile,
		ShowFile: s.showFile, PolicyCheckFile: filepath.Join(dir, "atoll-"+job.ID+"-policies.json"),
		ProjectName: job.Project.Name, HeadCommit: job.HeadSHA, UserName: job.User, PullAuthor: job.PRAuthor,
		CommentArgs: job.ExtraArgs, TerraformVersion: base.Binary().Version,
		BaseRepoOwner: job.Repo.Owner, BaseRepoName: job.Repo.Name, HeadRepoOwner: job.Repo.Owner, HeadRepoName: job.Repo.Name}
	if v.Workspace == "" {
		v.Workspace = "default"
	}
	if pr, ok := x.pullOf(ctx, *job); ok {
		v.PullNum, v.PullURL, v.HeadBranch, v.BaseBranch = pr.Number, x.prURL(job.Repo.FullName(), pr.Number), pr.HeadRef, pr.BaseRef
		if v.PullAuthor == "" {
			v.PullAuthor = pr.Author
		}
	} else {
		v.BaseBranch, v.HeadBranch = job.Repo.DefaultBranch, job.Repo.DefaultBranch
	}
	if v.HeadCommit == "" {
		v.HeadCommit = job.Commit
	}
	if v.UserName == "" { // autoplan, a merge: the pull request's author
		v.UserName = v.PullAuthor
	}
	s.env = append(base.Environ(), v.Environ()...)
	if job.Mark != "" {
		// Custom steps and hooks carry the job's mark, as terraform does:
		// recovery stops what a killed atoll left running of them too.
		s.env = append(s.env, terraform.JobMarkEntry(job.Mark))
	}
	return s, nil
}

// run runs one stage's steps; builtin runs its built-in steps, given a
// Workdir with the env steps' variables.
func (s *stageRun) run(ctx context.Context, name string, steps []config.Step, vars map[string]string,
	builtin func(ctx context.Context, wd *terraform.Workdir, st config.Step) error) (workflow.Result, error) {
	env := s.env
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	res, err := workflow.Run(ctx, workflow.Stage{Name: name, Steps: steps, Dir: s.dir, Env: env, Log: s.out, Launch: s.launch,
		Builtin: func(ctx context.Context, st config.Step, stepEnv map[string]string) error {
			all := make(map[string]string, len(vars)+len(stepEnv))
			for k, v := range vars {
				all[k] = v
			}
			for k, v := range stepEnv {
				all[k] = v
			}
			if name == "apply" && !s.inited && st.Kind != config.StepInit && st.Kind != config.StepPolicyCheck {
				// Atlantis applies in the checkout its plan initialised;
				// atoll's apply checkout is fresh: before the stage's first
				// terraform step it is initialised as the plan stage's
				// init did, unless the stage inits it itself.
				iwd, err := s.x.newWorkdirFor(ctx, *s.job, s.root, s.out, all, true)
				if err != nil {
					return err
				}
				if err := iwd.Init(ctx, s.planInit); err != nil {
					return err
				}
				s.inited = true
			}
			// Only an init step may write the plugin cache.
			wd, err := s.x.newWorkdirFor(ctx, *s.job, s.root, s.out, all, st.Kind == config.StepInit)
			if err != nil {
				return err
			}
			switch st.Kind {
			case config.StepInit:
				opts, err := s.x.initOptions(st.ExtraArgs)
				if err != nil {
					return err
				}
				if err := wd.Init(ctx, opts); err != nil {
					return err
				}
				s.inited = true
				return s.selectWorkspace(ctx, wd)
			case config.StepPolicyCheck:
				return nil // atoll evaluates every policy set on every plan itself
			}
			return builtin(ctx, wd, st)
		}})
	if err != nil {
		var se *workflow.StepError
		if errors.As(err, &se) {
			return res, Step(fmt.Sprintf("%s (%s)", se.Stage, se.Step), se.Err)
		}
		return res, Step(name, err)
	}
	for k, v := range vars {
		if _, set := res.Env[k]; !set {
			res.Env[k] = v
		}
	}
	return res, nil
}

func (s *stageRun) selectWorkspace(ctx context.Context, wd *terraform.Workdir) error {
	if s.selected {
		return nil
	}
	s.selected = true
	if ws := s.job.Project.Workspace; ws != "" && ws != "default" {
		if !s.inited {
			if err := wd.Init(ctx, s.planInit); err != nil {
				return err
			}
			s.inited = true
		}
		return wd.SelectWorkspace(ctx, ws)
	}
	return nil
}

// initOptions maps an init step's extra_args: -backend-config=VALUE is
// what atoll's init takes; anything else is refused by name.
func (x *Jobs) initOptions(args []string) (terraform.InitOptions, error) {
	var o terraform.InitOptions
	for i := 0; i < len(args); i++ {
		a := strings.TrimPrefix(args[i], "-")
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if name != "backend-config" {
			return o, x.explain(templates.JobError{Kind: templates.JobErrInitArgUnsupported, Value: args[i]})
		}
		if !ok {
			if i+1 >= len(args) {
				return o, x.explain(templates.JobError{Kind: templates.JobErrInitArgNeedsValue})
			}
			i++
			value = args[i]
		}
		o.BackendConfig = append(o.BackendConfig, value)
	}
	return o, nil
}

// planWithWorkflow runs the workflow's plan stage (and its policy_check
// stage, when it defines one) for job's project, then reads the plan the
// stage left at PLANFILE as PlanProject does.
func (x *Jobs) planWithWorkflow(ctx context.Context, job *records.Job, root string, out io.Writer, refreshOnly bool, wf *config.Workflow) (PlanResult, error) {
	s, err := x.newStageRun(ctx, job, root, out)
	if err != nil {
		return PlanResult{}, err
	}
	var planned *terraform.PlanOutcome
	res, err := s.run(ctx, "plan", wf.Steps("plan"), nil, func(ctx context.Context, wd *terraform.Workdir, st config.Step) error {
		switch st.Kind {
		case config.StepPlan:
			if err := s.selectWorkspace(ctx, wd); err != nil {
				return err
			}
			o, err := wd.Plan(ctx, terraform.PlanOptions{Out: s.planFile, RefreshOnly: refreshOnly,
				VarFiles: job.Project.VarFiles, ExtraArgs: append(append([]string{}, job.ExtraArgs...), st.ExtraArgs...)})
			if err != nil {
				return err
			}
			planned = &o
			return nil
		case config.StepShow:
			return s.writeShow(ctx, wd)
		}
		return x.explain(templates.JobError{Kind: templates.JobErrStepNotInStage, Value: string(st.Kind), Name: "plan"})
	})
	if err != nil {
		return PlanResult{}, err
	}
	outputs := stepOutputs(res.Outputs)
	if wf.PolicyCheck != nil {
		pres, err := s.run(ctx, "policy_check", wf.PolicyCheck.Steps, res.Env, func(ctx context.Context, wd *terraform.Workdir, st config.Step) error {
			if st.Kind == config.StepShow {
				return s.writeShow(ctx, wd)
			}
			return x.explain(templates.JobError{Kind: templates.JobErrStepNotInStage, Value: string(st.Kind), Name: "policy_check"})
		})
		outputs = append(outputs, stepOutputs(pres.Outputs)...)
		if err != nil {
			return PlanResult{}, err
		}
	}
	planDir := filepath.Join(x.cfg.DataDir, "plans")
	if err := os.MkdirAll(planDir, 0o700); err != nil {
		return PlanResult{}, Step("plan", err)
	}
	// The plan moves to the job's temp dir, out of the custom steps'
	// way, where a sandboxed terraform still reads it; it is stored under
	// the data dir as it is shown.
	planFile := filepath.Join(planDir, job.ID+".tfplan")
	localPlan := filepath.Join(jobTempDir(root), job.ID+".tfplan")
	if err := s.takePlan(localPlan); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return PlanResult{}, Step("plan", x.explain(templates.JobError{Kind: templates.JobErrNoPlanWritten}))
		}
		return PlanResult{}, Step("plan", err)
	}
	wd, err := x.newWorkdir(ctx, *job, root, out, res.Env)
	if err != nil {
		return PlanResult{}, err
	}
	summary, js, err := wd.Show(ctx, localPlan)
	if err != nil {
		return PlanResult{}, Step("show", err)
	}
	text, err := wd.ShowText(ctx, localPlan)
	if err != nil {
		return PlanResult{}, Step("show", err)
	}
	sum, err := x.keepPlan(ctx, localPlan, planFile)
	if err != nil {
		return PlanResult{}, err
	}
	changes := summaryHasChanges(summary)
	if planned != nil {
		changes = *planned == terraform.Changes
	}
	pr := PlanResult{File: planFile, LocalPlan: localPlan, SHA256: sum, Changes: changes, PlanJSON: js}
	pr.Outcome = records.Outcome{Summary: summary, PlanText: terraform.StripANSI(text), Steps: outputs,
		Status: string(templates.StatusNoChanges)}
	if changes {
		pr.Outcome.Status = string(templates.StatusPlanned)
	}
	return pr, nil
}

// writeShow writes the plan's JSON to SHOWFILE, as Atlantis's show step.
func (s *stageRun) writeShow(ctx context.Context, wd *terraform.Workdir) error {
	_, js, err := wd.Show(ctx, s.planFile)
	if err != nil {
		return err
	}
	return safefs.WriteFileIn(s.root, s.inCheckout(s.showFile), js, 0o600)
}

// inCheckout is path (in the project dir) relative to the checkout, for
// safefs: the custom steps that ran before atoll writes or reads there
// may have swapped the project dir, or a parent, for a symlink out of the
// checkout, and atoll's own writes must not follow it.
func (s *stageRun) inCheckout(path string) string {
	rel, err := filepath.Rel(s.root, path)
	if err != nil {
		return path // absolute: os.Root refuses it
	}
	return rel
}

// takePlan moves the plan the plan stage wrote at PLANFILE to localPlan
// in the job's temp dir, reading it beneath the checkout (inCheckout) and
// writing a new file, never through a symlink.
func (s *stageRun) takePlan(localPlan string) error {
	name := s.inCheckout(s.planFile)
	data, err := safefs.ReadFile(s.root, name)
	if err != nil {
		return err
	}
	if err := safefs.WritePath(localPlan, data, 0o600); err != nil {
		return err
	}
	root, err := os.OpenRoot(s.root)
	if err != nil {
		return err
	}
	defer root.Close()
	return root.Remove(name)
}

// applyProject applies the recorded plan file of job's project in the
// checkout at root: atoll's init and apply, or the workflow's apply
// stage, whose apply step applies that file (run steps find a copy at
// PLANFILE). wd, when not nil, is the working directory the plan was
// made in, initialised already (built-in steps only). beforeApply is
// called just before terraform apply starts.
func (x *Jobs) applyProject(ctx context.Context, job *records.Job, root string, out io.Writer, planFile string, wd *terraform.Workdir, beforeApply func() error) ([]records.StepOutput, error) {
	if err := x.preHooks(ctx, job, root, out, "apply"); err != nil {
		return nil, err
	}
	defer x.postHooks(ctx, job, root, out, "apply")
	wf, err := x.workflowFor(ctx, *job)
	if err != nil {
		return nil, Step("workflow", err)
	}
	if wf == nil {
		if wd == nil {
			if wd, err = x.terraformFor(ctx, *job, root, out); err != nil {
				return nil, err
			}
		}
		if err := beforeApply(); err != nil {
			return nil, err
		}
		return nil, Step("apply", wd.Apply(ctx, planFile))
	}
	s, err := x.newStageRun(ctx, job, root, out)
	if err != nil {
		return nil, err
	}
	if err := s.copyPlanIn(planFile); err != nil {
		return nil, Step("apply", err)
	}
	for _, st := range wf.Steps("plan") {
		if st.Kind == config.StepInit {
			if s.planInit, err = x.initOptions(st.ExtraArgs); err != nil {
				return nil, Step("init", err)
			}
			break
		}
	}
	res, err := s.run(ctx, "apply", wf.Steps("apply"), nil, func(ctx context.Context, wd *terraform.Workdir, st config.Step) error {
		switch st.Kind {
		case config.StepApply:
			if err := s.selectWorkspace(ctx, wd); err != nil {
				return err
			}
			if err := beforeApply(); err != nil {
				return err
			}
			return wd.Apply(ctx, planFile)
		case config.StepShow:
			return s.writeShow(ctx, wd)
		}
		return x.explain(templates.JobError{Kind: templates.JobErrStepNotInStage, Value: string(st.Kind), Name: "apply"})
	})
	return stepOutputs(res.Outputs), err
}

func stepOutputs(outs []workflow.Output) []records.StepOutput {
	var r []records.StepOutput
	for _, o := range outs {
		r = append(r, records.StepOutput{Step: o.Step, Output: o.Text, Cut: o.Cut})
	}
	return r
}

func summaryHasChanges(s *terraform.Summary) bool {
	return s != nil && (s.Create+s.Update+s.Delete+s.Replace+s.Import+s.Move+s.Forget > 0 || len(s.Outputs) > 0)
}

// copyPlanIn copies a plan file to PLANFILE, where custom steps read it,
// beneath the checkout (inCheckout).
func (s *stageRun) copyPlanIn(from string) error {
	data, err := safefs.ReadPath(from)
	if err != nil {
		return err
	}
	return safefs.WriteFileIn(s.root, s.inCheckout(s.planFile), data, 0o600)
}
