package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// lockAudit serialises writers of the audit trail across replicas for
// the rest of tx; readers are not blocked.
func lockAudit(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `LOCK TABLE atoll_audit IN SHARE ROW EXCLUSIVE MODE`)
	return err
}

// AppendAudit appends one record after the last, under a table lock so
// that two replicas never chain onto the same record. See
// locks.AuditStore.
func (db *DB) AppendAudit(ctx context.Context, build func(seq uint64, last []byte) ([]byte, error)) error {
	return db.inTx(ctx, "append audit record", func(tx pgx.Tx) error {
		if err := lockAudit(ctx, tx); err != nil {
			return err
		}
		var (
			seq  int64
			last []byte
		)
		err := tx.QueryRow(ctx, `SELECT seq, record FROM atoll_audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &last)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		val, err := build(uint64(seq)+1, last)
		if err != nil {
			return &userErr{err}
		}
		_, err = tx.Exec(ctx, `INSERT INTO atoll_audit (seq, record) VALUES ($1, $2)`, seq+1, val)
		return err
	})
}

// ReadAudit calls fn for each record from since on, in order. See
// locks.AuditStore.
func (db *DB) ReadAudit(ctx context.Context, since uint64, fn func(seq uint64, raw []byte) error) error {
	const op = "read audit trail"
	if err := db.check(ctx, op); err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, `SELECT seq, record FROM atoll_audit WHERE seq >= $1 ORDER BY seq`, int64(since))
	if err != nil {
		return db.wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq int64
			raw []byte
		)
		if err := rows.Scan(&seq, &raw); err != nil {
			return db.wrap(op, err)
		}
		if err := fn(uint64(seq), raw); err != nil {
			return err
		}
	}
	return db.wrap(op, rows.Err())
}

// PruneAudit replaces the records before before-1 by a checkpoint. See
// locks.AuditStore.
func (db *DB) PruneAudit(ctx context.Context, before uint64, checkpoint func(last []byte) ([]byte, error)) error {
	if before < 2 {
		return nil
	}
	keep := int64(before - 1)
	return db.inTx(ctx, "prune audit trail", func(tx pgx.Tx) error {
		if err := lockAudit(ctx, tx); err != nil {
			return err
		}
		var last []byte
		err := tx.QueryRow(ctx, `SELECT record FROM atoll_audit WHERE seq = $1`, keep).Scan(&last)
		if errors.Is(err, pgx.ErrNoRows) {
			var any int
			if e := tx.QueryRow(ctx, `SELECT count(*) FROM atoll_audit`).Scan(&any); e == nil && any == 0 {
				return nil
			}
			return fmt.Errorf("audit record %d is missing", keep)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM atoll_audit WHERE seq < $1`, keep); err != nil {
			return err
		}
		cp, err := checkpoint(last)
		if err != nil {
			return &userErr{err}
		}
		_, err = tx.Exec(ctx, `UPDATE atoll_audit SET record = $2 WHERE seq = $1`, keep, cp)
		return err
	})
}
