package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/postgres"
	"github.com/atollhq/atoll/runner"
)

// runDB is `atoll db migrate --from DATA_DIR --to postgres://...`.
func runDB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "atoll db migrate --from DATA_DIR --to postgres://..."
	if len(args) == 0 || args[0] != "migrate" {
		return fmt.Errorf("%w: %s", errUsage, usage)
	}
	fs := flag.NewFlagSet("atoll db migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the data dir whose bbolt database (atoll.db) and plan files to copy; the server must be stopped")
	to := fs.String("to", "", "the PostgreSQL database URL to copy into; it must hold no atoll data yet")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: %s", errUsage, usage)
	}
	if !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://") {
		return fmt.Errorf("%w: --to must be a postgres:// URL", errUsage)
	}
	path := filepath.Join(*from, "atoll.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no atoll database in %s: %w", *from, err)
	}
	src, err := boltdb.Open(path, boltdb.Options{Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("%w (stop the server first)", err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, *to, postgres.Options{})
	if err != nil {
		return err
	}
	defer dst.Close()

	dump, err := src.Dump(ctx)
	if err != nil {
		return err
	}
	// Plan files: from the data dir into the store's shared plan-file
	// bucket, where every replica reads them (runner/planfiles.go).
	plans, err := filepath.Glob(filepath.Join(*from, "plans", "*.tfplan"))
	if err != nil {
		return err
	}
	inSource := map[string]bool{}
	for _, r := range dump.Records[runner.PlanFilesBucket] {
		inSource[r.Key] = true
	}
	for _, p := range plans {
		if inSource[filepath.Base(p)] {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dump.Records[runner.PlanFilesBucket] = append(dump.Records[runner.PlanFilesBucket],
			locks.Record{Key: filepath.Base(p), Value: data})
	}
	slices.SortFunc(dump.Records[runner.PlanFilesBucket], func(a, b locks.Record) int { return strings.Compare(a.Key, b.Key) })
	if err := dst.Load(ctx, dump); err != nil {
		if errors.Is(err, postgres.ErrNotEmpty) {
			return fmt.Errorf("%s: refusing to copy into it: %w", postgres.Redact(*to), err)
		}
		return err
	}

	// Verify: read back what PostgreSQL holds and compare, kind by kind.
	got, err := dst.Dump(ctx)
	if err != nil {
		return err
	}
	want, have := dump.Counts(), got.Counts()
	kinds := make([]string, 0, len(want))
	for k := range want {
		kinds = append(kinds, k)
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tDATA DIR\tPOSTGRESQL")
	var bad []string
	for _, k := range kinds {
		mark := ""
		if want[k] != have[k] {
			mark = "\tMISMATCH"
			bad = append(bad, k)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d%s\n", k, want[k], have[k], mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("the copy differs from the source in: %s", strings.Join(bad, ", "))
	}
	fmt.Fprintf(stdout, "copied %s into %s; every count matches.\nNext: set database to that URL and start the server.\n", *from, postgres.Redact(*to))
	return nil
}
