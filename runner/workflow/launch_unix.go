//go:build unix

package workflow

import (
	"context"
	"os/exec"
	"syscall"
	"time"
)

// KillGrace is how long a command whose context ends gets after its
// interrupt before its process group is killed.
var KillGrace = 10 * time.Second

// Exec is the default Launcher: it starts cmd in a process group of its
// own and waits for it; when ctx ends, the group gets SIGINT and, after
// KillGrace, SIGKILL, so that a command's children stop with it.
func Exec(ctx context.Context, cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	// A child left holding the output pipes must not hold the step.
	cmd.WaitDelay = KillGrace
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGINT)
	select {
	case err := <-done:
		return err
	case <-time.After(KillGrace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return <-done
}
