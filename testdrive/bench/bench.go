// Package bench measures atoll end to end, as `make bench` reports it: one
// markdown table, one row per figure P1–P8 and the store rows S1–S2, each with the reference
// measured in the same run, their ratio and the goal. It starts what it
// needs: the GitHub emulator, real atoll servers (the binary it is given)
// and real terraform with the tools cache's CLI configuration and one
// shared plugin cache. Everything runs on loopback, bounded in count and
// time. Nothing here asserts a figure: a slow number is a result.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/pgtest"
)

// Options sizes the measurements. Full is what `make bench` runs; Smoke
// is the smallest run that still fills every row.
type Options struct {
	// AtollBin is the atoll binary to run (required).
	AtollBin string
	// Dir holds everything (default: a new temporary directory, removed).
	Dir string
	// Runs is how many times P2, P3, P6 and P7 are measured (medians).
	Runs int
	// P1Rate and P1Duration: signed webhook deliveries per second, and
	// for how long.
	P1Rate     int
	P1Duration time.Duration
	// P3Projects is the number of projects in P3's pull request;
	// P3Inits the number of parallel inits on one plugin cache.
	P3Projects, P3Inits int
	// P3Provider gives P3's projects a provider to install (hashicorp/local
	// from the tools mirror) and its committed lock file; without it they
	// hold terraform_data only.
	P3Provider bool
	// P4Dirs and P4Changed size P4's repository and pull request.
	P4Dirs, P4Changed int
	// P5PRs and P5Locks: the lock owners and locks P5 loads.
	P5PRs, P5Locks int
	// P6Resources is the size of P6's plan.
	P6Resources int
	// P8Projects is the size of P8's drift sweep; P8PRs the pull
	// requests opened at once.
	P8Projects, P8PRs int
	// Workers is atoll's `workers` (the P8 reference divides by it).
	Workers int
	// S1Jobs is how many jobs S1's workers claim on each store; S2Rate
	// and S2Duration are S2's deliveries per second and for how long, on
	// each store (store.go).
	S1Jobs     int
	S2Rate     int
	S2Duration time.Duration
	// Progress receives a line per step (may be nil).
	Progress io.Writer
	// ServerConfig is merged over every server's configuration.
	ServerConfig map[string]any
	// Only, when set, measures only these rows ("P2"); the others read
	// "not measured".
	Only []string
}

// Full is `make bench`: the sizes the table names.
func Full(bin string) Options {
	return Options{AtollBin: bin, Runs: 5, P1Rate: 500, P1Duration: 20 * time.Second, P3Projects: 8, P3Inits: 100, P3Provider: true,
		P4Dirs: 5000, P4Changed: 200, P5PRs: 1000, P5Locks: 10000, P6Resources: 3000, P8Projects: 200, P8PRs: 50, Workers: 4,
		S1Jobs: 2000, S2Rate: 200, S2Duration: 10 * time.Second}
}

// Smoke is one iteration of everything, as small as still means something.
func Smoke(bin string) Options {
	return Options{AtollBin: bin, Runs: 1, P1Rate: 50, P1Duration: 200 * time.Millisecond, P3Projects: 2, P3Inits: 3,
		P4Dirs: 100, P4Changed: 10, P5PRs: 2, P5Locks: 10, P6Resources: 30, P8Projects: 2, P8PRs: 2, Workers: 2,
		S1Jobs: 50, S2Rate: 50, S2Duration: 200 * time.Millisecond}
}

// Row is one figure of the table.
type Row struct {
	ID, Measure, Result, Reference, Ratio, Goal string
}

