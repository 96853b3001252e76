package execute

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/workflow"
	"github.com/atollhq/atoll/templates"
)

// withWorkflow is x with the server workflow name, its steps those given.
func withWorkflow(x *Jobs, name string, wf config.Workflow) *Jobs {
	d := x.cfg
	d.Launch = workflow.Exec
	d.Server.Workflows = map[string]config.Workflow{name: wf}
	return New(d)
}

// A project on a server workflow plans through its stage: its run step
// runs in the project's dir with Atlantis's variables and its output is
// shown, and atoll still reads, stores and applies the plan the stage
// wrote. Its apply stage, the default [apply], applies in a fresh
// checkout that atoll initialises first, as the plan stage's init did:
// without it terraform refuses to apply a plan of a provider it has not
// installed.
func TestWorkflowPlanThenApply(t *testing.T) {
	o := newOrigin(t)
	x, _, rec, _ := testJobs(t, o)
	marker := filepath.Join(t.TempDir(), "seen")
	x = withWorkflow(x, "custom", config.Workflow{Plan: &config.Stage{Steps: []config.Step{
		{Kind: config.StepInit},
		{Kind: config.StepRun, Command: `echo "$PROJECT_NAME $WORKSPACE" > ` + marker + ` && echo hello from the step`},
		{Kind: config.StepPlan},
	}}})
	ctx := context.Background()
	project := records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default", Workflow: "custom"}}
	var log strings.Builder
	out := x.Plan(ctx, &records.Job{ID: "plan1", Kind: records.JobPlan, Repo: repo, Number: 1, HeadSHA: o.head, BaseSHA: o.base, Project: project}, &log)
	if out.Status != string(templates.StatusPlanned) || out.Summary == nil || out.Summary.Create != 1 {
		t.Fatalf("plan: %+v\n%s", out, log.String())
	}
	if len(out.Steps) != 1 || !strings.Contains(out.Steps[0].Output, "hello from the step") {
		t.Errorf("the comment shows steps %+v, want the run step's output", out.Steps)
	}
	if b, err := os.ReadFile(marker); err != nil || strings.TrimSpace(string(b)) != "app default" {
		t.Errorf("the run step saw %q (%v), want the project's name and workspace", b, err)
	}
	key := records.PlanKey(repo.FullName(), 1, "app")
	if err := rec.SetPlanState(ctx, key, records.PlanApplying, "apply1"); err != nil {
		t.Fatal(err)
	}
	out = x.Apply(ctx, &records.Job{ID: "apply1", Kind: records.JobApply, Repo: repo, Number: 1, HeadSHA: o.head, BaseSHA: o.base, Project: project}, &log)
	if out.Status != string(templates.StatusApplied) {
		t.Fatalf("apply: %+v\n%s", out, log.String())
	}
	if b, err := os.ReadFile(o.out); err != nil || string(b) != "two" {
		t.Errorf("the applied file holds %q (%v)", b, err)
	}
}

// A workflow whose plan stage holds an apply step fails the plan at that
// step, saying so, and stores no plan: nothing was applied.
func TestWorkflowStepOutOfItsStage(t *testing.T) {
	o := newOrigin(t)
	x, _, rec, _ := testJobs(t, o)
	x = withWorkflow(x, "bad", config.Workflow{Plan: &config.Stage{Steps: []config.Step{{Kind: config.StepInit}, {Kind: config.StepApply}}}})
	project := records.Project{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default", Workflow: "bad"}}
	var log strings.Builder
	out := x.Plan(context.Background(), &records.Job{ID: "plan1", Kind: records.JobPlan, Repo: repo, Number: 1, HeadSHA: o.head, BaseSHA: o.base, Project: project}, &log)
	if out.Status != string(templates.StatusPlanError) || out.Error != "the apply step does not belong in the plan stage" || !strings.HasPrefix(out.FailedStep, "plan") {
		t.Fatalf("plan: %+v", out)
	}
	var plan records.Plan
	if ok, _ := rec.Get(context.Background(), records.Plans, records.PlanKey(repo.FullName(), 1, "app"), &plan); ok {
		t.Errorf("a plan was stored: %+v", plan)
	}
	if _, err := os.Stat(o.out); !os.IsNotExist(err) {
		t.Errorf("the workflow applied: %v", err)
	}
}
