package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/postgres"
	"github.com/atollhq/atoll/testdrive/pgtest"
)

// TestReplicasStartingTogetherMigrateOnce starts several stores at once on
// an empty database: each migration is applied once (goose's session lock
// makes the others wait) and every store works.
func TestReplicasStartingTogetherMigrateOnce(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	var wg sync.WaitGroup
	dbs := make([]*postgres.DB, 4)
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(ctx, url, postgres.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { _ = db.Close() })
			dbs[i] = db
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version_id) FROM atoll_schema_migrations WHERE version_id > 0`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied != distinct || int64(distinct) != postgres.SchemaVersion() {
		t.Fatalf("migrations recorded %d times for %d versions, want each of %d once", applied, distinct, postgres.SchemaVersion())
	}
	for _, db := range dbs {
		if _, err := db.NextID(ctx, "runs"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNewerSchemaRefused: a database migrated by a newer atoll is not
// misread by this one.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO atoll_schema_migrations (version_id, is_applied) VALUES (9999, true)`); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(ctx, url, postgres.Options{})
	if !errors.Is(err, locks.ErrSchema) || !strings.Contains(err.Error(), "upgrade atoll") {
		t.Fatalf("Open on a newer schema = %v, want ErrSchema saying to upgrade", err)
	}
}

// TestOpenErrorHidesPassword: a connection failure names the server but
// never prints the password.
func TestOpenErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://atoll:s3cret@127.0.0.1:1/atoll?connect_timeout=2", postgres.Options{})
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error shows the password: %v", err)
	}
}