// Run measures every figure and returns the rows, in order. A figure that
// fails has its error in Result; Run fails only when nothing can start.
func Run(ctx context.Context, o Options) ([]Row, error) {
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "atoll-bench-")
		if err != nil {
			return nil, err
		}
		defer func() { _ = exec.Command("chmod", "-R", "u+w", dir).Run(); _ = os.RemoveAll(dir) }()
		o.Dir = dir
	}
	if o.Runs < 1 {
		o.Runs = 1
	}
	if o.Workers < 1 {
		o.Workers = 4
	}
	tf, err := findTerraform(ctx, o.Dir)
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, tf: tf}
	defer b.stopPostgres()
	figures := []struct {
		id, measure, goal string
		fn                func(context.Context) (Row, error)
	}{
		{"P1", fmt.Sprintf("webhook acknowledged, p50 / p99, at %d signed deliveries/s for %s over loopback to the real server, each stored", o.P1Rate, o.P1Duration), "p99 ≤ 5 ms, none lost", b.p1},
		{"P2", "pull request opened → its plan comment done, one project (emulator, real terraform)", "≤ 1.2×", b.p2},
		{"P3", fmt.Sprintf("%d projects in one PR, all planned; %d parallel `init`s on one new plugin cache", o.P3Projects, o.P3Inits), "speed-up ≥ 0.8 × cores; 0 failures", b.p3},
		{"P4", fmt.Sprintf("discovery of the projects a %d-file PR touches in a %d-directory repository", o.P4Changed, o.P4Dirs), "< 100 ms", b.p4},
		{"P5", fmt.Sprintf("resident memory idle; with %d PRs holding %d locks", o.P5PRs, o.P5Locks), "≤ 40 MB; ≤ 150 MB", b.p5},
		{"P6", fmt.Sprintf("a %d-resource plan: render time, comment count, largest comment", o.P6Resources), "< 200 ms; all under the limit; nothing lost", b.p6},
		{"P7", "runner overhead on a plan (init, plan, show -json through runner/terraform)", "≤ 1.05×", b.p7},
		{"P8", fmt.Sprintf("drift sweep (refresh-only) of %d projects; webhook → job queued, p99, with %d PRs opened at once", o.P8Projects, o.P8PRs), "≤ 1.1×; ≤ 100 ms", b.p8},
		{"S1", fmt.Sprintf("jobs claimed per second: %d queued jobs, each raced for by two workers (queued → running, exactly once), PostgreSQL beside bbolt", o.S1Jobs), "reported (#15 sets none); every job claimed once", b.s1},
		{"S2", fmt.Sprintf("webhook acknowledged, p50 / p99, at %d signed deliveries/s for %s, PostgreSQL store beside bbolt", o.S2Rate, o.S2Duration), "reported (#15 sets none)", b.s2},
	}
	var rows []Row
	for _, f := range figures {
		if len(o.Only) > 0 && !slices.Contains(o.Only, f.id) {
			rows = append(rows, Row{ID: f.id, Measure: f.measure, Goal: f.goal, Result: "not measured", Reference: "—", Ratio: "—"})
			continue
		}
		b.progress("%s: %s", f.id, f.measure)
		start := time.Now()
		r, err := f.fn(ctx)
		if err != nil {
			r = Row{Result: "error: " + oneLine(err.Error())}
		}
		r.ID, r.Measure, r.Goal = f.id, f.measure, f.goal
		for _, p := range []*string{&r.Result, &r.Reference, &r.Ratio} {
			if *p == "" {
				*p = "—"
			}
		}
		b.progress("%s: %s (%s)", f.id, r.Result, time.Since(start).Round(time.Second))
		rows = append(rows, r)
		if ctx.Err() != nil {
			return rows, ctx.Err()
		}
	}
	return rows, nil
}

// Markdown is the table.
func Markdown(rows []Row) string {
	var b strings.Builder
	b.WriteString("| row | measure | result | reference (same run) | ratio | goal |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.ID, r.Measure, r.Result, r.Reference, r.Ratio, r.Goal)
	}
	return b.String()
}

type bench struct {
	o  Options
	tf bareTerraform
	// The PostgreSQL server of the store rows, started on first use.
	pgOnce sync.Once
	pg     *pgtest.Server
	pgErr  error
}

func (b *bench) progress(format string, args ...any) {
	if b.o.Progress != nil {
		fmt.Fprintf(b.o.Progress, "bench: "+format+"\n", args...)
	}
}

