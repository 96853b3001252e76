package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/postgres"
	"github.com/atollhq/atoll/testdrive/pgtest"
)

// TestLoadBoltDump moves a bbolt store holding some of everything into
// PostgreSQL: what PostgreSQL then holds is what bbolt held, the audit
// chain verifies, sequences go on where they were, deduplication still
// knows the old deliveries, and a second load is refused.
func TestLoadBoltDump(t *testing.T) {
	ctx := context.Background()
	clk := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { clk = clk.Add(time.Second); return clk }
	bolt, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	for i := range 3 {
		k := locks.Key{Repo: "o/r", Dir: fmt.Sprintf("p%d", i), Workspace: "default"}
		if _, _, err := bolt.TryLock(ctx, k, locks.Owner{Repo: "o/r", Number: i + 1, Author: "alice", HeadSHA: "abc"}); err != nil {
			t.Fatal(err)
		}
	}
	for i, state := range []string{"done", "failed", "pending", "pending"} {
		id := fmt.Sprintf("d%d", i)
		if _, err := bolt.AddDelivery(ctx, id, "pull_request", []byte(`{"i":`+fmt.Sprint(i)+`}`)); err != nil {
			t.Fatal(err)
		}
		switch state {
		case "done":
			err = bolt.FinishDelivery(ctx, id, "")
		case "failed":
			err = bolt.FinishDelivery(ctx, id, "boom")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		id, err := bolt.NextID(ctx, "jobs")
		if err != nil {
			t.Fatal(err)
		}
		if err := bolt.PutRecord(ctx, "jobs", fmt.Sprintf("job-%d", id), []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := bolt.PutRecord(ctx, "plans", "o/r#1/p0/default", []byte{}); err != nil {
		t.Fatal(err)
	}
	tr := audit.New(bolt, now)
	for range 4 {
		if _, err := tr.Append(ctx, audit.Entry{Actor: "alice", Action: "command.plan"}); err != nil {
			t.Fatal(err)
		}
	}
	want, err := bolt.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}

	pg := open(t, pgtest.Database(t), now)
	if err := pg.Load(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := pg.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("PostgreSQL holds\n%+v\nafter loading\n%+v", got, want)
	}
	if !reflect.DeepEqual(got.Counts(), want.Counts()) || want.Counts()["records/jobs"] != 5 || want.Counts()["sequences/jobs"] != 5 {
		t.Fatalf("counts %v, want %v", got.Counts(), want.Counts())
	}
	if n, err := audit.Verify(ctx, pg); err != nil || n != 4 {
		t.Fatalf("audit chain after the move: %d, %v", n, err)
	}
	if id, err := pg.NextID(ctx, "jobs"); err != nil || id != 6 {
		t.Fatalf("NextID after the move = %d, %v; want 6", id, err)
	}
	if dup, err := pg.AddDelivery(ctx, "d0", "pull_request", nil); err != nil || !dup {
		t.Fatalf("a moved delivery is not deduplicated: %v %v", dup, err)
	}
	if pending, _ := pg.PendingDeliveries(ctx); len(pending) != 2 || pending[0].ID != "d2" {
		t.Fatalf("pending after the move = %+v", pending)
	}
	if _, err := pg.AddDelivery(ctx, "d9", "push", nil); err != nil {
		t.Fatal(err)
	}
	if pending, _ := pg.PendingDeliveries(ctx); len(pending) != 3 || pending[2].ID != "d9" {
		t.Fatalf("a new delivery does not come after the moved ones: %+v", pending)
	}
	if err := pg.Load(ctx, want); !errors.Is(err, postgres.ErrNotEmpty) {
		t.Fatalf("second Load = %v, want ErrNotEmpty", err)
	}
}
