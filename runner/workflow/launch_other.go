//go:build !unix

package workflow

import (
	"context"
	"os/exec"
	"time"
)

// KillGrace is unused where process groups are not available.
var KillGrace = 10 * time.Second

// Exec is the default Launcher: it runs cmd and kills it when ctx ends.
func Exec(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return <-done
	}
}
