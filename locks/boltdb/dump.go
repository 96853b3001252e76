package boltdb

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/atollhq/atoll/locks"
)

// Dump reads everything the file holds, in one read-only transaction (a
// consistent snapshot), for `atoll db migrate`.
func (db *DB) Dump(ctx context.Context) (locks.Dump, error) {
	d := locks.Dump{Records: map[string][]locks.Record{}, Sequences: map[string]uint64{}}
	err := db.view(ctx, "dump", func(tx *bolt.Tx) error {
		lb, err := bucket(tx, bucketLocks)
		if err != nil {
			return err
		}
		if d.Locks, err = scanLocks(ctx, lb, func(locks.Lock) bool { return true }); err != nil {
			return err
		}
		in, err := openInbox(tx)
		if err != nil {
			return err
		}
		var values []deliveryValue
		c := in.meta.Cursor()
		for k, raw := c.First(); k != nil; k, raw = c.Next() {
			var v deliveryValue
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("delivery %q: decode: %w", k, err)
			}
			values = append(values, v)
		}
		// Arrival order, as the inbox's queue has it.
		sortBySeq(values)
		for _, v := range values {
			body, _ := get(in.bodies, []byte(v.ID))
			del := v.delivery(body)
			if v.State == locks.StateDone {
				del.Body = nil
			}
			d.Deliveries = append(d.Deliveries, del)
		}
		root, err := bucket(tx, bucketRecords)
		if err != nil {
			return err
		}
		err = root.ForEach(func(name, v []byte) error {
			b := root.Bucket(name)
			if v != nil || b == nil {
				return nil
			}
			recs := []locks.Record{}
			cur := b.Cursor()
			for k, v := cur.First(); k != nil; k, v = cur.Next() {
				if v == nil && b.Bucket(k) != nil {
					continue
				}
				recs = append(recs, locks.Record{Key: string(k), Value: append([]byte{}, v...)})
			}
			d.Records[string(name)] = recs
			if seq := b.Sequence(); seq > 0 {
				d.Sequences[string(name)] = seq
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		if ab := tx.Bucket(bucketAudit); ab != nil {
			cur := ab.Cursor()
			for k, v := cur.First(); k != nil; k, v = cur.Next() {
				if len(k) != 8 {
					return fmt.Errorf("audit key %x is not a sequence number: %w", k, locks.ErrSchema)
				}
				d.Audit = append(d.Audit, locks.AuditRecord{Seq: binary.BigEndian.Uint64(k), Raw: append([]byte{}, v...)})
			}
		}
		return nil
	})
	if err != nil {
		return locks.Dump{}, err
	}
	return d, nil
}

func sortBySeq(vs []deliveryValue) {
	slices.SortFunc(vs, func(a, b deliveryValue) int { return cmp.Compare(a.Seq, b.Seq) })
}
