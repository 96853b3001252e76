package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/atollhq/atoll/locks"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Now is the clock used for lock and delivery times (default
	// time.Now). Times are stored with microseconds, PostgreSQL's
	// precision.
	Now func() time.Time
	// MaxConns caps the pool's connections (default: pgxpool's, or the
	// URL's pool_max_conns).
	MaxConns int32
}

// DB is an open PostgreSQL store. It is safe for concurrent use, and any
// number of DBs, in one process or many, may share one database.
type DB struct {
	pool   *pgxpool.Pool
	now    func() time.Time
	closed atomic.Bool
}

// Open connects to the database at url (postgres://...), applies the
// store's migrations that it lacks (one process at a time: the others
// wait on goose's advisory lock, then find nothing to do) and returns the
// store.
//
// Errors: the connection's or a migration's, wrapped with the URL's host
// and database (never its password); ErrSchema (wrapped) when the
// database holds migrations newer than this atoll knows.
func Open(ctx context.Context, url string, o Options) (*DB, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	where := Redact(url)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("locks: open %s: %w", where, err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("locks: open %s: %w", where, err)
	}
	db := &DB{pool: pool, now: o.Now}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("locks: open %s: %w", where, err)
	}
	return db, nil
}

// migrate brings the schema up to date with goose, under goose's
// PostgreSQL session lock so that replicas starting together take turns.
func (db *DB) migrate(ctx context.Context) error {
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, files,
		goose.WithSessionLocker(locker), goose.WithTableName("atoll_schema_migrations"))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		current = 0 // a fresh database has no version table yet; Up makes it
	}
	sources := p.ListSources()
	if n := len(sources); n > 0 && current > sources[n-1].Version {
		return fmt.Errorf("schema version %d is newer than this atoll supports (%d); upgrade atoll: %w",
			current, sources[n-1].Version, locks.ErrSchema)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// SchemaVersion is the newest migration this package applies.
func SchemaVersion() int64 {
	entries, _ := fs.ReadDir(migrationFiles, "migrations")
	var v int64
	for _, e := range entries {
		var n int64
		if _, err := fmt.Sscanf(e.Name(), "%d_", &n); err == nil && n > v {
			v = n
		}
	}
	return v
}

// Redact returns url without its password, for messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "the database URL"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Close closes the pool. Methods called after it return ErrClosed.
func (db *DB) Close() error {
	if db.closed.CompareAndSwap(false, true) {
		db.pool.Close()
	}
	return nil
}

// Ping checks that the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error {
	if db.closed.Load() {
		return fmt.Errorf("locks: ping: %w", locks.ErrClosed)
	}
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("locks: ping: %w", err)
	}
	return nil
}

// Pool returns the connection pool, for the parts of atoll that keep
// their own tables or take advisory locks in the same database (job
// leases, leader election).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// nowUTC is the store's clock at PostgreSQL's precision.
func (db *DB) nowUTC() time.Time { return db.now().UTC().Truncate(time.Microsecond) }

// wrap names op in err and maps a closed pool to ErrClosed.
func (db *DB) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if db.closed.Load() {
		return fmt.Errorf("locks: %s: %w", op, locks.ErrClosed)
	}
	return fmt.Errorf("locks: %s: %w", op, err)
}

// check returns ctx's error or ErrClosed before any work.
func (db *DB) check(ctx context.Context, op string) error {
	if db.closed.Load() {
		return fmt.Errorf("locks: %s: %w", op, locks.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("locks: %s: %w", op, err)
	}
	return nil
}

// maxAttempts bounds how often inTx runs a transaction that lost a race.
const maxAttempts = 100

// inTx runs fn in a read-committed transaction, committed when fn returns
// nil. A transaction that lost a race with another process (a
// serialization failure, a deadlock, a unique violation on an insert that
// checked first) is rolled back and run again, after a short random
// pause. fn's own errors (those of userErr) end it at once.
func (db *DB) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	if err := db.check(ctx, op); err != nil {
		return err
	}
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err = pgx.BeginFunc(ctx, db.pool, fn)
		if err == nil {
			return nil
		}
		var ue *userErr
		if errors.As(err, &ue) {
			return ue.err
		}
		if !retryable(err) || ctx.Err() != nil {
			break
		}
		pause := time.Duration(rand.Int64N(int64(time.Millisecond)*int64(min(attempt+1, 20)))) + time.Millisecond
		select {
		case <-ctx.Done():
			return db.wrap(op, ctx.Err())
		case <-time.After(pause):
		}
	}
	return db.wrap(op, err)
}

// userErr carries a caller's function's error through a transaction, so
// that it is returned as is and never retried.
type userErr struct{ err error }

func (e *userErr) Error() string { return e.err.Error() }
func (e *userErr) Unwrap() error { return e.err }

// retryable reports a transaction that lost a race and may succeed when
// run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "40001", "40P01", "23505": // serialization_failure, deadlock_detected, unique_violation
		return true
	}
	return false
}

// errInvalid reports a value PostgreSQL refused as input (e.g. a NUL byte
// in text) as ErrInvalid.
func invalidInput(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22"))
}

var _ locks.Store = (*DB)(nil)
