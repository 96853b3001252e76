package audit_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/locks/boltdb"
	bolt "go.etcd.io/bbolt"
)

func TestTrailChainsPrunesAndVerifies(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "atoll.db")
	db, err := boltdb.Open(path, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := audit.New(db, func() time.Time { return now })
	for i := range 5 {
		now = now.Add(time.Hour)
		if _, err := tr.Append(ctx, audit.Entry{Actor: "alice", Action: "command.plan", Repo: "acme/infra", Number: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := audit.Verify(ctx, db); err != nil || n != 5 {
		t.Fatalf("verify: %d %v", n, err)
	}
	var got []audit.Record
	_ = tr.Read(ctx, audit.Filter{Since: 2, Actor: "alice"}, func(r audit.Record) error { got = append(got, r); return nil })
	if len(got) != 4 || got[0].Seq != 2 || got[1].Prev != got[0].Hash {
		t.Fatalf("read since 2: %+v", got)
	}

	// Pruning the first three leaves a checkpoint and a chain that verifies.
	if n, err := tr.Prune(ctx, time.Date(2026, 1, 1, 3, 30, 0, 0, time.UTC)); err != nil || n != 3 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if n, err := audit.Verify(ctx, db); err != nil || n != 3 {
		t.Fatalf("verify after prune: %d %v", n, err)
	}
	if _, err := tr.Append(ctx, audit.Entry{Actor: "atoll", Action: "lock.released"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// One byte changed in record 5 is named.
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("audit"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, 5}
		v := append([]byte(nil), bk.Get(k)...)
		i := len(`{"seq":5,"time":"2026-01-01T05:00:00Z","actor":"`)
		v[i] = 'A'
		return bk.Put(k, v)
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err = boltdb.Open(path, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = audit.Verify(ctx, db)
	var bad *audit.BadRecord
	if !errors.As(err, &bad) || bad.Seq != 5 {
		t.Fatalf("verify of a changed record: %v", err)
	}
}
