package terraform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunStreamsEveryLineMasked(t *testing.T) {
	out := &syncBuffer{}
	w := fakeWorkdir(t, `echo "out 1 hunter22"
echo "err 1 hunter22" >&2
printf 'no newline'
`, Config{Output: out, Secrets: []string{"hunter22"}})
	if err := w.Apply(context.Background(), "p.tfplan"); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"out 1 ***\n", "err 1 ***\n", "no newline\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "hunter22") {
		t.Errorf("secret in output: %q", got)
	}
}

func TestRunStreamsWhileRunning(t *testing.T) {
	out, seen := watchFor("first")
	w := fakeWorkdir(t, "echo first\nsleep 30\n", Config{Output: out, KillGrace: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- w.Apply(ctx, "p.tfplan") }()
	select {
	case <-seen:
	case <-time.After(10 * time.Second):
		t.Fatal("the first line was not streamed while the command ran")
	}
	cancel()
	<-errc
}

func TestRunErrorIsMasked(t *testing.T) {
	w := fakeWorkdir(t, `echo 'Error: var.token is "hunter22"' >&2; exit 3`, Config{Secrets: []string{"hunter22"}})
	_, err := w.Plan(context.Background(), PlanOptions{})
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("err = %#v", err)
	}
	if te.ExitCode != 3 || te.Command != "plan" {
		t.Errorf("Error %+v", te)
	}
	for _, s := range []string{err.Error(), te.Stderr, errors.Unwrap(err).Error()} {
		if strings.Contains(s, "hunter22") {
			t.Errorf("secret leaked: %q", s)
		}
	}
	if !strings.Contains(err.Error(), `var.token is "***"`) || !strings.HasPrefix(err.Error(), "terraform plan: exit status 3") {
		t.Errorf("message %q", err)
	}
}

func TestRunMissingBinary(t *testing.T) {
	w, err := New(Config{Binary: Binary{Path: filepath.Join(t.TempDir(), "nope")}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Init(context.Background(), InitOptions{})
	var te *Error
	if !errors.As(err, &te) || te.ExitCode != -1 || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v", err)
	}
}

// TestCancelInterruptsThenWaits: a terraform that handles the interrupt
// finishes its cleanup and is not killed; a child it leaves behind (a
// provisioner's command) is. The child's output goes elsewhere, as with
// real terraform, which gives its providers and provisioners pipes of its
// own: terraform-exec reads terraform's output until every writer closed.
func TestCancelInterruptsThenWaits(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	out, ready := watchFor("ready")
	w := fakeWorkdir(t, `trap 'echo "interrupted, releasing lock"; exit 1' INT
sleep 60 >/dev/null 2>&1 &
echo $! > `+pidFile+`
echo ready
while :; do sleep 0.05; done
`, Config{Output: out, KillGrace: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Apply(ctx, "p.tfplan") }()
	<-ready
	start := time.Now()
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v: waited for the grace period instead of the process", took)
	}
	if !strings.Contains(out.String(), "interrupted, releasing lock") {
		t.Errorf("cleanup output missing: %q", out)
	}
	if strings.Contains(err.Error(), "killed") {
		t.Errorf("reported a kill: %v", err)
	}
	waitDead(t, pidFile)
}

// waitDead fails unless the process whose pid is in pidFile ends soon.
func waitDead(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d survived", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCancelKillsProcessGroupAfterGrace: a terraform that ignores the
// interrupt is killed after KillGrace, with the children it started.
func TestCancelKillsProcessGroupAfterGrace(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	out, ready := watchFor("ready")
	w := fakeWorkdir(t, `trap '' INT
sleep 60 &
echo $! > `+pidFile+`
echo ready
wait
`, Config{Output: out, KillGrace: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Apply(ctx, "p.tfplan") }()
	<-ready
	start := time.Now()
	cancel()
	var err error
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("not killed")
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("killed after %v, before the grace period", took)
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "killed after it ignored the interrupt") {
		t.Errorf("err = %v", err)
	}
	waitDead(t, pidFile)
}

// alive reports whether pid runs (a zombie does not count).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// TestCancelKillsProcessesOutsideTheGroup: a child that left terraform's
// process group (setsid) is found by the mark in its environment.
func TestCancelKillsProcessesOutsideTheGroup(t *testing.T) {
	if !canKillRun {
		t.Skip("killRun needs /proc")
	}
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	out, ready := watchFor("ready")
	w := fakeWorkdir(t, `setsid sleep 60 >/dev/null 2>&1 < /dev/null &
echo $! > `+pidFile+`
echo ready
exec sleep 60
`, Config{Output: out, KillGrace: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Apply(ctx, "p.tfplan") }()
	<-ready
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	waitDead(t, pidFile)
}

func TestRunAlreadyCancelled(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	w := fakeWorkdir(t, "touch "+marker+"\n", Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Init(ctx, InitOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("ran with a cancelled context")
	}
}
