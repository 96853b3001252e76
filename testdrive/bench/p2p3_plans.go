package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/emulator"
)

// openPR commits files to a new branch of repo and opens a pull request;
// it returns the number and when it was opened.
func openPR(ctx context.Context, c *testdrive.Client, repo, branch string, files map[string]*string) (int, time.Time, error) {
	if _, err := c.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: branch, Author: "alice", Message: "change", Files: files}); err != nil {
		return 0, time.Time{}, err
	}
	t0 := time.Now()
	n, err := c.Control.OpenPR(ctx, emulator.OpenPR{Repo: repo, Head: branch, Title: branch, Author: "alice"})
	return n, t0, err
}

// waitPlanned waits until atoll's comment on the PR is done and shows
// want plan lines, and returns when the emulator took the edit that made
// it so (to the nanosecond): polling finds it up to one interval late.
func waitPlanned(ctx context.Context, c *testdrive.Client, repo string, n, want int) (time.Time, error) {
	cm, err := c.WaitComment(ctx, repo, n, 0, 5*time.Minute, func(body string) bool {
		return strings.HasPrefix(body, "<!-- atoll:") && !strings.Contains(body, "🔄 **running**") &&
			(strings.Count(body, "Plan: 2 to add") >= want || strings.Contains(body, "failed"))
	})
	if err != nil {
		return time.Time{}, err
	}
	if strings.Count(cm.Body, "Plan: 2 to add") < want {
		return time.Time{}, fmt.Errorf("%s#%d: the plan failed: %s", repo, n, oneLine(firstFailure(cm.Body)))
	}
	st, err := c.Control.GetComment(ctx, repo, cm.ID)
	if err != nil {
		return time.Time{}, err
	}
	if st.Body != cm.Body { // edited again since: its edit time is not this body's
		return time.Now(), nil
	}
	return st.Updated, nil
}

// firstFailure is the line of a comment that says what failed.
func firstFailure(body string) string {
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, "failed**") {
			return strings.TrimSpace(l)
		}
	}
	return body
}

// p2: one project, pull request opened → plan comment done; the bare
// reference plans a copy of the same directory. Each run is a new pull
// request changing the same project, as a repository's pull requests do
// (the one before it closed, so that its lock is released); the first is
// a warm-up.
func (b *bench) p2(ctx context.Context) (Row, error) {
	s, done, err := b.stack(ctx, "p2", nil)
	if err != nil {
		return Row{}, err
	}
	defer done()
	if _, err := s.c.Control.CreateRepo(ctx, emulator.CreateRepo{Owner: "acme", Name: "p2", Files: map[string]string{"app/main.tf": twoResources("base")}}); err != nil {
		return Row{}, err
	}
	var got, ref []time.Duration
	for i := range b.o.Runs + 1 {
		tag := fmt.Sprintf("run%d", i)
		n, t0, err := openPR(ctx, s.c, "acme/p2", "b"+tag, map[string]*string{"app/main.tf": ptr(twoResources(tag))})
		if err != nil {
			return Row{}, err
		}
		planned, err := waitPlanned(ctx, s.c, "acme/p2", n, 1)
		if err != nil {
			return Row{}, err
		}
		d := planned.Sub(t0)
		if err := s.c.Control.ClosePR(ctx, emulator.ClosePR{Repo: "acme/p2", Number: n, Author: "alice"}); err != nil {
			return Row{}, err
		}
		bare := filepath.Join(b.o.Dir, "p2", "bare", tag)
		if err := writeFiles(bare, map[string]string{"main.tf": twoResources(tag)}); err != nil {
			return Row{}, err
		}
		t1 := time.Now()
		if err := b.tf.plan(ctx, bare, false); err != nil {
			return Row{}, err
		}
		if i == 0 && b.o.Runs > 1 {
			continue // warm-up: the first plan of a server fills caches
		}
		got, ref = append(got, d), append(ref, time.Since(t1))
	}
	g, r := statsOf(got), statsOf(ref)
	return Row{Result: g.String(), Reference: "bare init, plan -out, show -json: " + r.String(), Ratio: ratio(g.med, r.med)}, nil
}

