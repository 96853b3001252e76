package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/postgres"
	"github.com/atollhq/atoll/locks/storetest"
	"github.com/atollhq/atoll/testdrive/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// open opens the store at url and closes it when the test ends.
func open(t *testing.T, url string, now func() time.Time) *postgres.DB {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	db, err := postgres.Open(context.Background(), url, postgres.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestConformance runs the store contract's suite on PostgreSQL, racing
// separate pools (as separate replicas would) on one database.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) (locks.Store, func() locks.Store) {
		url := pgtest.Database(t)
		return open(t, url, now), func() locks.Store { return open(t, url, now) }
	})
}
