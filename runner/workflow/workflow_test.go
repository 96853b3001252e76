package workflow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/config"
)

func stage(t *testing.T, steps ...config.Step) Stage {
	t.Helper()
	return Stage{Name: "plan", Steps: steps, Dir: t.TempDir(), Env: []string{"PATH=" + os.Getenv("PATH"), "WORKSPACE=staging"}}
}

func TestRunSteps(t *testing.T) {
	var log strings.Builder
	var builtins []string
	s := stage(t,
		config.Step{Kind: config.StepEnv, Name: "FIXED", Value: "one"},
		config.Step{Kind: config.StepEnv, Name: "FROM_CMD", Command: "echo two-$FIXED"},
		config.Step{Kind: config.StepMultiEnv, Command: "echo 'A=1,B=x=y'"},
		config.Step{Kind: config.StepRun, Command: "echo ws=$WORKSPACE fixed=$FIXED cmd=$FROM_CMD a=$A b=$B; echo oops >&2"},
		config.Step{Kind: config.StepRun, Command: "echo hidden", Output: config.OutputHide},
		config.Step{Kind: config.StepPlan, ExtraArgs: []string{"-refresh=false"}},
		config.Step{Kind: config.StepRun, Output: config.OutputStripRefreshing,
			Command: "printf 'x: Refreshing state... [id=1]\\ny: Reading...\\ny: Read complete after 0s\\nPlan: 1 to add\\n'"},
	)
	s.Log = &log
	s.Builtin = func(_ context.Context, st config.Step, env map[string]string) error {
		builtins = append(builtins, st.String()+" FROM_CMD="+env["FROM_CMD"])
		return nil
	}
	res, err := Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"FIXED": "one", "FROM_CMD": "two-one", "A": "1", "B": "x=y"}
	if !reflect.DeepEqual(res.Env, want) {
		t.Fatalf("env = %v, want %v", res.Env, want)
	}
	if len(res.Outputs) != 3 {
		t.Fatalf("outputs = %+v, want the multienv, the first run and the stripped run", res.Outputs)
	}
	if got := res.Outputs[0].Text; got != "set A, B" {
		t.Fatalf("multienv output = %q: it names the variables, never their values", got)
	}
	if got := res.Outputs[1].Text; got != "ws=staging fixed=one cmd=two-one a=1 b=x=y\noops\n" {
		t.Fatalf("run output = %q", got)
	}
	if got := res.Outputs[2].Text; got != "Plan: 1 to add\n" {
		t.Fatalf("strip_refreshing output = %q", got)
	}
	if !reflect.DeepEqual(builtins, []string{"plan -refresh=false FROM_CMD=two-one"}) {
		t.Fatalf("builtins = %q", builtins)
	}
	if l := log.String(); !strings.Contains(l, "hidden") || strings.Contains(l, "two-one\n") {
		t.Fatalf("log = %q: hidden output goes to the log, an env command's stdout does not", l)
	}
}

func TestRunStopsAtFirstFailure(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	s := stage(t,
		config.Step{Kind: config.StepRun, Command: "echo checking; exit 3"},
		config.Step{Kind: config.StepRun, Command: "touch " + marker},
	)
	_, err := Run(context.Background(), s)
	var se *StepError
	if !errors.As(err, &se) || se.Index != 0 || !strings.Contains(se.Err.Error(), "exit status 3") || se.Output != "checking\n" {
		t.Fatalf("err = %#v, want step 1's failure with its output", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a step after the failing one ran")
	}
}

func TestRunBadMultiEnv(t *testing.T) {
	_, err := Run(context.Background(), stage(t, config.Step{Kind: config.StepMultiEnv, Command: "echo not-a-pair"}))
	if err == nil || !strings.Contains(err.Error(), `"not-a-pair" is not NAME=value`) {
		t.Fatalf("err = %v", err)
	}
}

// A step outlived by its job stops, children included.
func TestRunStopsWithContext(t *testing.T) {
	old := KillGrace
	KillGrace = 500 * time.Millisecond
	t.Cleanup(func() { KillGrace = old })
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, stage(t, config.Step{Kind: config.StepRun,
		Command: "trap '' INT; sleep 30 & echo $! > " + pidFile + "; wait"}))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the step took %s to stop", d)
	}
	data, _ := os.ReadFile(pidFile)
	pid := strings.TrimSpace(string(data))
	if pid == "" {
		t.Fatal("the step did not start its child")
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat("/proc/" + pid); err == nil {
		if st, _ := os.ReadFile("/proc/" + pid + "/stat"); !strings.Contains(string(st), ") Z ") {
			t.Fatalf("the step's child %s still runs", pid)
		}
	}
}

func TestVarsEnviron(t *testing.T) {
	env := Vars{Workspace: "staging", PullNum: 7, CommentArgs: []string{"-target=a.b", "x"}}.Environ()
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	if got["WORKSPACE"] != "staging" || got["PULL_NUM"] != "7" || got["COMMENT_ARGS"] != `\-\t\a\r\g\e\t\=\a\.\b,\x` {
		t.Fatalf("environ = %v", got)
	}
	for _, k := range []string{"DIR", "PLANFILE", "SHOWFILE", "PROJECT_NAME", "PULL_AUTHOR", "HEAD_COMMIT", "BASE_BRANCH_NAME",
		"HEAD_BRANCH_NAME", "REPO_REL_DIR", "USER_NAME", "ATLANTIS_TERRAFORM_VERSION"} {
		if _, ok := got[k]; !ok {
			t.Errorf("%s is missing", k)
		}
	}
}

// TestLongOutputIsCut: a step printing more than maxOutput keeps the
// first maxOutput bytes and says it was cut (the template says so in
// words); an env value read from a long output carries no note either.
func TestLongOutputIsCut(t *testing.T) {
	s := stage(t,
		config.Step{Kind: config.StepRun, Command: "head -c 1100000 /dev/zero | tr '\\0' x"},
		config.Step{Kind: config.StepRun, Command: "echo short"},
		config.Step{Kind: config.StepEnv, Name: "BIG", Command: "head -c 1100000 /dev/zero | tr '\\0' v"}, // last: too big for a command's environment
	)
	res, err := Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Outputs) != 2 {
		t.Fatalf("outputs = %d, want 2", len(res.Outputs))
	}
	if o := res.Outputs[0]; !o.Cut || len(o.Text) != maxOutput || strings.Trim(o.Text, "x") != "" {
		t.Errorf("long output: cut %v, %d bytes, other than x: %q", o.Cut, len(o.Text), strings.Trim(o.Text, "x"))
	}
	if o := res.Outputs[1]; o.Cut || o.Text != "short\n" {
		t.Errorf("short output = %+v", o)
	}
	if v := res.Env["BIG"]; len(v) != maxOutput || strings.Trim(v, "v") != "" {
		t.Errorf("env value: %d bytes, other than v: %q", len(v), strings.Trim(v, "v"))
	}
}
