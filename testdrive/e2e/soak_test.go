//go:build soak

package e2e

// The soak test: `make soak` (go test -tags soak -run TestSoak). It is not
// part of `make test`: it holds a load for SOAK_MINUTES (default 10).

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// Soak parameters.
const (
	soakRate         = 1000 // webhooks a minute
	soakIssues       = 8    // issues the `atoll help` comments go to
	soakPRs          = 3    // pull requests that get a commit, and a real plan, in turn
	soakPushInterval = 10 * time.Second
	soakSample       = 10 * time.Second
)

// soakSampleRow is one line of the soak's table.
type soakSampleRow struct {
	at        time.Duration
	sent      int64 // webhooks the test caused: commands, pushes, synchronizes
	answered  int64 // deliveries answered 2xx by atoll, with those of atoll's own comments
	depth     int64 // commands sent and not yet answered on GitHub
	jobs      int64 // atoll_queue_depth + atoll_jobs_running from /metrics; -1 without /metrics
	rssKiB    int64
	readyFail int64
}

// TestSoak sends 1,000 webhooks a minute for SOAK_MINUTES (default 10) to
// the real atoll binary through the emulator: `atoll help` comments on
// issues (each answered by a reply and a reaction), and every 10 s a commit
// on one of three pull requests, each planned with real terraform. Every
// 10 s it prints atoll's resident memory, the queue depth (commands sent
// and not yet answered, and the jobs queued and running by atoll's
// /metrics) and what the emulator delivered; throughout, it asks /readyz
// (or /healthz, where /readyz does not exist) once a second.
//
// It fails when the server stops answering, a delivery is refused, a
// command is answered twice or never, a pushed head is left unplanned, or
// memory or queue depth keep growing (the last third of the run must stay
// within bounds set by the first third).
func TestSoak(t *testing.T) {
	minutes := 10.0
	if v := os.Getenv("SOAK_MINUTES"); v != "" {
		m, err := strconv.ParseFloat(v, 64)
		if err != nil || m <= 0 {
			t.Fatalf("SOAK_MINUTES=%q: want a positive number", v)
		}
		minutes = m
	}
	duration := time.Duration(minutes * float64(time.Minute))
	e := Start(t, Options{ServerConfig: "log_level: warn\nworkers: 4\n"})
	ctx, cancel := context.WithTimeout(context.Background(), duration+15*time.Minute)
	defer cancel()

	// Setup: one repository with a project per pull request, issues for
	// the comments.
	files := map[string]string{}
	for i := range soakPRs {
		files[fmt.Sprintf("p%d/main.tf", i)] = e.Backend(fmt.Sprintf("p%d", i)) + soakTF(i, 0)
	}
	repo := e.Repo("soak", files, map[string]string{"dev": "write"})
	var issues []int
	for i := range soakIssues {
		n, err := e.C.Control.OpenIssue(ctx, emulator.OpenIssue{Repo: repo, Title: fmt.Sprintf("soak %d", i), Author: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		issues = append(issues, n)
	}
	var prs []int
	for i := range soakPRs {
		prs = append(prs, e.PR(repo, fmt.Sprintf("b%d", i), "dev", map[string]*string{fmt.Sprintf("p%d/main.tf", i): S(e.Backend(fmt.Sprintf("p%d", i)) + soakTF(i, 1))}))
	}
	setupDeliveries := len(mustDeliveries(t, e))

	pid := e.pid()
	readyPath := soakReadyPath(t, e.AtollURL)
	t.Logf("soak: %s at %d webhooks a minute against atoll (pid %d), readiness on %s", duration, soakRate, pid, readyPath)

	// Readiness, once a second until the end.
	var readyFail, readyChecks atomic.Int64
	stopReady := make(chan struct{})
	var readyWG sync.WaitGroup
	readyWG.Add(1)
	go func() {
		defer readyWG.Done()
		client := &http.Client{Timeout: 2 * time.Second}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopReady:
				return
			case <-tick.C:
			}
			readyChecks.Add(1)
			resp, err := client.Get(e.AtollURL + readyPath)
			if err != nil {
				readyFail.Add(1)
				t.Logf("soak: %s: %v", readyPath, err)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				readyFail.Add(1)
				t.Logf("soak: %s: %d", readyPath, resp.StatusCode)
			}
		}
	}()

	// Load: a comment every 60 ms, spread over the issues by a few senders;
	// a commit on the next pull request every soakPushInterval.
	var sentComments, sentWebhooks atomic.Int64
	perIssue := make([]atomic.Int64, soakIssues)
	var sendErrs atomic.Int64
	jobs := make(chan int, 64)
	var senders sync.WaitGroup
	for range 4 {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for i := range jobs {
				if _, err := e.C.Control.Comment(ctx, emulator.Comment{Repo: repo, Number: issues[i], Author: "dev", Body: "atoll help"}); err != nil {
					sendErrs.Add(1)
					t.Logf("soak: comment: %v", err)
					continue
				}
				perIssue[i].Add(1)
				sentComments.Add(1)
				sentWebhooks.Add(1)
			}
		}()
	}
	type push struct {
		pr  int
		sha string
	}
	var pushesMu sync.Mutex
	var pushes []push
	version := make([]int, soakPRs)
	for i := range version {
		version[i] = 1
	}
	var pushOne sync.Mutex // one commit at a time
	doPush := func(k int) {
		pushOne.Lock()
		defer pushOne.Unlock()
		i := k % soakPRs
		version[i]++
		sha, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: fmt.Sprintf("b%d", i), Author: "dev",
			Message: fmt.Sprintf("soak %d", version[i]), Files: map[string]*string{fmt.Sprintf("p%d/main.tf", i): S(e.Backend(fmt.Sprintf("p%d", i)) + soakTF(i, version[i]))}})
		if err != nil {
			sendErrs.Add(1)
			t.Logf("soak: commit: %v", err)
			return
		}
		sentWebhooks.Add(2) // push and pull_request synchronize
		pushesMu.Lock()
		pushes = append(pushes, push{prs[i], sha})
		pushesMu.Unlock()
	}

	answered := newReplyCounter(e, repo, issues)
	var rows []soakSampleRow
	start := time.Now()
	sample := func() soakSampleRow {
		replies := answered.count(ctx, t)
		row := soakSampleRow{at: time.Since(start).Round(time.Second), sent: sentWebhooks.Load(),
			depth: sentComments.Load() - replies, jobs: scrapeJobs(t, e.AtollURL), rssKiB: rssKiB(t, pid), readyFail: readyFail.Load()}
		for _, d := range mustDeliveries(t, e)[setupDeliveries:] {
			if d.StatusCode >= 200 && d.StatusCode < 300 {
				row.answered++
			}
		}
		t.Logf("soak: %6s  sent %6d  delivered %6d  unanswered %4d  jobs queued+running %3d  rss %6.1f MiB  %s failures %d",
			row.at, row.sent, row.answered, row.depth, row.jobs, float64(row.rssKiB)/1024, readyPath, row.readyFail)
		return row
	}

	// Samples are taken on their own goroutine, so that reading GitHub
	// never holds up the load.
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		tick := time.NewTicker(soakSample)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				rows = append(rows, sample())
			}
		}
	}()
	interval := time.Minute / soakRate
	tick := time.NewTicker(interval)
	pushTick := time.NewTicker(soakPushInterval)
	rng := rand.New(rand.NewPCG(1, 2))
	end := time.After(duration)
	pushed := 0
	var pushWG sync.WaitGroup
