package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Workflows: named sequences of steps, as Atlantis defines them. The server
// configuration's `workflows` holds them; a repository's atoll.yaml or
// atlantis.yaml may define its own only where the server's repo_rules set
// allow_custom_workflows. A project picks one by name (`workflow`); without
// one it runs the workflow named "default", which is DefaultWorkflow unless
// the server defines its own "default".
//
// YAML shape (the runner executes these; this package only reads and
// checks them):
//
//	workflows:
//	  NAME:
//	    plan:         {steps: [STEP, ...]}   # absent: [init, plan]
//	    apply:        {steps: [STEP, ...]}   # absent: [apply]
//	    policy_check: {steps: [STEP, ...]}   # absent: [show, policy_check]
//
// where each STEP is one of
//
//	init | plan | apply | show | policy_check          # a built-in step
//	init: {extra_args: ["-upgrade"]}                    # the same, with arguments
//	run: COMMAND                                        # a shell command
//	run: {command: COMMAND, output: show|hide|strip_refreshing, shell: sh, shellArgs: ["-c"]}
//	env: {name: NAME, value: VALUE}                     # a fixed variable
//	env: {name: NAME, command: COMMAND}                 # a variable from a command's stdout
//	multienv: COMMAND                                   # variables from "A=1,B=2" on stdout
//	multienv: {command: COMMAND, output: show|hide, shell: sh, shellArgs: ["-c"]}
//
// After decoding, a Step's Kind says which; Shell and ShellArgs are empty
// unless written (the runner's default is "sh" with ["-c"]); Output is
// empty unless written (meaning OutputShow).
type Workflow struct {
	// Plan, Apply and PolicyCheck are the stages; nil: the stage's default
	// steps (see Steps).
	Plan        *Stage `yaml:"plan"`
	Apply       *Stage `yaml:"apply"`
	PolicyCheck *Stage `yaml:"policy_check"`
}

// Stage is one stage of a workflow: its steps, in order.
type Stage struct {
	Steps []Step `yaml:"steps"`
}

// StepKind names what a step does.
type StepKind string

// Step kinds.
const (
	StepInit        StepKind = "init"
	StepPlan        StepKind = "plan"
	StepApply       StepKind = "apply"
	StepShow        StepKind = "show"
	StepPolicyCheck StepKind = "policy_check"
	StepRun         StepKind = "run"
	StepEnv         StepKind = "env"
	StepMultiEnv    StepKind = "multienv"
)

// builtinSteps are the steps that run terraform (or the policy engine)
// themselves; each takes extra_args.
var builtinSteps = []StepKind{StepInit, StepPlan, StepApply, StepShow, StepPolicyCheck}

// Output values of run and multienv steps.
const (
	// OutputShow (the default) puts the step's output in the comment.
	OutputShow = "show"
	// OutputHide keeps it out of the comment (it stays in the job log).
	OutputHide = "hide"
	// OutputStripRefreshing (run only) drops terraform's "Refreshing
	// state..." lines from it.
	OutputStripRefreshing = "strip_refreshing"
)

// Step is one step of a stage. Which fields are set depends on Kind:
//
//   - init, plan, apply, show, policy_check: ExtraArgs.
//   - run: Command, Output, Shell, ShellArgs.
//   - env: Name and exactly one of Value or Command.
//   - multienv: Command, Output, Shell, ShellArgs.
type Step struct {
	Kind      StepKind
	ExtraArgs []string
	Command   string
	Output    string
	Shell     string
	ShellArgs []string
	Name      string
	Value     string
}

// DefaultWorkflowName is the workflow a project runs when it names none.
const DefaultWorkflowName = "default"

// DefaultWorkflow is Atlantis's default workflow, and atoll's: plan is
// init then plan, apply is apply, policy_check is show then policy_check.
func DefaultWorkflow() Workflow {
	return Workflow{
		Plan:        &Stage{Steps: []Step{{Kind: StepInit}, {Kind: StepPlan}}},
		Apply:       &Stage{Steps: []Step{{Kind: StepApply}}},
		PolicyCheck: &Stage{Steps: []Step{{Kind: StepShow}, {Kind: StepPolicyCheck}}},
	}
}

