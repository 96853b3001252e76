package e2e

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/atollhq/atoll/testdrive"
)

// stopGrace is how long a stopped atoll may take to exit before it is
// killed.
const stopGrace = 30 * time.Second

// runAtoll starts atollBin in p with config and env (plus ATOLL_TEST=1)
// and waits until url answers; it fails t if that does not happen. name
// says which server in the failure.
func runAtoll(t *testing.T, p *testdrive.Process, name, config, url string, env []string) {
	t.Helper()
	env = append([]string{"ATOLL_TEST=1"}, env...)
	if err := p.Start(context.Background(), name, atollBin, config, url, env, nil); err != nil {
		t.Fatal(err)
	}
}

// stopAtoll sends sig to p and waits for it, killing it after stopGrace.
func stopAtoll(p *testdrive.Process, sig syscall.Signal) { p.Signal(sig, stopGrace) }
