//go:build unix

package discovery

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user plus system CPU time: on a shared machine it
// says more about the cost of a run than the wall clock does.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