// Steps returns the steps of a stage ("plan", "apply" or "policy_check"):
// the workflow's when it defines the stage, else the default workflow's.
// A stage written with no steps has none.
func (w Workflow) Steps(stage string) []Step {
	def := DefaultWorkflow()
	pick := func(s, d *Stage) []Step {
		if s != nil {
			return s.Steps
		}
		return d.Steps
	}
	switch stage {
	case "plan":
		return pick(w.Plan, def.Plan)
	case "apply":
		return pick(w.Apply, def.Apply)
	case "policy_check":
		return pick(w.PolicyCheck, def.PolicyCheck)
	}
	return nil
}

// LookupWorkflow returns the workflow named name from the repository's own
// workflows (when it may define them), else the server's; "default" always
// exists. ok is false for an unknown name.
func LookupWorkflow(name string, repo, server map[string]Workflow) (Workflow, bool) {
	if name == "" {
		name = DefaultWorkflowName
	}
	if w, ok := repo[name]; ok {
		return w, true
	}
	if w, ok := server[name]; ok {
		return w, true
	}
	if name == DefaultWorkflowName {
		return DefaultWorkflow(), true
	}
	return Workflow{}, false
}

// decodeYAML reads a step in any of its forms (see Workflow).
func (s *Step) decodeYAML(d *decoder, n *yaml.Node, key string) {
	switch n.Kind {
	case yaml.ScalarNode:
		k := StepKind(n.Value)
		if !slices.Contains(builtinSteps, k) {
			if k == StepRun || k == StepEnv || k == StepMultiEnv {
				d.report(n, key, FieldError{Kind: KindStepNeedsValue, Name: n.Value,
					Message: fmt.Sprintf("step %q needs a value: write %q", n.Value, n.Value+": ...")})
				return
			}
			d.report(n, key, unknownStep(n.Value))
			return
		}
		s.Kind = k
		return
	case yaml.MappingNode:
	default:
		d.wrongType(n, key, "step", "a step (a name such as init, or a mapping such as run: ...)")
		return
	}
	ps := d.pairs(n, key)
	if len(ps) != 1 {
		d.report(n, key, FieldError{Kind: KindStepKeys, Count: len(ps), Allowed: allStepNames(),
			Message: fmt.Sprintf("a step is a mapping with exactly one key (init, plan, apply, show, policy_check, run, env or multienv), got %d", len(ps))})
		return
	}
	p := ps[0]
	k := StepKind(p.name)
	sk := join(key, p.name)
	d.src[sk] = origin{d.file, p.key.Line, p.key.Column}
	v := d.resolve(p.value, sk)
	if v == nil {
		return
	}
	s.Kind = k
	switch {
	case slices.Contains(builtinSteps, k):
		var b struct {
			ExtraArgs []string `yaml:"extra_args"`
		}
		if !isNull(v) {
			d.decode(v, reflect.ValueOf(&b).Elem(), sk)
		}
		s.ExtraArgs = b.ExtraArgs
	case k == StepRun || k == StepMultiEnv:
		if v.Kind == yaml.ScalarNode && !isNull(v) {
			s.Command = v.Value
			return
		}
		var b struct {
			Command   string   `yaml:"command"`
			Output    string   `yaml:"output"`
			Shell     string   `yaml:"shell"`
			ShellArgs []string `yaml:"shellArgs"`
		}
		d.decode(v, reflect.ValueOf(&b).Elem(), sk)
		s.Command, s.Output, s.Shell, s.ShellArgs = b.Command, b.Output, b.Shell, b.ShellArgs
	case k == StepEnv:
		var b struct {
			Name    string `yaml:"name"`
			Value   string `yaml:"value"`
			Command string `yaml:"command"`
		}
		d.decode(v, reflect.ValueOf(&b).Elem(), sk)
		s.Name, s.Value, s.Command = b.Name, b.Value, b.Command
	default:
		s.Kind = ""
		d.report(p.key, key, unknownStep(p.name))
	}
}