// dir makes a new directory for one figure.
func (b *bench) dir(name string) (string, error) {
	d := filepath.Join(b.o.Dir, name)
	return d, os.MkdirAll(d, 0o755)
}

// bareTerraform runs terraform as a user would by hand, with the CLI
// configuration and plugin cache atoll is given.
type bareTerraform struct {
	bin   terraform.Binary
	cache string
	env   []string
	lock  string // a dependency lock file for localProject
}

func findTerraform(ctx context.Context, dir string) (bareTerraform, error) {
	var t bareTerraform
	for _, dist := range []terraform.Distribution{terraform.Terraform, terraform.OpenTofu} {
		bin, err := terraform.Resolve(ctx, terraform.ResolveOptions{Distribution: dist, VersionConstraint: ">= 1.5", NoDownload: true})
		if err == nil {
			t.bin = bin
			break
		}
	}
	if t.bin.Path == "" {
		return t, fmt.Errorf("bench: no terraform or tofu 1.5+ on PATH (run `make tools`; make bench puts its bin first on PATH)")
	}
	t.cache = filepath.Join(dir, "plugin-cache")
	if err := os.MkdirAll(t.cache, 0o755); err != nil {
		return t, err
	}
	t.env = append(os.Environ(), "TF_PLUGIN_CACHE_DIR="+t.cache, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE=1")
	if rc := testdrive.ToolsCLIConfig(); rc != "" {
		t.env = append(t.env, "TF_CLI_CONFIG_FILE="+rc)
	}
	// The lock file local-provider projects commit, as real ones do.
	lockDir := filepath.Join(dir, "lockfile")
	if err := writeFiles(lockDir, map[string]string{"main.tf": localProject("lock")}); err != nil {
		return t, err
	}
	if err := t.run(ctx, lockDir, "init", "-input=false", "-no-color"); err != nil {
		return t, err
	}
	lock, err := os.ReadFile(filepath.Join(lockDir, ".terraform.lock.hcl"))
	if err != nil {
		return t, err
	}
	t.lock = string(lock)
	return t, nil
}

func (t bareTerraform) run(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, t.bin.Path, args...)
	cmd.Dir, cmd.Env = dir, t.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s in %s: %w\n%s", filepath.Base(t.bin.Path), args[0], dir, err, out)
	}
	return nil
}

// plan is the bare reference: init, plan -out and show -json.
func (t bareTerraform) plan(ctx context.Context, dir string, refreshOnly bool) error {
	if err := t.run(ctx, dir, "init", "-input=false", "-no-color"); err != nil {
		return err
	}
	args := []string{"plan", "-input=false", "-no-color", "-out=bench.tfplan"}
	if refreshOnly {
		args = append(args, "-refresh-only")
	}
	if err := t.run(ctx, dir, args...); err != nil {
		return err
	}
	return t.run(ctx, dir, "show", "-json", "bench.tfplan")
}

// twoResources is P2's project: two terraform_data resources.
func twoResources(tag string) string {
	return fmt.Sprintf("resource \"terraform_data\" \"a\" {\n  input = \"%s-a\"\n}\n\nresource \"terraform_data\" \"b\" {\n  input = \"%s-b\"\n}\n", tag, tag)
}

// localProject is twoResources with a provider to install: the
// hashicorp/local provider of the tools cache's mirror.
func localProject(tag string) string {
	return "terraform {\n  required_providers {\n    local = {\n      source = \"hashicorp/local\"\n    }\n  }\n}\n\nprovider \"local\" {}\n\n" + twoResources(tag)
}

func writeFiles(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// stats are a measurement's median, min and max.
type stats struct{ med, min, max time.Duration }

func statsOf(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stats{med: med, min: s[0], max: s[len(s)-1]}
}

func (s stats) String() string {
	return fmt.Sprintf("%s (min %s, max %s)", dur(s.med), dur(s.min), dur(s.max))
}

// percentile is the p-th percentile (0 < p ≤ 100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "|", "/")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