load:
	for {
		select {
		case <-tick.C:
			select {
			case jobs <- rng.IntN(soakIssues):
			default: // the senders are behind: the rate is what they manage
			}
		case <-pushTick.C:
			pushWG.Add(1)
			go func(k int) { defer pushWG.Done(); doPush(k) }(pushed)
			pushed++
		case <-end:
			break load
		}
	}
	tick.Stop()
	pushTick.Stop()
	close(jobs)
	senders.Wait()
	pushWG.Wait()
	loadTook := time.Since(start)
	close(stopSampling)
	sampler.Wait()

	// Drain: every command answered, within three minutes.
	drainStart := time.Now()
	var last soakSampleRow
	for {
		time.Sleep(soakSample / 2)
		last = sample()
		if last.depth <= 0 || time.Since(drainStart) > 3*time.Minute {
			break
		}
	}
	drained := time.Since(drainStart).Round(time.Second)
	close(stopReady)
	readyWG.Wait()

	rate := float64(sentWebhooks.Load()) / loadTook.Minutes()
	all := mustDeliveries(t, e)[setupDeliveries:]
	t.Logf("soak: sent %d webhooks in %s (%.0f a minute: %d commands, %d commits); the emulator delivered %d in all, those of atoll's own comments included; queue drained in %s; %d readiness checks, %d failed",
		sentWebhooks.Load(), loadTook.Round(time.Second), rate, sentComments.Load(), len(pushes), len(all), drained, readyChecks.Load(), readyFail.Load())

	// Invariants.
	if n := sendErrs.Load(); n > 0 {
		t.Errorf("%d requests to the emulator failed", n)
	}
	if rate < 0.9*soakRate {
		t.Errorf("sent %.0f webhooks a minute, want about %d", rate, soakRate)
	}
	if n := readyFail.Load(); n > 0 {
		t.Errorf("%s failed %d times of %d", readyPath, n, readyChecks.Load())
	}
	for _, d := range all {
		if d.StatusCode != http.StatusAccepted || d.Attempts != 1 {
			t.Errorf("delivery %s (%s %s): status %d after %d attempts: %s", d.ID, d.Event, d.Action, d.StatusCode, d.Attempts, d.Error)
		}
	}
	// Processed once: every issue has exactly one reply per command, and
	// stays so (a late duplicate would show up now).
	time.Sleep(5 * time.Second)
	answered.count(ctx, t)
	for i, n := range issues {
		if got, want := answered.replies[i], perIssue[i].Load(); got != want {
			t.Errorf("issue #%d: %d replies to %d `atoll help` comments", n, got, want)
		}
	}
	for _, id := range answered.sampleCommands(50, rng) {
		cs, err := e.C.Control.GetComment(ctx, repo, id)
		if err != nil {
			t.Fatal(err)
		}
		if eyes := strings.Count(strings.Join(cs.Reactions, ","), "eyes"); eyes != 1 {
			t.Errorf("comment %d has %d 👀 reactions (%v), want 1", id, eyes, cs.Reactions)
		}
	}
	// Real plans: every pull request's last head has a successful plan, and
	// count the planned heads.
	planned := 0
	for _, p := range pushes {
		if soakPlanned(ctx, t, e, repo, p.sha) {
			planned++
		}
	}
	for _, n := range prs {
		head := e.Head(repo, n)
		e.Eventually(fmt.Sprintf("PR #%d's head %s planned", n, head[:7]), func() bool { return soakPlanned(ctx, t, e, repo, head) })
	}
	t.Logf("soak: %d of %d pushed heads planned with terraform (a head superseded before its plan started may be skipped)", planned, len(pushes))

	// Bounded: the last third of the run within bounds set by the first.
	third := len(rows) / 3
	if third == 0 {
		t.Fatalf("only %d samples: run longer", len(rows))
	}
	early, late := rows[:third], rows[len(rows)-third:]
	maxOf := func(rs []soakSampleRow, f func(soakSampleRow) int64) int64 {
		m := int64(0)
		for _, r := range rs {
			m = max(m, f(r))
		}
		return m
	}
	rss := func(r soakSampleRow) int64 { return r.rssKiB }
	depth := func(r soakSampleRow) int64 { return r.depth }
	if first, final := maxOf(early, rss), maxOf(late, rss); final > first*3/2+64*1024 {
		t.Errorf("resident memory grew: %.1f MiB at most in the first third, %.1f MiB in the last", float64(first)/1024, float64(final)/1024)
	}
	if first, final := maxOf(early, depth), maxOf(late, depth); final > max(2*first, soakRate/6) {
		t.Errorf("queue depth grew: %d at most in the first third, %d in the last", first, final)
	}
	queued := func(r soakSampleRow) int64 { return r.jobs }
	if first, final := maxOf(early, queued), maxOf(late, queued); final > max(2*first, 2*soakPRs) {
		t.Errorf("atoll's job queue grew: %d jobs at most in the first third, %d in the last", first, final)
	}
	if last.depth > 0 {
		t.Errorf("%d commands still unanswered 3 minutes after the load stopped", last.depth)
	}
	t.Logf("soak: peak resident memory %.1f MiB, peak unanswered commands %d, peak jobs queued and running %d",
		float64(maxOf(rows, rss))/1024, maxOf(rows, depth), maxOf(rows, queued))
}

