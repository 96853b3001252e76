package boltdb_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/storetest"
)

// TestConformance runs the store contract's suite on bbolt. bbolt is one
// process's file, so there is no second replica to race.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) (locks.Store, func() locks.Store) {
		db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db, nil
	})
}
