package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atollhq/atoll/locks"
)

// ErrNotEmpty is returned by Load when the database already holds atoll
// data: a migration never merges two stores.
var ErrNotEmpty = errors.New("the database already holds atoll data")

// Load writes d into this store, in one transaction, keeping every
// record's bytes, each delivery's state, body and arrival order, the
// sequences' values and the audit trail's numbers (so its hash chain
// still verifies). It refuses (ErrNotEmpty) a database that holds any
// lock, delivery, record, sequence or audit record.
func (db *DB) Load(ctx context.Context, d locks.Dump) error {
	return db.inTx(ctx, "load", func(tx pgx.Tx) error {
		var n int
		err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM atoll_locks) + (SELECT count(*) FROM atoll_deliveries)
			+ (SELECT count(*) FROM atoll_records) + (SELECT count(*) FROM atoll_sequences)
			+ (SELECT count(*) FROM atoll_audit)`).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return &userErr{fmt.Errorf("%d rows found: %w", n, ErrNotEmpty)}
		}
		rows := make([][]any, 0, len(d.Locks))
		for _, l := range d.Locks {
			rows = append(rows, []any{[]byte(l.Key.Repo), []byte(l.Key.Dir), []byte(l.Key.Workspace),
				l.Owner.Repo, l.Owner.Number, l.Owner.Author, l.Owner.HeadSHA, l.Owner.Time.UTC()})
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"atoll_locks"}, []string{"repo", "dir", "workspace",
			"owner_repo", "owner_number", "author", "head_sha", "taken"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("locks: %w", err)
		}
		rows = rows[:0]
		for _, v := range d.Deliveries {
			var finished *time.Time
			if !v.Finished.IsZero() {
				f := v.Finished.UTC()
				finished = &f
			}
			// COPY keeps the order: the identity column numbers them
			// in arrival order.
			rows = append(rows, []any{[]byte(v.ID), v.Event, v.Body, v.Received.UTC(), v.State, v.Error, finished})
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"atoll_deliveries"}, []string{"id", "event", "body", "received",
			"state", "error", "finished"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("deliveries: %w", err)
		}
		rows = rows[:0]
		for b, recs := range d.Records {
			for _, r := range recs {
				v := r.Value
				if v == nil {
					v = []byte{}
				}
				rows = append(rows, []any{[]byte(b), []byte(r.Key), v})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"atoll_records"}, []string{"bucket", "key", "value"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("records: %w", err)
		}
		rows = rows[:0]
		for b, v := range d.Sequences {
			rows = append(rows, []any{[]byte(b), int64(v)})
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"atoll_sequences"}, []string{"bucket", "value"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("sequences: %w", err)
		}
		rows = rows[:0]
		for _, a := range d.Audit {
			rows = append(rows, []any{int64(a.Seq), a.Raw})
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"atoll_audit"}, []string{"seq", "record"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		return nil
	})
}

// Dump reads everything the database holds, in one
// repeatable-read transaction.
func (db *DB) Dump(ctx context.Context) (locks.Dump, error) {
	const op = "dump"
	if err := db.check(ctx, op); err != nil {
		return locks.Dump{}, err
	}
	d := locks.Dump{Records: map[string][]locks.Record{}, Sequences: map[string]uint64{}}
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if d.Locks, err = db.queryLocks(ctx, tx, op, `SELECT `+lockColumns+` FROM atoll_locks ORDER BY repo, dir, workspace`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+deliveryColumns+` FROM atoll_deliveries ORDER BY seq`)
		if err != nil {
			return err
		}
		for rows.Next() {
			del, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return err
			}
			d.Deliveries = append(d.Deliveries, del)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT bucket, key, value FROM atoll_records ORDER BY bucket, key`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var b, k, v []byte
			if err := rows.Scan(&b, &k, &v); err != nil {
				rows.Close()
				return err
			}
			if v == nil {
				v = []byte{}
			}
			d.Records[string(b)] = append(d.Records[string(b)], locks.Record{Key: string(k), Value: v})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT bucket, value FROM atoll_sequences`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var b []byte
			var v int64
			if err := rows.Scan(&b, &v); err != nil {
				rows.Close()
				return err
			}
			d.Sequences[string(b)] = uint64(v)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT seq, record FROM atoll_audit ORDER BY seq`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var a locks.AuditRecord
			var seq int64
			if err := rows.Scan(&seq, &a.Raw); err != nil {
				rows.Close()
				return err
			}
			a.Seq = uint64(seq)
			d.Audit = append(d.Audit, a)
		}
		return rows.Err()
	})
	if err != nil {
		return locks.Dump{}, db.wrap(op, err)
	}
	return d, nil
}