// unknownStep is the error for a step called name, which no step is.
func unknownStep(name string) FieldError {
	return FieldError{Kind: KindUnknownStep, Name: name, Allowed: allStepNames(),
		Message: fmt.Sprintf("unknown step %q: use %s, run, env or multienv", name, stepNames())}
}

// allStepNames lists every step's name, comma-separated.
func allStepNames() string { return stepNames() + ", run, env, multienv" }

func stepNames() string {
	parts := make([]string, len(builtinSteps))
	for i, k := range builtinSteps {
		parts[i] = string(k)
	}
	return strings.Join(parts, ", ")
}

// checkWorkflows validates a map of workflows written under key.
func checkWorkflows(c checker, key string, ws map[string]Workflow) {
	names := make([]string, 0, len(ws))
	for name := range ws {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		wk := join(key, name)
		if !nameRE.MatchString(name) {
			c.report(wk, FieldError{Kind: KindInvalidWorkflowName, Value: name, Message: fmt.Sprintf("invalid workflow name %q: use letters, digits, '-', '_' and '.'", name)})
		}
		w := ws[name]
		for _, st := range []struct {
			name  string
			stage *Stage
		}{{"plan", w.Plan}, {"apply", w.Apply}, {"policy_check", w.PolicyCheck}} {
			if st.stage == nil {
				continue
			}
			for i, s := range st.stage.Steps {
				checkStep(c, index(join(join(wk, st.name), "steps"), i), s)
			}
		}
	}
}

// checkStep validates one decoded step (decoding already reported unknown
// kinds and wrong types).
func checkStep(c checker, key string, s Step) {
	k := join(key, string(s.Kind))
	switch s.Kind {
	case StepRun, StepMultiEnv:
		if strings.TrimSpace(s.Command) == "" {
			c.report(k, FieldError{Kind: KindCommandEmpty, Message: "the command is empty"})
		}
		switch s.Output {
		case "", OutputShow, OutputHide:
		case OutputStripRefreshing:
			if s.Kind == StepMultiEnv {
				c.report(join(k, "output"), FieldError{Kind: KindUnknownMultienvOutput, Value: string(s.Output), Message: fmt.Sprintf("unknown output %q for multienv: use show or hide", s.Output)})
			}
		default:
			c.report(join(k, "output"), FieldError{Kind: KindUnknownOutput, Value: string(s.Output), Message: fmt.Sprintf("unknown output %q: use show, hide or strip_refreshing", s.Output)})
		}
	case StepEnv:
		switch {
		case s.Name == "":
			c.report(join(k, "name"), FieldError{Kind: KindEnvNameRequired, Message: "required: the variable's name"})
		case !envNameRE.MatchString(s.Name):
			c.report(join(k, "name"), FieldError{Kind: KindInvalidEnvName, Value: s.Name, Message: fmt.Sprintf("invalid environment variable name %q", s.Name)})
		}
		if (s.Value == "") == (s.Command == "") && !c.src.set(join(k, "value")) {
			c.report(k, FieldError{Kind: KindValueOrCommand, Message: "set exactly one of value or command"})
		} else if c.src.set(join(k, "value")) && s.Command != "" {
			c.report(k, FieldError{Kind: KindValueOrCommand, Message: "set exactly one of value or command"})
		}
	}
}

// String describes a step as written, for logs and tests.
func (s Step) String() string {
	switch s.Kind {
	case StepRun, StepMultiEnv:
		return fmt.Sprintf("%s: %s", s.Kind, s.Command)
	case StepEnv:
		if s.Command != "" {
			return fmt.Sprintf("env: %s=$(%s)", s.Name, s.Command)
		}
		return fmt.Sprintf("env: %s=%s", s.Name, s.Value)
	}
	if len(s.ExtraArgs) > 0 {
		return fmt.Sprintf("%s %s", s.Kind, strings.Join(s.ExtraArgs, " "))
	}
	return string(s.Kind)
}
