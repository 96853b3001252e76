// Command benchtable is `make bench`: it measures atoll end to end (see
// testdrive/bench) with the atoll binary it is given, prints one markdown
// table with a row per figure P1–P8 and writes it to bin/bench.md.
// Measurements, never assertions: nothing here fails on a slow number.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/atollhq/atoll/testdrive/bench"
)

func main() {
	bin := flag.String("atoll", "bin/atoll", "the atoll binary to measure")
	out := flag.String("out", "bin/bench.md", "where to write the table")
	smoke := flag.Bool("smoke", false, "one small iteration of everything (checks the harness, measures nothing)")
	only := flag.String("only", "", "measure only these rows, comma-separated (P2,P3)")
	dir := flag.String("dir", "", "keep everything (servers' data and logs) in this directory (default: a temporary one, removed)")
	flag.Parse()
	abs, err := filepath.Abs(*bin)
	if err != nil {
		fail(err)
	}
	o := bench.Full(abs)
	if *smoke {
		o = bench.Smoke(abs)
	}
	o.Progress = os.Stderr
	o.Dir = *dir
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	rows, err := bench.Run(ctx, o)
	if err != nil && len(rows) == 0 {
		fail(err)
	}
	table := fmt.Sprintf("atoll `make bench`, %s, %d CPUs (%s/%s), %s in all; medians over %d runs (min, max).\n\n%s",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		time.Since(start).Round(time.Second), o.Runs, bench.Markdown(rows))
	fmt.Print(table)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fail(err)
	}
	if err := os.WriteFile(*out, []byte(table), 0o644); err != nil {
		fail(err)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchtable:", err)
	os.Exit(1)
}
