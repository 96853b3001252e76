package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const workflowsYAML = `
workflows:
  custom:
    plan:
      steps:
      - env:
          name: TF_VAR_region
          value: eu-west-1
      - env:
          name: TOKEN
          command: cat token.txt
      - multienv: ./envs.sh
      - run: tflint
      - init:
          extra_args: ["-upgrade"]
      - plan
      - run:
          command: infracost breakdown --path $PLANFILE
          output: hide
    apply:
      steps: [apply]
  empty:
    plan:
      steps: []
repo_rules:
- id: /.*/
  apply_requirements: [approved]
  workflow: custom
  pre_workflow_hooks:
  - run: make setup
    commands: plan
- id: acme/special
  branch: /^main$/
  allowed_overrides: [apply_requirements, workflow]
  allowed_workflows: [empty]
  allow_custom_workflows: true
  policy_check: false
  repo_config_file: infra/atlantis.yaml
`

func TestLoadServerWorkflows(t *testing.T) {
	path := writeFile(t, "server.yaml", minimal(t)+workflowsYAML)
	s, err := LoadServer(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := LookupWorkflow("custom", nil, s.Workflows)
	if !ok {
		t.Fatal("workflow custom not found")
	}
	got := []string{}
	for _, st := range w.Steps("plan") {
		got = append(got, st.String())
	}
	want := []string{"env: TF_VAR_region=eu-west-1", "env: TOKEN=$(cat token.txt)", "multienv: ./envs.sh", "run: tflint", "init -upgrade", "plan", "run: infracost breakdown --path $PLANFILE"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan steps:\n got %q\nwant %q", got, want)
	}
	if o := w.Steps("plan")[6].Output; o != OutputHide {
		t.Errorf("output = %q, want hide", o)
	}
	if ps := w.Steps("policy_check"); len(ps) != 2 || ps[0].Kind != StepShow || ps[1].Kind != StepPolicyCheck {
		t.Errorf("policy_check stage left out should be the default [show, policy_check], got %v", ps)
	}
	if e, _ := LookupWorkflow("empty", nil, s.Workflows); len(e.Steps("plan")) != 0 || len(e.Steps("apply")) != 1 {
		t.Errorf("empty workflow: plan %v apply %v", e.Steps("plan"), e.Steps("apply"))
	}
	if d, ok := LookupWorkflow("", nil, s.Workflows); !ok || len(d.Steps("plan")) != 2 {
		t.Errorf("default workflow missing: %v", d)
	}

	all := s.RepoSettings("acme/other", "dev")
	if all.Workflow != "custom" || !reflect.DeepEqual(all.ApplyRequirements, []Requirement{Approved}) || !all.PolicyCheck ||
		all.RepoConfigFile != AtlantisFile || len(all.PreWorkflowHooks) != 1 || all.AllowCustomWorkflows {
		t.Errorf("settings of acme/other: %+v", all)
	}
	sp := s.RepoSettings("acme/special", "main")
	if sp.Workflow != "custom" || sp.PolicyCheck || !sp.AllowCustomWorkflows || sp.RepoConfigFile != "infra/atlantis.yaml" ||
		!sp.MayOverride(OverrideWorkflow) || sp.WorkflowAllowed("other") || !sp.WorkflowAllowed("empty") || len(sp.PreWorkflowHooks) != 1 {
		t.Errorf("settings of acme/special on main (later rule adds to the first): %+v", sp)
	}
	if s.RepoSettings("acme/special", "dev").AllowCustomWorkflows {
		t.Error("a rule with branch /^main$/ applied to a pull request into dev")
	}
	if !s.RepoSettings("ACME/Special", "main").AllowCustomWorkflows {
		t.Error("repository globs ignore case, as GitHub does")
	}
	f := s.ForRepo("acme/special", "main")
	if !reflect.DeepEqual(f.ApplyRequirements, []Requirement{Approved}) || len(f.RepoMayRelax) != 3 || !f.RepoSettings("", "").AllowCustomWorkflows {
		t.Errorf("ForRepo: requirements %v, may relax %v", f.ApplyRequirements, f.RepoMayRelax)
	}
}

func TestRepoRuleIDs(t *testing.T) {
	for _, c := range []struct {
		id, repo string
		want     bool
	}{
		{"acme/*", "acme/infra", true},
		{"acme/*", "other/infra", false},
		{"github.com/acme/infra", "acme/infra", true},
		{"/^github\\.com\\/acme\\//", "acme/infra", true},
		{"/infra$/", "acme/infra", true},
		{"/.*/", "x/y", true},
	} {
		if got := (RepoRule{ID: c.id}).matchesRepo("github.com", c.repo); got != c.want {
			t.Errorf("id %q on %s = %v, want %v", c.id, c.repo, got, c.want)
		}
	}
}

func TestLoadServerWorkflowErrors(t *testing.T) {
	body := minimal(t) + `workflows:
  bad:
    plan:
      steps:
      - terraform
      - run
      - env: {name: X}
      - run: {command: tflint, output: loud}
      - {init: {}, plan: {}}
repo_rules:
- id: ""
- id: acme/*
  branch: main
  workflow: nope
  allowed_overrides: [workflows]
  pre_workflow_hooks: [{description: nothing}]
`
	path := writeFile(t, "server.yaml", body)
	_, err := LoadServer(path, nil, nil)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a ValidationError, got %v", err)
	}
	text := err.Error()
	for _, want := range []string{
		`:9:9: workflows.bad.plan.steps[0]: unknown step "terraform"`,
		`:10:9: workflows.bad.plan.steps[1]: step "run" needs a value`,
		`:11:14: workflows.bad.plan.steps[2].env: set exactly one of value or command`,
		`workflows.bad.plan.steps[3].run.output: unknown output "loud"`,
		`:13:9: workflows.bad.plan.steps[4]: a step is a mapping with exactly one key`,
		`repo_rules[0].id: required`,
		`repo_rules[1].branch: write the regular expression between slashes: /main/`,
		`repo_rules[1].workflow: no workflow "nope"`,
		`repo_rules[1].allowed_overrides[0]: unknown key "workflows"`,
		`repo_rules[1].pre_workflow_hooks[0].run: required`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("errors lack %q:\n%s", want, text)
		}
	}
}
