package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/emulator"
	"github.com/atollhq/atoll/vcs"
	"github.com/atollhq/atoll/vcs/git"
	"github.com/atollhq/atoll/vcs/github"
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

// p1: signed deliveries at a fixed rate to the real server's /events.
func (b *bench) p1(ctx context.Context) (Row, error) {
	s, done, err := b.stack(ctx, "p1", nil)
	if err != nil {
		return Row{}, err
	}
	defer done()
	lat, failed, elapsed := fire(ctx, s, "p1", b.o.P1Rate, b.o.P1Duration)
	total := len(lat)
	// Stored: the server logs each delivery it wrote to its inbox.
	time.Sleep(200 * time.Millisecond)
	stored := strings.Count(s.a.logText(), `msg="webhook stored" event=issue_comment`)
	lost := total - stored
	res := fmt.Sprintf("p50 %s, p99 %s, max %s; %d sent in %s, %d stored, %d lost, %d refused",
		dur(percentile(lat, 50)), dur(percentile(lat, 99)), dur(percentile(lat, 100)), total, elapsed.Round(time.Millisecond), stored, lost, failed)
	return Row{Result: res}, nil
}

// fire sends rate signed deliveries a second for d to s's /events, each
// a goroutine of its own at its time, and returns each one's
// acknowledgement latency, how many were refused (or failed) and how long
// sending them all took. name keeps the delivery ids of runs apart.
func fire(ctx context.Context, s *stack, name string, rate int, d time.Duration) (lat []time.Duration, refused int, elapsed time.Duration) {
	total := int(float64(rate) * d.Seconds())
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	lat = make([]time.Duration, total)
	var failed atomic.Int64
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := issueComment(i)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.a.url+"/events", bytes.NewReader(body))
			req.Header.Set("X-GitHub-Event", "issue_comment")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%s-%08d", name, i))
			req.Header.Set("X-Hub-Signature-256", github.Sign([]byte(s.gh.secret), body))
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := client.Do(req)
			lat[i] = time.Since(t0)
			if err != nil {
				failed.Add(1)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				failed.Add(1)
			}
		}(i)
	}
	wg.Wait()
	return lat, int(failed.Load()), time.Since(start)
}

// issueComment is a signed-webhook body the server stores: a comment on
// an issue that is not a pull request (the runner then ignores it).
func issueComment(i int) []byte {
	body, _ := json.Marshal(map[string]any{
		"action": "created",
		"issue":  map[string]any{"number": 1, "title": "bench", "state": "open", "user": map[string]any{"login": "alice", "id": 2}},
		"comment": map[string]any{"id": 1000 + i, "body": fmt.Sprintf("a comment, %d", i),
			"user": map[string]any{"login": "alice", "id": 2, "type": "User"}},
		"repository":   map[string]any{"id": 7, "name": "bench", "full_name": "acme/bench", "owner": map[string]any{"login": "acme", "id": 3}},
		"sender":       map[string]any{"login": "alice", "id": 2, "type": "User"},
		"installation": map[string]any{"id": 99},
	})
	return body
}

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

// p4: discovery in a generated repository, as atoll discovers: the
// commit's configuration files read from its mirror's objects (one git
// ls-tree, one git cat-file; the mirror packed, as a fetch leaves it),
// then the projects found from them. The
// result also gives discovery in a checkout of it, for comparison.
func (b *bench) p4(ctx context.Context) (Row, error) {
	root, err := b.dir("p4")
	if err != nil {
		return Row{}, err
	}
	src := filepath.Join(root, "src")
	changed, err := discoveryTree(src, b.o.P4Dirs, b.o.P4Changed)
	if err != nil {
		return Row{}, err
	}
	m := &git.Mirrors{Dir: filepath.Join(root, "mirrors")}
	repo := vcs.Repo{Owner: "acme", Name: "p4"}
	mirror, err := m.MirrorPath(repo)
	if err != nil {
		return Row{}, err
	}
	for _, args := range [][]string{{"init", "--quiet", src}, {"-C", src, "add", "-A"},
		{"-C", src, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "--quiet", "-m", "tree"},
		{"clone", "--bare", "--no-local", "--quiet", src, mirror}} {
		if out, err := exec.CommandContext(ctx, "git", args...).CombinedOutput(); err != nil {
			return Row{}, fmt.Errorf("git %s: %w: %s", args[0], err, out)
		}
	}
	out, err := exec.CommandContext(ctx, "git", "-C", src, "rev-parse", "HEAD").Output()
	if err != nil {
		return Row{}, err
	}
	sha := strings.TrimSpace(string(out))
	var got, walked []time.Duration
	n := 0
	for range max(b.o.Runs, 5) {
		t0 := time.Now()
		files, err := m.TreeFiles(ctx, repo, sha, discovery.WantFile, 8<<20)
		if err != nil {
			return Row{}, err
		}
		ps, err := discovery.DiscoverFiles(ctx, files, changed, discovery.Options{})
		if err != nil {
			return Row{}, err
		}
		got = append(got, time.Since(t0))
		n = len(ps)
		t1 := time.Now()
		if _, err := discovery.Discover(ctx, src, changed, discovery.Options{}); err != nil {
			return Row{}, err
		}
		walked = append(walked, time.Since(t1))
	}
	return Row{Result: fmt.Sprintf("%s, %d projects found (in a checkout: %s)", statsOf(got), n, dur(statsOf(walked).med))}, nil
}

