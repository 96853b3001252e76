package terraform

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
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

	err error  // the cause: *exec.ExitError, a context error or another failure
	msg string // the masked message
}

// Error implements error.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the cause: an *exec.ExitError, the context's error, or
// the error that kept terraform from running (a terraform-exec error, or
// its text masked when it held a secret). It is never terraform-exec's
// error for a failed command, whose text holds terraform's unmasked
// stderr.
func (e *Error) Unwrap() error { return e.err }

// newError builds an Error whose message is masked with m.
func newError(m masker, bin, command string, exitCode int, stderr string, cause error, ctxErr error) *Error {
	if cause != nil {
		if s := cause.Error(); m.mask(s) != s {
			cause = errors.New(m.mask(s))
		}
	}
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

// causeOf turns the error of a tfexec call into the cause an Error keeps
// and terraform's exit code. terraform-exec's error for a failed command
// embeds terraform's whole stderr, unmasked: only the *exec.ExitError it
// wraps is kept. Context errors are left to the caller, which knows
// whether its context ended; nil is returned for them.
func causeOf(err error) (cause error, exitCode int) {
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return exitErr, exitErr.ExitCode()
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Never call Error on these: terraform-exec's error for a
		// cancelled command that exited 0 has no text of its own.
		return nil, -1
	}
	return err, -1
}

// runIDEnv is set, to a value unique to the command, in the environment
// of every command: terraform's providers and provisioners inherit it, so
// that what a cancelled command leaves behind can be found and killed
// (see killRun).
const runIDEnv = "ATOLL_TERRAFORM_RUN"

// jobMarkEnv is set to Config.JobMark in the environment of every command
// of a Workdir that has one: the caller records the mark durably before
// terraform starts, so that a later process finds what a killed one left
// running (KillJob).
const jobMarkEnv = "ATOLL_JOB_MARK"

// JobMarkEntry is the environment entry ("KEY=value") that marks the
// processes of the job mark: commands run outside this package (a
// workflow's custom steps) carry it so that KillJob finds them too.
func JobMarkEntry(mark string) string { return jobMarkEnv + "=" + mark }

// KillJob kills, with SIGKILL, every process whose environment holds the
// job mark (Config.JobMark), and the process group of each: terraform,
// its providers and the commands of its provisioners left running by an
// atoll process that was killed. It returns how many it killed; it does
// nothing (0) where it cannot find processes (outside Linux).
//
// A mark, not a recorded process group id, finds them: the process ids
// of a process that is gone are reused, and killing a recorded group
// after a restart could hit an unrelated one. A provisioner's command that
// clears its environment escapes it.
func KillJob(mark string) int {
	if mark == "" {
		return 0
	}
	return killMarked(JobMarkEntry(mark))
}

// waitDelaySlack is how long after the kill at KillGrace terraform-exec's
// own kill of terraform (cmd.WaitDelay) comes, as a backstop.
const waitDelaySlack = 2 * time.Second

// acquire takes the Workdir's command lock, waiting as long as ctx
// allows, and makes sure terraform-exec knows the binary's version (see
// ensureVersion). The returned function releases the lock.
func (w *Workdir) acquire(ctx context.Context, name string) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, newError(w.mask, w.binName(), name, -1, "", nil, err)
	}
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, newError(w.mask, w.binName(), name, -1, "", errors.New("waiting for another command in the directory"), ctx.Err())
	}
	release = func() { <-w.sem }
	if err := w.ensureVersion(ctx); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// ensureVersion has terraform-exec run and cache "version -json" once per
// binary (see versioncache.go), with stdout discarded. terraform-exec asks for the version
// before most commands (to check which flags the binary supports) and
// would otherwise stream its JSON to Config.Output as part of the first
// command that needs it. The caller holds the command lock.
func (w *Workdir) ensureVersion(ctx context.Context) error {
	if w.versionKnown {
		return nil
	}
	if cachedVersion(w.tf, w.cfg.Binary.Path) {
		w.versionKnown = true
		return nil
	}
	err := w.run(ctx, "version", io.Discard, func(ctx context.Context, tf *tfexec.Terraform) error {
		v, provs, err := tf.Version(ctx, false)
		if err == nil {
			rememberVersion(w.cfg.Binary.Path, v, provs)
		}
		return err
	})
	if err == nil {
		w.versionKnown = true
	}
	return err
}

// captureStdout, given to run as stdout, streams stdout as a nil stdout
// does and also keeps it, as terraform wrote it, in buf.
type captureStdout struct{ buf bytes.Buffer }

