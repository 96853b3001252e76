package lease_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/postgres"
	"github.com/atollhq/atoll/runner/lease"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/testdrive/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// replicas makes n replicas' Leases ("a", "b", ...) over one store, each
// with the store handle open gives it.
func replicas(n int, ttl time.Duration, now func() time.Time, open func() records.Store) []*lease.Leases {
	var out []*lease.Leases
	for i := range n {
		c := lease.Cluster{ReplicaID: string(rune('a' + i)), Shared: true, JobLease: ttl}
		c.Defaults()
		out = append(out, lease.New(open(), c, now, slog.New(slog.NewTextHandler(io.Discard, nil))))
	}
	return out
}

// onStores runs test on a real bbolt file, whose replicas share one handle
// (bbolt allows one per file), and on a real PostgreSQL database, whose
// replicas each open a pool of their own, as replicas on several machines
// do. open returns the next replica's store.
func onStores(t *testing.T, test func(t *testing.T, open func() records.Store)) {
	t.Run("bbolt", func(t *testing.T) {
		db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		test(t, func() records.Store { return db })
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.Database(t)
		test(t, func() records.Store {
			db, err := postgres.Open(context.Background(), url, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return db
		})
	})
}