// discoveryTree writes a repository of about dirs directories: a fifth
// projects (in environments, each calling a module), a twenty-fifth
// modules calling each other in chains of ten, the rest application code;
// it returns a change set of n files: half project files, a quarter
// module files, a quarter others.
func discoveryTree(root string, dirs, n int) ([]string, error) {
	body := strings.Repeat("resource \"terraform_data\" \"r\" {\n  input = \"${var.name}-x\"\n}\n", 10)
	vars := strings.Repeat("variable \"v\" {\n  type = string\n  default = \"x\"\n}\n", 5)
	files := map[string]string{}
	modules, projects := max(dirs/25, 1), max(dirs/5, 1)
	for m := range modules {
		main := body
		if m%10 != 9 && m+1 < modules {
			main += fmt.Sprintf("module \"next\" {\n  source = \"../m%04d\"\n  name = var.name\n}\n", m+1)
		}
		files[fmt.Sprintf("modules/m%04d/main.tf", m)] = main
		files[fmt.Sprintf("modules/m%04d/variables.tf", m)] = vars
	}
	for p := range projects {
		d := fmt.Sprintf("envs/e%02d/s%04d", p%20, p)
		files[d+"/main.tf"] = body + fmt.Sprintf("module \"a\" {\n  source = \"../../../modules/m%04d\"\n  name = \"a\"\n}\n", p%modules)
		files[d+"/variables.tf"] = vars
		files[d+"/terraform.tfvars"] = "name = \"x\"\n"
	}
	apps := max(dirs-modules-projects-22, 1)
	for a := range apps {
		files[fmt.Sprintf("apps/a%05d/code.go", a)] = "package x\n"
	}
	if err := writeFiles(root, files); err != nil {
		return nil, err
	}
	var changed []string
	for i := range n {
		switch i % 4 {
		case 0, 1:
			p := (i * 7) % projects
			changed = append(changed, fmt.Sprintf("envs/e%02d/s%04d/main.tf", p%20, p))
		case 2:
			changed = append(changed, fmt.Sprintf("modules/m%04d/variables.tf", (i*3)%modules))
		default:
			changed = append(changed, fmt.Sprintf("apps/a%05d/code.go", i%apps))
		}
	}
	return changed, nil
}

// p5: the server's resident memory idle, then with locks loaded.
func (b *bench) p5(ctx context.Context) (Row, error) {
	s, done, err := b.stack(ctx, "p5", nil)
	if err != nil {
		return Row{}, err
	}
	defer done()
	time.Sleep(time.Second)
	idle, err := s.a.rssMB()
	if err != nil {
		return Row{}, err
	}
	s.a.stop()
	db, err := boltdb.Open(filepath.Join(s.a.dir, "data", "atoll.db"), boltdb.Options{})
	if err != nil {
		return Row{}, err
	}
	per := max(b.o.P5Locks/max(b.o.P5PRs, 1), 1)
	for i := range b.o.P5Locks {
		pr := i/per + 1
		k := locks.Key{Repo: fmt.Sprintf("acme/r%03d", pr%100), Dir: fmt.Sprintf("p%05d", i), Workspace: "default"}
		o := locks.Owner{Repo: k.Repo, Number: pr, Author: "alice", HeadSHA: fmt.Sprintf("%040x", i), Time: time.Now()}
		if _, _, err := db.TryLock(ctx, k, o); err != nil {
			db.Close()
			return Row{}, err
		}
	}
	if err := db.Close(); err != nil {
		return Row{}, err
	}
	if err := s.a.start(ctx); err != nil {
		return Row{}, err
	}
	// The web UI lists the locks: the server reads them all.
	if resp, err := http.Get(s.a.url + "/"); err == nil {
		resp.Body.Close()
	}
	time.Sleep(time.Second)
	loaded, err := s.a.rssMB()
	if err != nil {
		return Row{}, err
	}
	return Row{Result: fmt.Sprintf("%.1f MB idle; %.1f MB with %d locks of %d PRs, after the web UI listed them", idle, loaded, b.o.P5Locks, b.o.P5PRs)}, nil
}

