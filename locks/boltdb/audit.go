package boltdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/atollhq/atoll/locks"
)

// The audit bucket holds the audit trail's records (package audit), keyed
// by their sequence number as 8 big-endian bytes, so they sort in order.
// It is created on the first append; an older file simply has none yet.
var bucketAudit = []byte("audit")

func auditKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// AppendAudit calls build with the next sequence number and the last
// record (nil when the trail is empty) and stores what it returns under
// that number, in one transaction: appends are serialised.
func (db *DB) AppendAudit(ctx context.Context, build func(seq uint64, last []byte) ([]byte, error)) error {
	return db.update(ctx, "append audit record", func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAudit)
		if err != nil {
			return err
		}
		seq := uint64(1)
		var last []byte
		if k, v := b.Cursor().Last(); k != nil {
			seq = binary.BigEndian.Uint64(k) + 1
			last = append([]byte(nil), v...)
		}
		val, err := build(seq, last)
		if err != nil {
			return err
		}
		return b.Put(auditKey(seq), val)
	})
}

// ReadAudit calls fn for each audit record with seq >= since, in order,
// until fn returns an error, which it returns. raw is valid only during
// the call.
func (db *DB) ReadAudit(ctx context.Context, since uint64, fn func(seq uint64, raw []byte) error) error {
	var fnErr error
	err := db.view(ctx, "read audit trail", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(auditKey(since)); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("audit key %x is not a sequence number: %w", k, locks.ErrSchema)
			}
			if err := fn(binary.BigEndian.Uint64(k), v); err != nil {
				fnErr = err
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if fnErr != nil && errors.Is(err, fnErr) {
		return fnErr
	}
	return err
}

// PruneAudit deletes the audit records with seq < before-1 and replaces
// the one at before-1 with what checkpoint makes of it.
func (db *DB) PruneAudit(ctx context.Context, before uint64, checkpoint func(last []byte) ([]byte, error)) error {
	if before < 2 {
		return nil
	}
	return db.update(ctx, "prune audit trail", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		lastKey := auditKey(before - 1)
		last, ok := get(b, lastKey)
		if !ok {
			return fmt.Errorf("audit record %d is missing", before-1)
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil && string(k) < string(lastKey); k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		cp, err := checkpoint(last)
		if err != nil {
			return err
		}
		return b.Put(lastKey, cp)
	})
}