// soakTF is project i's configuration at version v: a real resource whose
// input changes with each commit, so every plan has a change.
func soakTF(i, v int) string {
	return fmt.Sprintf("resource \"terraform_data\" \"soak\" {\n  input = \"p%d-v%d\"\n}\n", i, v)
}

// soakPlanned reports whether sha has a completed, successful plan check.
func soakPlanned(ctx context.Context, t *testing.T, e *Env, repo, sha string) bool {
	runs, err := e.C.CheckRuns(ctx, repo, sha)
	if err != nil {
		t.Logf("soak: check runs of %s: %v", sha, err)
		return false
	}
	for _, r := range runs {
		if strings.HasPrefix(r.Name, "atoll/plan") && r.Status == "completed" && r.Conclusion == "success" {
			return true
		}
	}
	return false
}

// soakReadyPath is /readyz when atoll serves it, else /healthz.
func soakReadyPath(t *testing.T, base string) string {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "/healthz"
	}
	return "/readyz"
}

// scrapeJobs reads atoll_queue_depth + atoll_jobs_running from /metrics;
// -1 when atoll serves no /metrics.
func scrapeJobs(t *testing.T, base string) int64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return -1
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	var n int64
	for _, line := range strings.Split(string(b), "\n") {
		for _, m := range []string{"atoll_queue_depth ", "atoll_jobs_running "} {
			if v, ok := strings.CutPrefix(line, m); ok {
				f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				n += int64(f)
			}
		}
	}
	return n
}

