package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atollhq/atoll/locks"
)

const lockColumns = `repo, dir, workspace, owner_repo, owner_number, author, head_sha, taken`

func scanLock(row pgx.Row) (locks.Lock, error) {
	var (
		repo, dir, ws []byte
		o             locks.Owner
	)
	if err := row.Scan(&repo, &dir, &ws, &o.Repo, &o.Number, &o.Author, &o.HeadSHA, &o.Time); err != nil {
		return locks.Lock{}, err
	}
	o.Time = o.Time.UTC()
	return locks.Lock{Key: locks.Key{Repo: string(repo), Dir: string(dir), Workspace: string(ws)}, Owner: o}, nil
}

// key returns k cleaned, or ErrInvalid.
func validKey(op string, k locks.Key) (locks.Key, error) {
	k = k.Canonical()
	if err := k.Validate(); err != nil {
		return k, fmt.Errorf("locks: %s: %w", op, err)
	}
	return k, nil
}

// TryLock takes the lock on k for owner o in one statement: an insert
// that, on conflict, replaces the row only when the same PR holds it. The
// primary key on (repo, dir, workspace) makes it atomic across replicas.
// See locks.Locker.
func (db *DB) TryLock(ctx context.Context, k locks.Key, o locks.Owner) (locks.Lock, bool, error) {
	k, err := validKey("trylock", k)
	if err != nil {
		return locks.Lock{}, false, err
	}
	if err := o.Validate(); err != nil {
		return locks.Lock{}, false, fmt.Errorf("locks: trylock %s: %w", k, err)
	}
	if o.Time.IsZero() {
		o.Time = db.nowUTC()
	}
	o.Time = o.Time.UTC().Truncate(time.Microsecond)
	op := "trylock " + k.String()
	var (
		held     locks.Lock
		acquired bool
	)
	err = db.inTx(ctx, op, func(tx pgx.Tx) error {
		row := tx.QueryRow(ctx, `INSERT INTO atoll_locks (`+lockColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (repo, dir, workspace) DO UPDATE
			SET owner_repo = EXCLUDED.owner_repo, owner_number = EXCLUDED.owner_number,
			    author = EXCLUDED.author, head_sha = EXCLUDED.head_sha, taken = EXCLUDED.taken
			WHERE atoll_locks.owner_repo = EXCLUDED.owner_repo AND atoll_locks.owner_number = EXCLUDED.owner_number
			RETURNING `+lockColumns,
			[]byte(k.Repo), []byte(k.Dir), []byte(k.Workspace), o.Repo, o.Number, o.Author, o.HeadSHA, o.Time)
		l, err := scanLock(row)
		if err == nil {
			held, acquired = l, true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// Another PR holds it: the conflicting row is locked by the
		// statement above, so this read sees its holder.
		l, err = scanLock(tx.QueryRow(ctx, `SELECT `+lockColumns+` FROM atoll_locks
			WHERE repo = $1 AND dir = $2 AND workspace = $3`, []byte(k.Repo), []byte(k.Dir), []byte(k.Workspace)))
		held, acquired = l, false
		return err
	})
	if err != nil {
		return locks.Lock{}, false, err
	}
	return held, acquired, nil
}

// Unlock releases the lock on k. See locks.Locker.
func (db *DB) Unlock(ctx context.Context, k locks.Key) error {
	k, err := validKey("unlock", k)
	if err != nil {
		return err
	}
	op := "unlock " + k.String()
	if err := db.check(ctx, op); err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `DELETE FROM atoll_locks WHERE repo = $1 AND dir = $2 AND workspace = $3`,
		[]byte(k.Repo), []byte(k.Dir), []byte(k.Workspace))
	return db.wrap(op, err)
}

// Get returns the lock on k. See locks.Locker.
func (db *DB) Get(ctx context.Context, k locks.Key) (locks.Lock, bool, error) {
	k, err := validKey("get", k)
	if err != nil {
		return locks.Lock{}, false, err
	}
	op := "get " + k.String()
	if err := db.check(ctx, op); err != nil {
		return locks.Lock{}, false, err
	}
	l, err := scanLock(db.pool.QueryRow(ctx, `SELECT `+lockColumns+` FROM atoll_locks
		WHERE repo = $1 AND dir = $2 AND workspace = $3`, []byte(k.Repo), []byte(k.Dir), []byte(k.Workspace)))
	if errors.Is(err, pgx.ErrNoRows) {
		return locks.Lock{}, false, nil
	}
	if err != nil {
		return locks.Lock{}, false, db.wrap(op, err)
	}
	return l, true, nil
}

// List returns every lock in key order. See locks.Locker.
func (db *DB) List(ctx context.Context) ([]locks.Lock, error) {
	return db.queryLocks(ctx, db.pool, "list", `SELECT `+lockColumns+` FROM atoll_locks ORDER BY repo, dir, workspace`)
}

// ListByOwner returns the locks of PR number of repo. See locks.Locker.
func (db *DB) ListByOwner(ctx context.Context, repo string, number int) ([]locks.Lock, error) {
	return db.queryLocks(ctx, db.pool, fmt.Sprintf("list locks of %s#%d", repo, number),
		`SELECT `+lockColumns+` FROM atoll_locks WHERE owner_repo = $1 AND owner_number = $2
		ORDER BY repo, dir, workspace`, repo, number)
}

// UnlockByOwner releases every lock of PR number of repo in one
// statement and returns them. See locks.Locker.
func (db *DB) UnlockByOwner(ctx context.Context, repo string, number int) ([]locks.Lock, error) {
	out, err := db.queryLocks(ctx, db.pool, fmt.Sprintf("unlock locks of %s#%d", repo, number),
		`WITH gone AS (DELETE FROM atoll_locks WHERE owner_repo = $1 AND owner_number = $2 RETURNING `+lockColumns+`)
		SELECT `+lockColumns+` FROM gone ORDER BY repo, dir, workspace`, repo, number)
	return out, err
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (db *DB) queryLocks(ctx context.Context, q querier, op, sql string, args ...any) ([]locks.Lock, error) {
	if err := db.check(ctx, op); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (locks.Lock, error) { return scanLock(row) })
	if err != nil {
		return nil, db.wrap(op, err)
	}
	return out, nil
}
