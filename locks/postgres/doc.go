// Package postgres is atoll's store on PostgreSQL: the contract of package
// locks (locks.Store) kept in one database that any number of atoll
// replicas share, through a github.com/jackc/pgx/v5 connection pool.
//
// # Schema
//
// Versioned SQL migrations (migrations/*.sql, embedded) are applied by
// Open with github.com/pressly/goose/v3 under goose's PostgreSQL session
// lock, so replicas starting together migrate one at a time; goose's
// version table is atoll_schema_migrations. A database migrated by a newer
// atoll is refused with locks.ErrSchema. Tables (keys are bytea so that
// they hold any bytes and sort in byte order, as bbolt's keys do):
//
//	atoll_locks       (repo, dir, workspace) primary key; the owning PR
//	atoll_deliveries  the webhook inbox: id primary key (deduplication),
//	                  seq (identity: arrival order), state, body, times
//	atoll_records     (bucket, key) primary key; value
//	atoll_sequences   bucket primary key; the last NextID
//	atoll_audit       seq primary key; the audit record's bytes
//
// Times are stored as timestamptz, with microseconds: a time given with
// nanoseconds comes back truncated.
//
// # Guarantees across replicas
//
// TryLock is one INSERT … ON CONFLICT DO UPDATE … WHERE same PR: of two
// PRs racing for a key exactly one gets it. UpdateRecord and
// UpdateRecords run in one read-committed transaction that reads each row
// SELECT … FOR UPDATE (a racing writer waits, then reads the new value)
// and inserts a missing row without ON CONFLICT, so two transactions
// creating one record collide on its primary key; the loser, like a
// transaction chosen as a deadlock victim or failing serialization, is
// rolled back and run again from a fresh read (its fn included), up to
// 100 times. NextID is one upsert that increments. AddDelivery is an
// insert that does nothing on a known id. AppendAudit and PruneAudit take
// a table lock that excludes each other (not readers), so the hash chain
// never forks. A function given by the caller that returns an error ends
// the transaction at once; that error is returned as is.
//
// Load and Dump move a whole store (atoll db migrate).
package postgres
