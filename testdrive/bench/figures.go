package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atollhq/atoll/testdrive"
)

// stack is an emulator and an atoll server wired to it.
type stack struct {
	gh *ghEmu
	a  *atoll
	c  *testdrive.Client
}

func (b *bench) stack(ctx context.Context, name string, over map[string]any) (*stack, func(), error) {
	dir, err := b.dir(name)
	if err != nil {
		return nil, nil, err
	}
	gh, err := startGitHub(dir)
	if err != nil {
		return nil, nil, err
	}
	if over == nil {
		over = map[string]any{}
	}
	over["workers"] = b.o.Workers
	testdrive.MergeConfig(over, b.o.ServerConfig)
	a, err := newAtoll(ctx, b.o.AtollBin, filepath.Join(dir, "atoll"), gh, b.tf.cache, over)
	if err != nil {
		gh.close()
		return nil, nil, err
	}
	c, err := testdrive.NewClient(gh.url, a.url, a.token)
	if err != nil {
		a.stop()
		gh.close()
		return nil, nil, err
	}
	c.Poll = 50 * time.Millisecond
	return &stack{gh: gh, a: a, c: c}, func() { a.stop(); gh.close() }, nil
}

func ptr(s string) *string { return &s }

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 1
	}
	return max(strings.Count(string(b), "\nprocessor\t")+boolInt(strings.HasPrefix(string(b), "processor\t")), 1)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
