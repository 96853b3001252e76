// Package workflow runs the stages of a workflow, as Atlantis's custom
// workflows define them (server config `workflows`, see config.Workflow):
// built-in steps (init, plan, apply, show, policy_check) through the
// caller, and run, env and multienv steps as shell commands.
//
// Every command a step starts goes through one Launcher, so that the
// sandbox terraform runs in wraps custom steps too: a caller that sandboxes
// terraform passes a Launcher that sandboxes the *exec.Cmd it is given.
//
// Guarantees: steps run in order and the first failure stops the stage; a
// step's output goes to the stage's log as it comes, and the output of run
// steps that show it is returned for the comment (the caller masks
// secrets in what it posts); env and multienv steps set variables for
// every later step of the stage, built-in ones included; a command stops
// when ctx ends (the job's end), its whole process group interrupted,
// then killed after a grace period.
package workflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/atollhq/atoll/runner/config"
)

// Launcher runs one prepared command to its end and returns its error
// (an *exec.ExitError for a non-zero exit). It must stop the command
// when ctx ends. Exec is the default.
type Launcher func(ctx context.Context, cmd *exec.Cmd) error

// Builtin runs a built-in step (init, plan, apply, show, policy_check)
// with the variables env and multienv steps set so far.
type Builtin func(ctx context.Context, step config.Step, env map[string]string) error

// Stage is one stage to run.
type Stage struct {
	// Name is the stage ("plan", "apply", "policy_check"), for errors.
	Name  string
	Steps []config.Step
	// Dir is where commands run: the project directory.
	Dir string
	// Env is the environment of every command, "KEY=value": what
	// terraform sees, plus Atlantis's variables (see Vars).
	Env []string
	// Log receives every line of every command's output. May be nil.
	Log io.Writer
	// Launch runs the commands; nil: Exec.
	Launch Launcher
	// Builtin runs the built-in steps. Required when the stage has one.
	Builtin Builtin
}

// Output is what one step showed, for the comment.
type Output struct {
	// Step describes the step as written ("run: tflint").
	Step string
	// Text is its output (stdout and stderr, in order), refreshing lines
	// dropped for output: strip_refreshing.
	Text string
	// Cut: the output was longer than the 1 MiB kept; Text is its start
	// (the job log has it all).
	Cut bool
}

// Result is what a stage left.
type Result struct {
	// Env are the variables env and multienv steps set.
	Env map[string]string
	// Outputs are the outputs of the run steps that show theirs, in order.
	Outputs []Output
}

