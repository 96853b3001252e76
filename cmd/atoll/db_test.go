package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/postgres"
	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/testdrive/pgtest"
)

// TestDBMigrate copies a data dir into PostgreSQL, prints the counts per
// kind, and refuses to copy into a database that already holds data.
func TestDBMigrate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := boltdb.Open(filepath.Join(dir, "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.TryLock(ctx, locks.Key{Repo: "acme/infra", Dir: "app", Workspace: "default"}, locks.Owner{Repo: "acme/infra", Number: 3}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutRecord(ctx, "jobs", "j1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.MkdirAll(filepath.Join(dir, "plans"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plans", "j1.tfplan"), []byte("PK\x03\x04plan"), 0o600); err != nil {
		t.Fatal(err)
	}
	url := pgtest.Database(t)

	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"db", "migrate", "--from", dir, "--to", url}, &out, &errOut); code != 0 {
		t.Fatalf("atoll db migrate exited %d: %s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"locks", "records/jobs", "records/planfiles", "every count matches"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	pg, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if l, ok, err := pg.Get(ctx, locks.Key{Repo: "acme/infra", Dir: "app", Workspace: "default"}); err != nil || !ok || l.Owner.Number != 3 {
		t.Errorf("the lock after the move: %+v %v %v", l, ok, err)
	}
	if data, ok, err := pg.GetRecord(ctx, runner.PlanFilesBucket, "j1.tfplan"); err != nil || !ok || string(data) != "PK\x03\x04plan" {
		t.Errorf("the plan file after the move: %q %v %v", data, ok, err)
	}

	out.Reset()
	errOut.Reset()
	if code := run(ctx, []string{"db", "migrate", "--from", dir, "--to", url}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "already holds atoll data") {
		t.Fatalf("a second migrate into the same database exited %d: %s", code, errOut.String())
	}
	if code := run(ctx, []string{"db", "migrate", "--from", dir, "--to", "mysql://x"}, &out, &errOut); code != 2 {
		t.Fatalf("--to mysql:// exited %d, want 2 (usage)", code)
	}
}
