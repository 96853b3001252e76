package terraform

// Benchmarks for "make bench": what the runner costs on top of terraform.
// BenchmarkPlanRunner and BenchmarkPlanBare plan the same small
// terraform_data project, through Workdir.Plan and through os/exec alone;
// BenchmarkPlanRatio interleaves the two and reports runner/bare.

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"testing"
	"time"
)

// benchSetup copies and inits the data fixture once.
func benchSetup(b *testing.B) *Workdir {
	b.Helper()
	w, _ := realWorkdir(b, Terraform, fixture(b, "data"), Config{Output: io.Discard})
	if err := w.Init(context.Background(), InitOptions{}); err != nil {
		b.Fatal(err)
	}
	return w
}

// planRunner plans through the runner.
func planRunner(b *testing.B, w *Workdir) {
	outcome, err := w.Plan(context.Background(), PlanOptions{Out: "bench.tfplan"})
	if err != nil || outcome != Changes {
		b.Fatalf("Plan = %v, %v", outcome, err)
	}
}

// planBare plans with os/exec alone, with the argv and environment that
// terraform-exec gives the runner's plan.
func planBare(b *testing.B, w *Workdir) {
	cmd := exec.Command(w.cfg.Binary.Path, "plan", "-no-color", "-input=false", "-detailed-exitcode", "-lock-timeout=0s",
		"-out="+w.abs("bench.tfplan"), "-lock=true", "-parallelism=10", "-refresh=true")
	cmd.Dir = w.cfg.Dir
	cmd.Env = []string{"TF_IN_AUTOMATION=1"}
	for k, v := range w.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
		b.Fatalf("bare plan: %v", err)
	}
}

func BenchmarkPlanRunner(b *testing.B) {
	w := benchSetup(b)
	for b.Loop() {
		planRunner(b, w)
	}
}

func BenchmarkPlanBare(b *testing.B) {
	w := benchSetup(b)
	for b.Loop() {
		planBare(b, w)
	}
}

// BenchmarkPlanRatio runs one runner plan and one bare plan per iteration,
// alternating which goes first, and reports their mean durations and the
// ratio runner/bare (1.00 means no overhead).
func BenchmarkPlanRatio(b *testing.B) {
	w := benchSetup(b)
	var runner, bare time.Duration
	i := 0
	for b.Loop() {
		first, second := planRunner, planBare
		firstD, secondD := &runner, &bare
		if i%2 == 1 {
			first, second, firstD, secondD = planBare, planRunner, &bare, &runner
		}
		start := time.Now()
		first(b, w)
		mid := time.Now()
		second(b, w)
		*firstD += mid.Sub(start)
		*secondD += time.Since(mid)
		i++
	}
	if i == 0 || bare == 0 {
		return
	}
	n := float64(i)
	b.ReportMetric(runner.Seconds()*1000/n, "runner-ms/op")
	b.ReportMetric(bare.Seconds()*1000/n, "bare-ms/op")
	b.ReportMetric(float64(runner)/float64(bare), "runner/bare")
}