// pid is the running atoll's process id.
func (e *Env) pid() int {
	pid := e.proc.Pid()
	if pid == 0 {
		e.t.Fatal("atoll is not running")
	}
	return pid
}

// rssKiB reads a process's resident memory (VmRSS) from /proc.
func rssKiB(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("atoll's memory: %v (has it exited?)", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

func mustDeliveries(t *testing.T, e *Env) []emulator.DeliveryInfo {
	ds, err := e.C.Control.Deliveries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// replyCounter counts atoll's replies on the soak's issues, reading only
// the pages it has not read in full before.
type replyCounter struct {
	e        *Env
	repo     string
	issues   []int
	pages    []int   // full pages of 100 already counted, per issue
	base     []int64 // replies on those pages, per issue
	replies  []int64 // replies in total, per issue, at the last count
	commands []int64 // ids of the commands seen on full pages
}

func newReplyCounter(e *Env, repo string, issues []int) *replyCounter {
	return &replyCounter{e: e, repo: repo, issues: issues, pages: make([]int, len(issues)),
		base: make([]int64, len(issues)), replies: make([]int64, len(issues))}
}

// count reads new comments and returns the replies on every issue.
func (c *replyCounter) count(ctx context.Context, t *testing.T) int64 {
	owner, name, _ := strings.Cut(c.repo, "/")
	var total int64
	for i, n := range c.issues {
		replies := c.base[i]
		page := c.pages[i] + 1
		for {
			cs, resp, err := c.e.C.REST.Issues.ListComments(ctx, owner, name, n, &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100, Page: page}})
			if err != nil {
				t.Fatalf("list comments of #%d: %v", n, err)
			}
			var onPage int64
			var cmds []int64
			for _, cm := range cs {
				if strings.HasSuffix(cm.GetUser().GetLogin(), "[bot]") {
					onPage++
				} else {
					cmds = append(cmds, cm.GetID())
				}
			}
			replies += onPage
			if len(cs) == 100 && resp.NextPage != 0 {
				c.pages[i] = page
				c.base[i] += onPage
				c.commands = append(c.commands, cmds...)
				page = resp.NextPage
				continue
			}
			break
		}
		c.replies[i] = replies
		total += replies
	}
	return total
}

// sampleCommands picks up to n command comments seen so far.
func (c *replyCounter) sampleCommands(n int, rng *rand.Rand) []int64 {
	ids := append([]int64(nil), c.commands...)
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids[:min(n, len(ids))]
}
