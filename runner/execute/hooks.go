package execute

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/workflow"
	"github.com/atollhq/atoll/templates"
)

// Pre- and post-workflow hooks (repo_rules' pre_workflow_hooks and
// post_workflow_hooks), as Atlantis's: shell commands run in the checkout's
// root around a pull request's plan or apply. atoll checks each project out
// apart, so a hook runs in each project's checkout, before (pre) and after
// (post) that project's steps; a failing pre-workflow hook fails the
// project, a failing post-workflow hook is logged only. Drift checks run
// no hooks. Their output goes to the job's log.

// hooksFor returns the hooks of job's repository for command ("plan" or
// "apply").
func (x *Jobs) hooksFor(ctx context.Context, job records.Job, command string) (pre, post []config.Hook) {
	if len(x.srv.RepoRules) == 0 || job.Kind == records.JobDrift {
		return nil, nil
	}
	rs := x.srv.RepoSettings(job.Repo.FullName(), x.BaseRefOf(ctx, job))
	return hooksOf(rs.PreWorkflowHooks, command), hooksOf(rs.PostWorkflowHooks, command)
}

// hooksOf keeps the hooks that run for command.
func hooksOf(hooks []config.Hook, command string) []config.Hook {
	var out []config.Hook
	for _, h := range hooks {
		if h.Commands == "" {
			out = append(out, h)
			continue
		}
		for _, c := range strings.Split(h.Commands, ",") {
			if strings.TrimSpace(c) == command {
				out = append(out, h)
				break
			}
		}
	}
	return out
}

// runHooks runs hooks in the checkout at root, in order, and stops at the
// first failure. kind is "pre_workflow_hooks" or "post_workflow_hooks".
func (x *Jobs) runHooks(ctx context.Context, job *records.Job, root string, out io.Writer, command, kind string, hooks []config.Hook) error {
	if len(hooks) == 0 {
		return nil
	}
	s, err := x.newStageRun(ctx, job, root, out)
	if err != nil {
		return err
	}
	steps := make([]config.Step, len(hooks))
	for i, h := range hooks {
		steps[i] = config.Step{Kind: config.StepRun, Command: h.Run, Shell: h.Shell, ShellArgs: h.ShellArgs, Output: config.OutputHide}
	}
	env := append(append([]string{}, s.env...), "DIR="+root, "COMMAND_NAME="+command)
	fmt.Fprintln(out, x.text(templates.HookLog{Hooks: kind, Count: len(hooks)}))
	_, err = workflow.Run(ctx, workflow.Stage{Name: kind, Steps: steps, Dir: root, Env: env, Log: out, Launch: s.launch})
	if se, ok := err.(*workflow.StepError); ok {
		what := hooks[se.Index].Description
		if what == "" {
			what = hooks[se.Index].Run
		}
		return Step(kind+" ("+what+")", se.Err)
	}
	return err
}

// preHooks runs the pre-workflow hooks of command for job; postHooks its
// post-workflow hooks, whose failure is only logged.
func (x *Jobs) preHooks(ctx context.Context, job *records.Job, root string, out io.Writer, command string) error {
	pre, _ := x.hooksFor(ctx, *job, command)
	return x.runHooks(ctx, job, root, out, command, "pre_workflow_hooks", pre)
}

func (x *Jobs) postHooks(ctx context.Context, job *records.Job, root string, out io.Writer, command string) {
	_, post := x.hooksFor(ctx, *job, command)
	if err := x.runHooks(ctx, job, root, out, command, "post_workflow_hooks", post); err != nil {
		fmt.Fprintln(out, x.text(templates.HookLog{Hooks: "post_workflow_hooks", Error: err.Error()}))
		x.log.Warn("post-workflow hook failed", "job", job.ID, "err", err)
	}
}
