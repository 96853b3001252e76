package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/atollhq/atoll/locks"
)

// PutRecord stores value under key in bucket. See locks.Records.
func (db *DB) PutRecord(ctx context.Context, bucket, key string, value []byte) error {
	if err := locks.ValidateRecord(bucket, key, true); err != nil {
		return fmt.Errorf("locks: put record: %w", err)
	}
	op := fmt.Sprintf("put record %s/%s", bucket, key)
	if err := db.check(ctx, op); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO atoll_records (bucket, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value`, []byte(bucket), []byte(key), value)
	return db.wrap(op, err)
}

// GetRecord returns the value under key in bucket. See locks.Records.
func (db *DB) GetRecord(ctx context.Context, bucket, key string) ([]byte, bool, error) {
	if err := locks.ValidateRecord(bucket, key, true); err != nil {
		return nil, false, fmt.Errorf("locks: get record: %w", err)
	}
	op := fmt.Sprintf("get record %s/%s", bucket, key)
	if err := db.check(ctx, op); err != nil {
		return nil, false, err
	}
	var value []byte
	err := db.pool.QueryRow(ctx, `SELECT value FROM atoll_records WHERE bucket = $1 AND key = $2`,
		[]byte(bucket), []byte(key)).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, db.wrap(op, err)
	}
	if value == nil {
		value = []byte{}
	}
	return value, true, nil
}

// DeleteRecord removes key from bucket. See locks.Records.
func (db *DB) DeleteRecord(ctx context.Context, bucket, key string) error {
	if err := locks.ValidateRecord(bucket, key, true); err != nil {
		return fmt.Errorf("locks: delete record: %w", err)
	}
	op := fmt.Sprintf("delete record %s/%s", bucket, key)
	if err := db.check(ctx, op); err != nil {
		return err
	}
	_, err := db.pool.Exec(ctx, `DELETE FROM atoll_records WHERE bucket = $1 AND key = $2`, []byte(bucket), []byte(key))
	return db.wrap(op, err)
}

// prefixEnd returns the smallest byte string greater than every string
// with prefix p, or nil when there is none (p empty or all 0xff).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// ListRecords returns bucket's records under prefix in key order. See
// locks.Records.
func (db *DB) ListRecords(ctx context.Context, bucket, prefix string) ([]locks.Record, error) {
	if err := locks.ValidateRecord(bucket, "", false); err != nil {
		return nil, fmt.Errorf("locks: list records: %w", err)
	}
	op := fmt.Sprintf("list records %s/%s*", bucket, prefix)
	if err := db.check(ctx, op); err != nil {
		return nil, err
	}
	var (
		rows pgx.Rows
		err  error
	)
	if end := prefixEnd([]byte(prefix)); end != nil {
		rows, err = db.pool.Query(ctx, `SELECT key, value FROM atoll_records
			WHERE bucket = $1 AND key >= $2 AND key < $3 ORDER BY key`, []byte(bucket), []byte(prefix), end)
	} else {
		rows, err = db.pool.Query(ctx, `SELECT key, value FROM atoll_records
			WHERE bucket = $1 AND key >= $2 ORDER BY key`, []byte(bucket), []byte(prefix))
	}
	if err != nil {
		return nil, db.wrap(op, err)
	}
	out := []locks.Record{}
	for rows.Next() {
		var key, value []byte
		if err := rows.Scan(&key, &value); err != nil {
			rows.Close()
			return nil, db.wrap(op, err)
		}
		if value == nil {
			value = []byte{}
		}
		out = append(out, locks.Record{Key: string(key), Value: value})
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrap(op, err)
	}
	return out, nil
}

// UpdateRecord is an atomic read-modify-write of key, across replicas:
// the row is read with SELECT ... FOR UPDATE (a racing writer waits, then
// reads what this one wrote), and a missing row is inserted without ON
// CONFLICT, so of two transactions creating it one fails and is run again
// from the start, fn included. See locks.Records.
func (db *DB) UpdateRecord(ctx context.Context, bucket, key string, fn func(old []byte, exists bool) ([]byte, error)) error {
	if err := locks.ValidateRecord(bucket, key, true); err != nil {
		return fmt.Errorf("locks: update record: %w", err)
	}
	return db.inTx(ctx, fmt.Sprintf("update record %s/%s", bucket, key), func(tx pgx.Tx) error {
		return updateOne(ctx, tx, bucket, key, fn)
	})
}

// UpdateRecords runs updates in one transaction. See locks.Records.
func (db *DB) UpdateRecords(ctx context.Context, updates []locks.RecordUpdate) error {
	for _, u := range updates {
		if err := locks.ValidateRecord(u.Bucket, u.Key, true); err != nil {
			return fmt.Errorf("locks: update records: %w", err)
		}
	}
	return db.inTx(ctx, fmt.Sprintf("update %d records", len(updates)), func(tx pgx.Tx) error {
		for _, u := range updates {
			if err := updateOne(ctx, tx, u.Bucket, u.Key, u.Fn); err != nil {
				return err
			}
		}
		return nil
	})
}

// recordLockClass namespaces the advisory locks updateOne takes.
const recordLockClass = 0x61746f6c // "atol"

// updateOne runs one read-modify-write of a record in tx. The key is
// first locked for the transaction (an advisory lock on its hash), so
// that concurrent updates of one key queue behind each other even while
// the row does not exist yet: without it, two first writes of a key
// both find no row, both insert, and the loser's transaction fails and
// is retried, calling fn twice, which the store contract forbids (a
// claim's fn records that it claimed).
func updateOne(ctx context.Context, tx pgx.Tx, bucket, key string, fn func(old []byte, exists bool) ([]byte, error)) error {
	b, k := []byte(bucket), []byte(key)
	h := fnv.New32a()
	h.Write(b)
	h.Write([]byte{0})
	h.Write(k)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(recordLockClass), int32(h.Sum32())); err != nil {
		return err
	}
	var old []byte
	exists := true
	err := tx.QueryRow(ctx, `SELECT value FROM atoll_records WHERE bucket = $1 AND key = $2 FOR UPDATE`, b, k).Scan(&old)
	if errors.Is(err, pgx.ErrNoRows) {
		exists, old, err = false, nil, nil
	}
	if err != nil {
		return err
	}
	if exists && old == nil {
		old = []byte{}
	}
	value, err := fn(old, exists)
	if err != nil {
		return &userErr{err}
	}
	switch {
	case value == nil && exists:
		_, err = tx.Exec(ctx, `DELETE FROM atoll_records WHERE bucket = $1 AND key = $2`, b, k)
	case value == nil:
	case exists:
		_, err = tx.Exec(ctx, `UPDATE atoll_records SET value = $3 WHERE bucket = $1 AND key = $2`, b, k, value)
	default:
		_, err = tx.Exec(ctx, `INSERT INTO atoll_records (bucket, key, value) VALUES ($1, $2, $3)`, b, k, value)
	}
	return err
}

// NextIDs returns the next number of each entry's sequence, in order, in
// one transaction: each distinct bucket's sequence is advanced once, by
// the number of its entries, which get consecutive numbers. See
// locks.Store.
func (db *DB) NextIDs(ctx context.Context, buckets ...string) ([]uint64, error) {
	for _, bucket := range buckets {
		if err := locks.ValidateRecord(bucket, "", false); err != nil {
			return nil, fmt.Errorf("locks: next ids: %w", err)
		}
	}
	if len(buckets) == 0 {
		return []uint64{}, nil
	}
	var order []string
	count := map[string]int64{}
	for _, b := range buckets {
		if count[b] == 0 {
			order = append(order, b)
		}
		count[b]++
	}
	ids := make([]uint64, len(buckets))
	err := db.inTx(ctx, fmt.Sprintf("next %d ids", len(buckets)), func(tx pgx.Tx) error {
		next := map[string]uint64{}
		for _, b := range order {
			var last int64
			err := tx.QueryRow(ctx, `INSERT INTO atoll_sequences (bucket, value) VALUES ($1, $2)
				ON CONFLICT (bucket) DO UPDATE SET value = atoll_sequences.value + $2 RETURNING value`, []byte(b), count[b]).Scan(&last)
			if err != nil {
				return err
			}
			next[b] = uint64(last - count[b] + 1)
		}
		for i, b := range buckets {
			ids[i] = next[b]
			next[b]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// NextID returns the next number of bucket's sequence, atomically across
// replicas (an upsert that increments). See locks.Records.
func (db *DB) NextID(ctx context.Context, bucket string) (uint64, error) {
	if err := locks.ValidateRecord(bucket, "", false); err != nil {
		return 0, fmt.Errorf("locks: next id: %w", err)
	}
	op := "next id of " + bucket
	if err := db.check(ctx, op); err != nil {
		return 0, err
	}
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO atoll_sequences (bucket, value) VALUES ($1, 1)
		ON CONFLICT (bucket) DO UPDATE SET value = atoll_sequences.value + 1 RETURNING value`, []byte(bucket)).Scan(&id)
	if err != nil {
		return 0, db.wrap(op, err)
	}
	return uint64(id), nil
}