// StepError is a step that failed: which, why, and its output.
type StepError struct {
	Stage string
	// Index is the step's position in its stage, from 0.
	Index int
	Step  string
	Err   error
	// Output is the command's output, for run, env and multienv steps.
	Output string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s step %d (%s): %v", e.Stage, e.Index+1, e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// maxOutput bounds the output kept of one command; the log gets it all.
const maxOutput = 1 << 20

// Run runs the stage's steps in order and stops at the first failure,
// returned as a *StepError with what the stage produced so far.
func Run(ctx context.Context, s Stage) (Result, error) {
	res := Result{Env: map[string]string{}}
	launch := s.Launch
	if launch == nil {
		launch = Exec
	}
	for i, st := range s.Steps {
		if err := ctx.Err(); err != nil {
			return res, &StepError{Stage: s.Name, Index: i, Step: st.String(), Err: err}
		}
		fail := func(err error, out string) error {
			return &StepError{Stage: s.Name, Index: i, Step: st.String(), Err: err, Output: out}
		}
		switch st.Kind {
		case config.StepRun:
			out, _, cut, err := s.command(ctx, launch, st, res.Env, true)
			if err != nil {
				return res, fail(err, out)
			}
			switch st.Output {
			case config.OutputHide:
			case config.OutputStripRefreshing:
				res.Outputs = append(res.Outputs, Output{Step: st.String(), Text: StripRefreshing(out), Cut: cut})
			default:
				res.Outputs = append(res.Outputs, Output{Step: st.String(), Text: out, Cut: cut})
			}
		case config.StepEnv:
			if st.Command == "" {
				res.Env[st.Name] = st.Value
				continue
			}
			out, stdout, _, err := s.command(ctx, launch, st, res.Env, false)
			if err != nil {
				return res, fail(err, out)
			}
			res.Env[st.Name] = strings.TrimRight(stdout, "\r\n")
		case config.StepMultiEnv:
			out, stdout, _, err := s.command(ctx, launch, st, res.Env, false)
			if err != nil {
				return res, fail(err, out)
			}
			vars, err := ParseMultiEnv(stdout)
			if err != nil {
				return res, fail(err, out)
			}
			for k, v := range vars {
				res.Env[k] = v
			}
			if st.Output != config.OutputHide {
				res.Outputs = append(res.Outputs, Output{Step: st.String(), Text: multiEnvText(vars)})
			}
		default:
			if s.Builtin == nil {
				return res, fail(errors.New("no built-in steps in this stage"), "")
			}
			if err := s.Builtin(ctx, st, copyEnv(res.Env)); err != nil {
				return res, fail(err, "")
			}
		}
	}
	return res, nil
}

// command runs a run, env or multienv step's command. combined is its
// stdout and stderr as they came; stdout alone is returned apart (env and
// multienv read it). With showStdout (run steps) both share one pipe, in
// order, and reach the log; without it, stdout stays out of the log (an
// env value may be a secret) and only stderr reaches it.
func (s Stage) command(ctx context.Context, launch Launcher, st config.Step, vars map[string]string, showStdout bool) (combined, stdout string, cut bool, err error) {
	shell, args := st.Shell, st.ShellArgs
	if shell == "" {
		shell = "sh"
	}
	if len(args) == 0 {
		args = []string{"-c"}
	}
	cmd := exec.Command(shell, append(append([]string{}, args...), st.Command)...)
	cmd.Dir = s.Dir
	cmd.Env = mergeEnv(s.Env, vars)
	all := &capped{max: maxOutput}
	out := &capped{max: maxOutput}
	var mu sync.Mutex
	log := s.Log
	if log == nil {
		log = io.Discard
	}
	if showStdout {
		// One writer for both, so that exec gives the command one pipe
		// and its output keeps the order it was written in.
		w := &lockedWriter{&mu, multi(all, out, log)}
		cmd.Stdout, cmd.Stderr = w, w
	} else {
		cmd.Stdout = &lockedWriter{&mu, multi(all, out)}
		cmd.Stderr = &lockedWriter{&mu, multi(all, log)}
	}
	if err := launch(ctx, cmd); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("exit status %d", ee.ExitCode())
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return all.String(), out.String(), all.cut, err
	}
	return all.String(), out.String(), all.cut, nil
}

// mergeEnv is base with vars set over it (later wins), sorted by key for
// vars so that runs are reproducible.
func mergeEnv(base []string, vars map[string]string) []string {
	out := make([]string, 0, len(base)+len(vars))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, over := vars[k]; !over {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+vars[k])
	}
	return out
}

func copyEnv(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseMultiEnv reads a multienv command's output: KEY=value pairs
// separated by commas or newlines, as Atlantis's multienv step prints
// them ("A=1,B=2"). Blank entries are skipped; a value may hold "=" but
// not a comma.
func ParseMultiEnv(out string) (map[string]string, error) {
	vars := map[string]string{}
	for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !envKeyRE.MatchString(k) {
			return nil, fmt.Errorf("multienv: %q is not NAME=value (print NAME=value pairs separated by commas)", line)
		}
		vars[k] = v
	}
	return vars, nil
}

// multiEnvText names the variables a multienv step set, never their
// values (they may be secrets).
func multiEnvText(vars map[string]string) string {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "set " + strings.Join(keys, ", ")
}

var refreshing = regexp.MustCompile(`: (Refreshing state\.\.\.|Reading\.\.\.|Read complete after )`)

// StripRefreshing drops terraform's lines about refreshing and reading
// resources, as Atlantis's output: strip_refreshing does.
func StripRefreshing(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if !refreshing.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.TrimLeft(strings.Join(out, "\n"), "\n")
}

// capped keeps the first max bytes written to it.
type capped struct {
	max int
	b   bytes.Buffer
	cut bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.b.Len(); room > 0 {
		if len(p) > room {
			c.b.Write(p[:room])
			c.cut = true
		} else {
			c.b.Write(p)
		}
	} else if len(p) > 0 {
		c.cut = true
	}
	return len(p), nil
}

// String is the first max bytes written; cut tells whether more came.
func (c *capped) String() string { return c.b.String() }

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// multi writes to every writer and never fails: a broken log must not
// fail a step.
func multi(ws ...io.Writer) io.Writer { return multiWriter(ws) }

type multiWriter []io.Writer

func (m multiWriter) Write(p []byte) (int, error) {
	for _, w := range m {
		_, _ = w.Write(p)
	}
	return len(p), nil
}
