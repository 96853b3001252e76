package terraform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Error is returned by a Workdir method when terraform failed to start,
// exited with an error, or was interrupted. Its message holds the last
// lines terraform wrote to stderr; every field has Config.Secrets masked.
//
// errors.Is(err, context.Canceled) (or DeadlineExceeded) is true when the
// command ended because its context did.
type Error struct {
	// Command is the subcommand, e.g. "plan" or "workspace select".
	Command string
	// ExitCode is terraform's exit code, or -1 when it did not exit by
	// itself (not started, killed by a signal).
	ExitCode int
	// Stderr is the tail of what terraform wrote to stderr, masked.
	Stderr string

	err error  // the cause: *exec.ExitError, a context error or a start error
	msg string // the masked message
}

// Error implements error.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the cause: an *exec.ExitError, the context's error, or the
// error that kept terraform from starting.
func (e *Error) Unwrap() error { return e.err }

// newError builds an Error whose message is masked with m.
func newError(m masker, bin, command string, exitCode int, stderr string, cause error, ctxErr error) *Error {
	e := &Error{Command: command, ExitCode: exitCode, Stderr: m.mask(stderr), err: cause}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", bin, command)
	switch {
	case ctxErr != nil:
		e.err = ctxErr
		fmt.Fprintf(&b, "stopped because %v", ctxErr)
		if cause != nil {
			fmt.Fprintf(&b, " (%v)", cause)
		}
	case cause != nil:
		b.WriteString(cause.Error())
	}
	if e.Stderr != "" {
		b.WriteString(":\n")
		b.WriteString(e.Stderr)
	}
	e.msg = m.mask(b.String())
	return e
}

// command builds the *exec.Cmd for one terraform invocation in the
// Workdir: argv, environment, directory, its own process group, and
// cancellation as in terraform-exec (cmd.Cancel interrupts, cmd.WaitDelay
// bounds the wait). It starts nothing; run does.
func (w *Workdir) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, w.cfg.Binary.Path, args...)
	cmd.Dir = w.cfg.Dir
	cmd.Env = append([]string(nil), w.env...)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error {
		// Like a Ctrl-C: terraform stops what it is doing, persists
		// state and releases its lock.
		return cmd.Process.Signal(os.Interrupt)
	}
	// Go kills the process WaitDelay after the interrupt; run kills the
	// whole process group (providers, provisioner children) a little
	// earlier, at KillGrace.
	cmd.WaitDelay = w.cfg.KillGrace + waitDelaySlack
	return cmd
}

// waitDelaySlack is how long after run's process-group kill Go's own
// WaitDelay kill of the process comes, as a backstop.
const waitDelaySlack = 2 * time.Second

// run starts cmd and waits for it. Every line of stdout and stderr is
// masked and streamed to Config.Output, except that stdout goes to capture
// instead (unmasked, as terraform wrote it) when capture is not nil.
//
// On context cancellation terraform is interrupted (cmd.Cancel); if it has
// not exited KillGrace later, its process group is killed; if it has, what
// is left of its process group (a provisioner's command) is killed. run
// owns the pipes (os.Pipe, not exec's copying goroutines) so that it sees
// terraform exit even when a child still holds them, and stops reading
// drainTimeout after terraform exited.
func (w *Workdir) run(ctx context.Context, cmd *exec.Cmd, name string, capture *bytes.Buffer) error {
	sink := &lineSink{mu: &w.outMu, out: w.cfg.Output}
	stderr := &lineWriter{sink: sink, mask: w.mask, keep: true}
	var stdout io.Writer = capture
	var stdoutLines *lineWriter
	if capture == nil {
		stdoutLines = &lineWriter{sink: sink, mask: w.mask}
		stdout = stdoutLines
	}

	outR, outW, err := os.Pipe()
	if err != nil {
		return newError(w.mask, w.binName(), name, -1, "", err, nil)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return newError(w.mask, w.binName(), name, -1, "", err, nil)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close() // the child has its copies
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return newError(w.mask, w.binName(), name, -1, "", err, ctx.Err())
	}

	var copying sync.WaitGroup
	copying.Add(2)
	go func() { defer copying.Done(); _, _ = io.Copy(stdout, outR) }()
	go func() { defer copying.Done(); _, _ = io.Copy(stderr, errR) }()

	done := make(chan struct{})
	killedc := make(chan bool, 1)
	go func() { killedc <- killGroupAfterGrace(ctx, cmd.Process.Pid, w.cfg.KillGrace, done) }()

	err = cmd.Wait()
	close(done)
	killed := <-killedc
	ctxErr := ctx.Err()
	if ctxErr != nil && !killed {
		// terraform stopped after its interrupt, but a provisioner's
		// command it started may live on in its process group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	drain(&copying, drainTimeout, outR, errR)
	if stdoutLines != nil {
		stdoutLines.flush()
	}
	stderr.flush()

	if err == nil && ctxErr == nil {
		return nil
	}
	code := -1
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	}
	sink.mu.Lock()
	text := sink.tail.String()
	sink.mu.Unlock()
	if killed {
		err = fmt.Errorf("killed after it ignored the interrupt for %s: %w", w.cfg.KillGrace, err)
	}
	return newError(w.mask, w.binName(), name, code, text, err, ctxErr)
}

// drainTimeout is how long run keeps reading terraform's output after it
// exited, for a child that inherited the pipes and lives on.
const drainTimeout = 2 * time.Second

// drain waits for the copying goroutines, at most timeout, then closes
// the read ends (which ends the copies) and waits for them.
func drain(copying *sync.WaitGroup, timeout time.Duration, readers ...*os.File) {
	finished := make(chan struct{})
	go func() { copying.Wait(); close(finished) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-finished:
	case <-t.C:
	}
	for _, r := range readers {
		_ = r.Close()
	}
	<-finished
}

// killGroupAfterGrace kills the process group pgid when ctx is done and
// the process has not exited (done is closed) within grace. It reports
// whether it sent the kill.
func killGroupAfterGrace(ctx context.Context, pgid int, grace time.Duration, done <-chan struct{}) bool {
	select {
	case <-done:
		return false
	case <-ctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return false
	case <-t.C:
		return syscall.Kill(-pgid, syscall.SIGKILL) == nil
	}
}

// binName is the binary's name for messages: "terraform" or "tofu".
func (w *Workdir) binName() string {
	return w.cfg.Binary.Distribution.orDefault().binaryName()
}