// p3: one PR with P3Projects projects; the reference plans them bare, one
// after another. Each run is a new pull request changing every project
// of the same repository (the one before it closed); the first is a
// warm-up. Then P3Inits inits at once on one new plugin cache.
func (b *bench) p3(ctx context.Context) (Row, error) {
	s, done, err := b.stack(ctx, "p3", nil)
	if err != nil {
		return Row{}, err
	}
	defer done()
	const repo = "p3"
	project, lock := twoResources, ""
	if b.o.P3Provider {
		project, lock = localProject, b.tf.lock
	}
	base := map[string]string{}
	for p := range b.o.P3Projects {
		base[fmt.Sprintf("p%02d/main.tf", p)] = project("base")
		if lock != "" {
			base[fmt.Sprintf("p%02d/.terraform.lock.hcl", p)] = lock
		}
	}
	if _, err := s.c.Control.CreateRepo(ctx, emulator.CreateRepo{Owner: "acme", Name: repo, Files: base}); err != nil {
		return Row{}, err
	}
	var got, ref []time.Duration
	for i := range b.o.Runs + 1 {
		change := map[string]*string{}
		for p := range b.o.P3Projects {
			change[fmt.Sprintf("p%02d/main.tf", p)] = ptr(project(fmt.Sprintf("r%dp%d", i, p)))
		}
		n, t0, err := openPR(ctx, s.c, "acme/"+repo, fmt.Sprintf("change%d", i), change)
		if err != nil {
			return Row{}, err
		}
		planned, err := waitPlanned(ctx, s.c, "acme/"+repo, n, b.o.P3Projects)
		if err != nil {
			return Row{}, err
		}
		d := planned.Sub(t0)
		if err := s.c.Control.ClosePR(ctx, emulator.ClosePR{Repo: "acme/" + repo, Number: n, Author: "alice"}); err != nil {
			return Row{}, err
		}
		t1 := time.Now()
		for p := range b.o.P3Projects {
			bare := filepath.Join(b.o.Dir, "p3", "bare", fmt.Sprintf("run%d", i), fmt.Sprintf("p%02d", p))
			files := map[string]string{"main.tf": *change[fmt.Sprintf("p%02d/main.tf", p)]}
			if lock != "" {
				files[".terraform.lock.hcl"] = lock
			}
			if err := writeFiles(bare, files); err != nil {
				return Row{}, err
			}
			if err := b.tf.plan(ctx, bare, false); err != nil {
				return Row{}, err
			}
		}
		if i == 0 && b.o.Runs > 1 {
			continue // warm-up, as P2's
		}
		got, ref = append(got, d), append(ref, time.Since(t1))
	}
	failures, initTime, err := b.parallelInits(ctx)
	if err != nil {
		return Row{}, err
	}
	g, r := statsOf(got), statsOf(ref)
	return Row{
		Result:    fmt.Sprintf("%s; %d inits in %s: %d failed", g, b.o.P3Inits, dur(initTime), failures),
		Reference: fmt.Sprintf("%d bare plans one after another: %s", b.o.P3Projects, r),
		Ratio:     fmt.Sprintf("speed-up %.2f× on %d cores", float64(r.med)/float64(g.med), numCPU()),
	}, nil
}

// parallelInits runs P3Inits inits at once through runner/terraform, on
// one plugin cache that starts empty, and counts the failures.
func (b *bench) parallelInits(ctx context.Context) (int, time.Duration, error) {
	cache := filepath.Join(b.o.Dir, "p3", "init-cache")
	var wg sync.WaitGroup
	var failed atomic.Int64
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for i := range b.o.P3Inits {
		dir := filepath.Join(b.o.Dir, "p3", "inits", strconv.Itoa(i))
		if err := writeFiles(dir, map[string]string{"main.tf": localProject("init"), ".terraform.lock.hcl": b.tf.lock}); err != nil {
			return 0, 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := terraform.New(terraform.Config{Binary: b.tf.bin, Dir: dir, PluginCacheDir: cache, CLIConfigFile: testdrive.ToolsCLIConfig()})
			if err == nil {
				err = w.Init(ctx, terraform.InitOptions{})
			}
			if err != nil {
				failed.Add(1)
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		b.progress("P3: an init failed: %v", firstErr)
	}
	return int(failed.Load()), time.Since(start), nil
}
