package terraform

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestE2EParallelInitSharedCache: eight projects using hashicorp/local
// init and plan at the same moment against one TF_PLUGIN_CACHE_DIR, with a
// cold cache and then a warm one, without a single failure (the races of
// hashicorp/terraform#25849 and runatlantis/atlantis#2242: "text file
// busy", "mkdir ...: file exists"). Run it with -count=10.
func TestE2EParallelInitSharedCache(t *testing.T) {
	for _, dist := range distributions {
		t.Run(string(dist), func(t *testing.T) {
			t.Parallel()
			cache := t.TempDir()
			for _, round := range []string{"cold", "warm"} {
				const projects = 8
				var wg sync.WaitGroup
				start := make(chan struct{})
				errs := make(chan error, projects)
				for i := 0; i < projects; i++ {
					w, _ := realWorkdir(t, dist, fixture(t, "local"), Config{PluginCacheDir: cache})
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						ctx := context.Background()
						if err := w.Init(ctx, InitOptions{}); err != nil {
							errs <- fmt.Errorf("%s cache, project %d, init: %w", round, i, err)
							return
						}
						outcome, err := w.Plan(ctx, PlanOptions{Out: "p.tfplan"})
						if err != nil || outcome != Changes {
							errs <- fmt.Errorf("%s cache, project %d, plan = %v: %w", round, i, outcome, err)
						}
					}()
				}
				close(start)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
			}
		})
	}
}
