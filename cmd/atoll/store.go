package main

import (
	"context"
	"path/filepath"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/postgres"
)

// openStore opens the server's store: the PostgreSQL database at
// database (the `database` setting) when set, migrating it, else the
// bbolt file in dataDir.
func openStore(ctx context.Context, dataDir, database string) (locks.Store, error) {
	if database != "" {
		return postgres.Open(ctx, database, postgres.Options{})
	}
	return boltdb.Open(filepath.Join(dataDir, "atoll.db"), boltdb.Options{})
}