// p6: a big plan rendered and split into comments.
func (b *bench) p6(ctx context.Context) (Row, error) {
	r, err := templates.New("")
	if err != nil {
		return Row{}, err
	}
	plan, heads := bigPlan(b.o.P6Resources)
	var got []time.Duration
	var parts []string
	for range max(b.o.Runs, 5) {
		t0 := time.Now()
		body, err := r.RenderCommandComment(templates.CommandComment{ID: "plan-1", Command: "plan", Status: templates.RunDone, MaxPlanChars: -1,
			Projects: []templates.ProjectResult{{Name: "fleet", Dir: "fleet", Status: templates.StatusPlanned, Add: len(heads), PlanText: plan}}})
		if err != nil {
			return Row{}, err
		}
		parts = templates.Split(body, templates.CommentLimit)
		got = append(got, time.Since(t0))
	}
	largest := 0
	for _, p := range parts {
		largest = max(largest, utf8.RuneCountInString(p))
	}
	lost := 0
	all := strings.Join(parts, "")
	for _, h := range heads {
		if !strings.Contains(all, h) {
			lost++
		}
	}
	return Row{Result: fmt.Sprintf("%s; %d comments, largest %d characters; %d of %d resources lost", statsOf(got), len(parts), largest, lost, len(heads)),
		Reference: fmt.Sprintf("limit %d characters", templates.CommentLimit),
		Ratio:     fmt.Sprintf("%.2f of the limit", float64(largest)/float64(templates.CommentLimit))}, nil
}

// bigPlan is terraform's text for n created resources.
func bigPlan(n int) (string, []string) {
	var sb strings.Builder
	sb.WriteString("\nTerraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n  + create\n\nTerraform will perform the following actions:\n\n")
	var heads []string
	for i := range n {
		h := fmt.Sprintf(`# module.svc_%03d.aws_instance.web["node-%05d"] will be created`, i/50, i)
		heads = append(heads, h)
		fmt.Fprintf(&sb, "  %s\n  + resource \"aws_instance\" \"web\" {\n      + ami           = \"ami-%08d\"\n      + id            = (known after apply)\n      + instance_type = \"t3.micro\"\n      + tags          = {\n          + \"Name\" = \"node-%05d\"\n        }\n    }\n\n", h, i, i)
	}
	fmt.Fprintf(&sb, "Plan: %d to add, 0 to change, 0 to destroy.\n", n)
	return sb.String(), heads
}

// p7: init, plan and show -json through runner/terraform against the same
// commands bare, each on a fresh copy of one project.
func (b *bench) p7(ctx context.Context) (Row, error) {
	var got, ref []time.Duration
	for i := range b.o.Runs + 1 {
		d1 := filepath.Join(b.o.Dir, "p7", "atoll", strconv.Itoa(i))
		d2 := filepath.Join(b.o.Dir, "p7", "bare", strconv.Itoa(i))
		for _, d := range []string{d1, d2} {
			if err := writeFiles(d, map[string]string{"main.tf": localProject("p7"), ".terraform.lock.hcl": b.tf.lock}); err != nil {
				return Row{}, err
			}
		}
		t0 := time.Now()
		w, err := terraform.New(terraform.Config{Binary: b.tf.bin, Dir: d1, PluginCacheDir: b.tf.cache, CLIConfigFile: testdrive.ToolsCLIConfig()})
		if err != nil {
			return Row{}, err
		}
		if err := w.Init(ctx, terraform.InitOptions{}); err != nil {
			return Row{}, err
		}
		if _, _, err := w.PlanText(ctx, terraform.PlanOptions{Out: "bench.tfplan"}); err != nil {
			return Row{}, err
		}
		if _, _, err := w.Show(ctx, "bench.tfplan"); err != nil {
			return Row{}, err
		}
		d := time.Since(t0)
		t1 := time.Now()
		if err := b.tf.plan(ctx, d2, false); err != nil {
			return Row{}, err
		}
		if i == 0 && b.o.Runs > 1 {
			continue // warm-up
		}
		got, ref = append(got, d), append(ref, time.Since(t1))
	}
	g, r := statsOf(got), statsOf(ref)
	return Row{Result: g.String(), Reference: "bare: " + r.String(), Ratio: ratio(g.med, r.med)}, nil
}

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
