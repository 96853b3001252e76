package boltdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/atollhq/atoll/locks"
)

// SchemaVersion is the layout version this package reads and writes (see
// the package documentation). Open refuses files with a higher version.
// It equals len(migrations): adding a migration step bumps it.
const SchemaVersion = 1

// DefaultTimeout is how long Open waits for another process to release the
// file when Options.Timeout is zero or negative.
const DefaultTimeout = time.Second

// Bucket and key names of the layout described in doc.go.
var (
	bucketMeta            = []byte("meta")
	bucketLocks           = []byte("locks")
	bucketDeliveries      = []byte("deliveries")
	bucketDeliveryBodies  = []byte("delivery_bodies")
	bucketDeliveryPending = []byte("delivery_pending")
	bucketRecords         = []byte("records")

	metaSchema  = []byte("schema")
	metaCreated = []byte("created")
)

// migrations[i] brings a file from schema version i to i+1. A fresh file
// starts at version 0. Append a step to change the layout; never edit a
// released one. Each step runs inside Open's single read-write transaction,
// after which meta/schema is set to the new version.
var migrations = []func(tx *bolt.Tx, now time.Time) error{
	// 0 -> 1: the initial layout.
	func(tx *bolt.Tx, now time.Time) error {
		for _, name := range [][]byte{bucketMeta, bucketLocks, bucketDeliveries,
			bucketDeliveryBodies, bucketDeliveryPending, bucketRecords} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %q: %w", name, err)
			}
		}
		return tx.Bucket(bucketMeta).Put(metaCreated, []byte(now.UTC().Format(time.RFC3339Nano)))
	},
}

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Timeout is how long Open waits for another process holding the file
	// before it returns ErrInUse. Zero or negative means DefaultTimeout (1s).
	Timeout time.Duration
	// Now is the clock used for lock and delivery times (default time.Now).
	Now func() time.Time
}

// DB is an open atoll database file. Create it with Open; it is safe for
// concurrent use; Close it to release the file.
type DB struct {
	bolt *bolt.DB
	path string
	now  func() time.Time
}

// Open opens (creating it and its parent directory if needed, mode 0600) the
// atoll database at path, initialising or migrating its schema.
//
// Errors: ErrInUse (wrapped, naming the file) when another process holds
// the file for longer than o.Timeout; ErrSchema when the file was written by
// a newer atoll or is not an atoll file; otherwise the cause (permissions,
// a corrupt file) wrapped with the path.
func Open(path string, o Options) (*DB, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if path == "" {
		return nil, fmt.Errorf("locks: open: empty path: %w", locks.ErrInvalid)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("locks: open %s: create directory: %w", path, err)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.Timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("locks: open %s: another atoll process holds it (gave up after %s): %w",
			path, o.Timeout, locks.ErrInUse)
	}
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrVersionMismatch) || errors.Is(err, berrors.ErrChecksum) {
		return nil, fmt.Errorf("locks: open %s: not a bbolt database file, or a damaged one: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("locks: open %s: %w", path, err)
	}
	// Webhook deliveries arrive in bursts: concurrent AddDelivery calls
	// share one commit (one fsync) instead of queueing for one each. A
	// lone delivery waits at most this long for company.
	b.MaxBatchDelay = time.Millisecond
	db := &DB{bolt: b, path: path, now: o.Now}
	if err := b.Update(func(tx *bolt.Tx) error { return migrate(tx, db.now()) }); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("locks: open %s: %w", path, err)
	}
	return db, nil
}

// migrate reads the schema version and runs the missing migration steps.
func migrate(tx *bolt.Tx, now time.Time) error {
	version, err := schemaVersion(tx)
	if err != nil {
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("schema version %d is newer than this atoll supports (%d); upgrade atoll: %w",
			version, SchemaVersion, locks.ErrSchema)
	}
	for v := version; v < SchemaVersion; v++ {
		if err := migrations[v](tx, now); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	if version == SchemaVersion {
		return nil
	}
	return tx.Bucket(bucketMeta).Put(metaSchema, []byte(strconv.Itoa(SchemaVersion)))
}

// schemaVersion returns the file's schema version, 0 for an empty file.
func schemaVersion(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		var other []byte
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			other = append([]byte(nil), name...)
			return errStop
		})
		if other != nil {
			return 0, fmt.Errorf("bucket %q but no meta bucket: not an atoll file: %w", other, locks.ErrSchema)
		}
		return 0, nil
	}
	raw := meta.Get(metaSchema)
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < 1 {
		return 0, fmt.Errorf("unreadable schema version %q: %w", raw, locks.ErrSchema)
	}
	return v, nil
}

// errStop ends a ForEach early; it never leaves this package.
var errStop = errors.New("stop")

// Path returns the file the DB was opened on.
func (db *DB) Path() string { return db.path }

// Close waits for running transactions, then releases the file so another
// process can open it. Calling Close again is a no-op. Every method called
// after Close returns ErrClosed.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("locks: close %s: %w", db.path, err)
	}
	return nil
}

// view runs fn in a read-only transaction after checking ctx (before the
// transaction and once it is open). op names the operation in errors.
func (db *DB) view(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	return db.run(ctx, op, false, fn)
}

// update runs fn in a read-write transaction, committed when fn returns nil
// and rolled back otherwise; ctx is checked as in view.
func (db *DB) update(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	return db.run(ctx, op, true, fn)
}

// batch is update for writes that come in bursts from many goroutines:
// bbolt commits concurrent calls together (db.bolt.Batch). fn may run
// more than once, so it must set its results afresh each time.
func (db *DB) batch(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("locks: %s: %w", op, err)
	}
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return fmt.Errorf("locks: %s: %w", op, locks.ErrClosed)
	default:
		return fmt.Errorf("locks: %s: %w", op, err)
	}
}

func (db *DB) run(ctx context.Context, op string, write bool, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("locks: %s: %w", op, err)
	}
	inTx := func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	}
	var err error
	if write {
		err = db.bolt.Update(inTx)
	} else {
		err = db.bolt.View(inTx)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return fmt.Errorf("locks: %s: %w", op, locks.ErrClosed)
	default:
		return fmt.Errorf("locks: %s: %w", op, err)
	}
}

// bucket returns a top-level bucket that migrations guarantee exists; a
// missing one means the file was damaged.
func bucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("bucket %q is missing: %w", name, locks.ErrSchema)
	}
	return b, nil
}

// get returns a copy of key's value in b and whether the key exists. Unlike
// Bucket.Get it tells an empty value from a missing key.
func get(b *bolt.Bucket, key []byte) ([]byte, bool) {
	k, v := b.Cursor().Seek(key)
	if k == nil || string(k) != string(key) || (v == nil && isBucket(b, k)) {
		return nil, false
	}
	return append([]byte{}, v...), true
}

func isBucket(b *bolt.Bucket, k []byte) bool { return b.Bucket(k) != nil }

// Ping checks that the file is open and readable (for /readyz).
func (db *DB) Ping(ctx context.Context) error {
	return db.view(ctx, "ping", func(tx *bolt.Tx) error {
		_, err := bucket(tx, bucketMeta)
		return err
	})
}

var _ locks.Store = (*DB)(nil)