// Write implements io.Writer; run never calls it.
func (c *captureStdout) Write(p []byte) (int, error) { return c.buf.Write(p) }

// run runs fn, one call of the Workdir's tfexec.Terraform, for the
// command name. The caller holds the command lock.
//
// Every line terraform writes to stderr is masked and streamed to
// Config.Output, and its last lines make the error's text. stdout is
// streamed in the same way when stdout is nil or a *captureStdout (which
// also keeps it); otherwise it goes to stdout alone, as terraform wrote
// it.
//
// terraform-exec interrupts terraform when ctx ends and kills it
// cmd.WaitDelay later. run sets that delay to KillGrace plus a margin and
// kills, itself, at KillGrace, every process of the command (see
// killRun): terraform, its providers and the commands its provisioners
// started, which terraform-exec's kill would leave running. When
// terraform stops in time, run kills only what it left behind.
func (w *Workdir) run(ctx context.Context, name string, stdout io.Writer, fn func(context.Context, *tfexec.Terraform) error) error {
	sink := &lineSink{mu: &w.outMu, out: w.cfg.Output}
	stderr := &lineWriter{sink: sink, mask: w.mask, keep: true}
	var stdoutLines *lineWriter
	if c, ok := stdout.(*captureStdout); ok {
		stdoutLines = &lineWriter{sink: sink, mask: w.mask}
		stdout = io.MultiWriter(stdoutLines, &c.buf)
	} else if stdout == nil {
		stdoutLines = &lineWriter{sink: sink, mask: w.mask}
		stdout = stdoutLines
	}
	id, err := newRunID()
	if err != nil {
		return newError(w.mask, w.binName(), name, -1, "", err, nil)
	}
	env := maps.Clone(w.env)
	env[runIDEnv] = id
	if w.cfg.Wrapper != nil {
		// For the wrapper alone: not in w.env, so that Environ (what
		// custom steps see) does not hold it.
		maps.Copy(env, w.cfg.Wrapper.Env)
	}
	if w.cfg.JobMark != "" {
		env[jobMarkEnv] = w.cfg.JobMark
	}
	if err := w.tf.SetEnv(env); err != nil {
		return newError(w.mask, w.binName(), name, -1, "", err, nil)
	}
	w.tf.SetStdout(stdout)
	w.tf.SetStderr(stderr)
	defer func() {
		w.tf.SetStdout(nil)
		w.tf.SetStderr(nil)
	}()
	waitDelay := w.cfg.KillGrace
	if canKillRun {
		waitDelay += waitDelaySlack
	}
	if err := w.tf.SetWaitDelay(waitDelay); err != nil {
		return newError(w.mask, w.binName(), name, -1, "", err, nil)
	}

	done := make(chan struct{})
	killedc := make(chan bool, 1)
	go func() { killedc <- killRunAfterGrace(ctx, id, w.cfg.KillGrace, done) }()
	err = fn(ctx, w.tf)
	close(done)
	killed := <-killedc
	ctxErr := ctx.Err()
	if ctxErr != nil && !killed {
		// terraform stopped after its interrupt, but a provisioner's
		// command it started may live on.
		killRun(id)
	}
	if stdoutLines != nil {
		stdoutLines.flush()
	}
	stderr.flush()

	if err == nil && ctxErr == nil {
		w.onExit(name, 0)
		return nil
	}
	cause, code := causeOf(err)
	w.onExit(name, code)
	sink.mu.Lock()
	text := sink.tail.String()
	sink.mu.Unlock()
	if killed {
		if cause == nil {
			cause = errors.New("killed")
		}
		cause = fmt.Errorf("killed after it ignored the interrupt for %s: %w", w.cfg.KillGrace, cause)
	}
	return newError(w.mask, w.binName(), name, code, text, cause, ctxErr)
}

func (w *Workdir) onExit(name string, code int) {
	if w.cfg.OnExit != nil && name != "version" {
		w.cfg.OnExit(name, code)
	}
}

// killRunAfterGrace kills the processes of the command id (killRun) when
// ctx is done and the command has not returned (done is closed) within
// grace. It reports whether it killed anything.
func killRunAfterGrace(ctx context.Context, id string, grace time.Duration, done <-chan struct{}) bool {
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
		return killRun(id) > 0
	}
}

// newRunID returns a random identifier for one command.
func newRunID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// binName is the binary's name for messages: "terraform" or "tofu".
func (w *Workdir) binName() string {
	return w.cfg.Binary.Distribution.orDefault().binaryName()
}
