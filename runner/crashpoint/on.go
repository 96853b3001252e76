//go:build atoll_crashpoints

package crashpoint

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	once  sync.Once
	mu    sync.Mutex
	armed map[string]int // name -> the hit that stops
	hits  map[string]int
)

func load() {
	armed, hits = map[string]int{}, map[string]int{}
	for _, item := range strings.Split(os.Getenv("ATOLL_TEST_CRASHPOINT"), ",") {
		name, nth, _ := strings.Cut(strings.TrimSpace(item), "@")
		if name == "" {
			continue
		}
		n, err := strconv.Atoi(nth)
		if err != nil || n < 1 {
			n = 1
		}
		armed[name] = n
	}
}

// Hit stops at the point name when the environment arms it (see the
// package doc); otherwise it returns at once.
func Hit(ctx context.Context, name string) {
	once.Do(load)
	mu.Lock()
	n, ok := armed[name]
	if ok {
		hits[name]++
		ok = hits[name] == n
	}
	mu.Unlock()
	if !ok {
		return
	}
	fmt.Fprintln(os.Stderr, Reached+name)
	release := os.Getenv("ATOLL_TEST_CRASHPOINT_RELEASE")
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if release != "" {
				if _, err := os.Stat(release); err == nil {
					return
				}
			}
		}
	}
}
