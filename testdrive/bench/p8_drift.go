package bench

import (
	"bufio"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// jobStarted matches the server's line for a job it starts; jobAttr
// reads one of its key=value attributes.
var (
	jobStarted = regexp.MustCompile(`^time=(\S+) level=INFO msg="job started" `)
	jobAttr    = func(line, key string) string {
		m := regexp.MustCompile(` ` + key + `=(\S+)`).FindStringSubmatch(line)
		if m == nil {
			return ""
		}
		return m[1]
	}
)

// p8: a drift sweep of P8Projects projects against the sum of their bare
// refresh-only plans over the workers; then P8PRs pull requests opened at
// once, each webhook → its job queued and started.
func (b *bench) p8(ctx context.Context) (Row, error) {
	s, done, err := b.stack(ctx, "p8", map[string]any{"drift": map[string]any{"concurrency": b.o.Workers, "mode": "refresh-only"}})
	if err != nil {
		return Row{}, err
	}
	defer done()
	files := map[string]string{}
	for p := range b.o.P8Projects {
		files[fmt.Sprintf("d%03d/main.tf", p)] = twoResources(fmt.Sprintf("d%d", p))
	}
	if _, err := s.c.Control.CreateRepo(ctx, emulator.CreateRepo{Owner: "acme", Name: "drift", Files: files}); err != nil {
		return Row{}, err
	}
	t0 := time.Now()
	id, err := s.c.StartDrift(ctx, "acme/drift", "")
	if err != nil {
		return Row{}, err
	}
	dr, err := s.c.WaitDrift(ctx, id, 20*time.Minute)
	if err != nil {
		return Row{}, err
	}
	sweep := time.Since(t0)
	// The reference: bare refresh-only plans of a sample, scaled.
	sample := min(b.o.P8Projects, 8)
	t1 := time.Now()
	for p := range sample {
		bare := filepath.Join(b.o.Dir, "p8", "bare", strconv.Itoa(p))
		if err := writeFiles(bare, map[string]string{"main.tf": twoResources(fmt.Sprintf("d%d", p))}); err != nil {
			return Row{}, err
		}
		if err := b.tf.plan(ctx, bare, true); err != nil {
			return Row{}, err
		}
	}
	single := time.Since(t1) / time.Duration(sample)
	refSweep := single * time.Duration(b.o.P8Projects) / time.Duration(b.o.Workers)

	// PRs opened at once.
	prFiles := map[string]string{}
	for p := range b.o.P8PRs {
		prFiles[fmt.Sprintf("q%03d/main.tf", p)] = "# empty\n"
	}
	if _, err := s.c.Control.CreateRepo(ctx, emulator.CreateRepo{Owner: "acme", Name: "burst", Files: prFiles}); err != nil {
		return Row{}, err
	}
	for p := range b.o.P8PRs {
		if _, err := s.c.Control.Commit(ctx, emulator.Commit{Repo: "acme/burst", Branch: fmt.Sprintf("b%03d", p), Author: "alice", Message: "change",
			Files: map[string]*string{fmt.Sprintf("q%03d/main.tf", p): ptr(twoResources(fmt.Sprintf("q%d", p)))}}); err != nil {
			return Row{}, err
		}
	}
	opened := make(map[int]time.Time)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var openErr atomic.Value
	for p := range b.o.P8PRs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			n, err := s.c.Control.OpenPR(ctx, emulator.OpenPR{Repo: "acme/burst", Head: fmt.Sprintf("b%03d", p), Title: "burst", Author: "alice"})
			if err != nil {
				openErr.Store(err)
				return
			}
			mu.Lock()
			opened[n] = t
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err, ok := openErr.Load().(error); ok {
		return Row{}, err
	}
	var queued, started []time.Duration
	deadline := time.Now().Add(10 * time.Minute)
	for len(started) < b.o.P8PRs && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		queued, started = queued[:0], started[:0]
		sc := bufio.NewScanner(strings.NewReader(s.a.logText()))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			m := jobStarted.FindStringSubmatch(line)
			if m == nil || jobAttr(line, "repo") != "acme/burst" || jobAttr(line, "kind") != "plan" {
				continue
			}
			n, _ := strconv.Atoi(jobAttr(line, "pr"))
			at, err1 := time.Parse(time.RFC3339Nano, m[1])
			q, err2 := time.ParseDuration(jobAttr(line, "queued"))
			t, ok := opened[n]
			if err1 != nil || err2 != nil || !ok {
				continue
			}
			started = append(started, at.Sub(t))
			queued = append(queued, at.Add(-q).Sub(t))
		}
	}
	if len(started) < b.o.P8PRs {
		return Row{}, fmt.Errorf("only %d of %d jobs started", len(started), b.o.P8PRs)
	}
	status := map[string]int{}
	for _, p := range dr.Projects {
		status[p.Status]++
	}
	var sts []string
	for k, v := range status {
		sts = append(sts, fmt.Sprintf("%d %s", v, k))
	}
	slices.Sort(sts)
	return Row{
		Result: fmt.Sprintf("sweep %s (%s); queued p99 %s (p50 %s), started p99 %s behind %d workers",
			dur(sweep), strings.Join(sts, ", "), dur(percentile(queued, 99)), dur(percentile(queued, 50)), dur(percentile(started, 99)), b.o.Workers),
		Reference: fmt.Sprintf("%d × a bare refresh-only plan (%s) ÷ %d workers = %s", b.o.P8Projects, dur(single), b.o.Workers, dur(refSweep)),
		Ratio:     ratio(sweep, refSweep),
	}, nil
}
