package boltdb

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/atollhq/atoll/locks"
)

// Record buckets are named by their owners (the runner's "jobs", "plans",
// "approvals", "drift", ...). They live under the top-level records bucket,
// so no name can collide with this package's own buckets. A bucket springs
// into existence on its first write; reading a bucket never written is not
// an error (it is empty).

// recordBucket returns the sub-bucket name, or nil when it was never
// written and create is false.
func recordBucket(tx *bolt.Tx, name string, create bool) (*bolt.Bucket, error) {
	root, err := bucket(tx, bucketRecords)
	if err != nil {
		return nil, err
	}
	if !create {
		return root.Bucket([]byte(name)), nil
	}
	return root.CreateBucketIfNotExists([]byte(name))
}

// PutRecord stores value (copied; nil stores an empty value) under key in
// bucket, replacing any previous value.
//
// Errors: ErrInvalid for an empty bucket or key; ErrClosed; ctx's error.
func (db *DB) PutRecord(ctx context.Context, bucket, key string, value []byte) error {
	if err := locks.ValidateRecord(bucket, key, true); err != nil {
		return fmt.Errorf("locks: put record: %w", err)
	}
	return db.update(ctx, fmt.Sprintf("put record %s/%s", bucket, key), func(tx *bolt.Tx) error {
		b, err := recordBucket(tx, bucket, true)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), append([]byte{}, value...))
	})
}

// GetRecord returns a copy of the value under key in bucket and true, or
// false when there is none. An empty stored value is returned as a non-nil
// empty slice.
//
// Errors: ErrInvalid for an empty bucket or key; ErrClosed; ctx's error.
func (db *DB) GetRecord(ctx context.Context, bucket, key string) ([]byte, bool, error) {
	if err := locks.ValidateRecord(bucket, key, true); err != nil {
		return nil, false, fmt.Errorf("locks: get record: %w", err)
	}
	var (
		value []byte
		ok    bool
	)
	err := db.view(ctx, fmt.Sprintf("get record %s/%s", bucket, key), func(tx *bolt.Tx) error {
		b, err := recordBucket(tx, bucket, false)
		if err != nil || b == nil {
			return err
		}
		value, ok = get(b, []byte(key))
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return value, ok, nil
}

// DeleteRecord removes key from bucket. Deleting a missing key is not an
// error.
//
// Errors: ErrInvalid for an empty bucket or key; ErrClosed; ctx's error.
func (db *DB) DeleteRecord(ctx context.Context, bucket, key string) error {
	if err := locks.ValidateRecord(bucket, key, true); err != nil {
		return fmt.Errorf("locks: delete record: %w", err)
	}
	return db.update(ctx, fmt.Sprintf("delete record %s/%s", bucket, key), func(tx *bolt.Tx) error {
		b, err := recordBucket(tx, bucket, false)
		if err != nil || b == nil {
			return err
		}
		return b.Delete([]byte(key))
	})
}

// ListRecords returns the records of bucket whose key starts with prefix
// ("" for all), in byte order of their keys, values copied. It returns an
// empty slice when there are none.
//
// Errors: ErrInvalid for an empty bucket name; ErrClosed; ctx's error.
func (db *DB) ListRecords(ctx context.Context, bucket, prefix string) ([]locks.Record, error) {
	if err := locks.ValidateRecord(bucket, "", false); err != nil {
		return nil, fmt.Errorf("locks: list records: %w", err)
	}
	out := []locks.Record{}
	err := db.view(ctx, fmt.Sprintf("list records %s/%s*", bucket, prefix), func(tx *bolt.Tx) error {
		b, err := recordBucket(tx, bucket, false)
		if err != nil || b == nil {
			return err
		}
		p := []byte(prefix)
		c := b.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if v == nil && b.Bucket(k) != nil {
				continue // never written by this package; skip rather than misreport
			}
			out = append(out, locks.Record{Key: string(k), Value: append([]byte{}, v...)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateRecord is an atomic read-modify-write of key in bucket: in one
// read-write transaction it calls fn with a copy of the current value
// (exists=false and old=nil when there is none) and stores what fn returns.
// A nil result deletes the key; a non-nil empty slice stores an empty
// value. If fn returns an error, nothing changes and UpdateRecord returns
// that error as is (compare it with == or errors.Is).
//
// fn runs while the database's single writer is held: it must be quick and
// must not call this DB (that would deadlock). It may be called at most
// once per UpdateRecord.
//
// Errors: fn's error; ErrInvalid for an empty bucket or key; ErrClosed;
// ctx's error.
func (db *DB) UpdateRecord(ctx context.Context, bucket, key string, fn func(old []byte, exists bool) ([]byte, error)) error {
	if err := locks.ValidateRecord(bucket, key, true); err != nil {
		return fmt.Errorf("locks: update record: %w", err)
	}
	var fnErr error
	err := db.update(ctx, fmt.Sprintf("update record %s/%s", bucket, key), func(tx *bolt.Tx) error {
		b, err := recordBucket(tx, bucket, true)
		if err != nil {
			return err
		}
		old, exists := get(b, []byte(key))
		value, err := fn(old, exists)
		if err != nil {
			fnErr = err
			return err
		}
		if value == nil {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), append([]byte{}, value...))
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// NextID returns the next number of bucket's own sequence: 1 on the first
// call, then strictly increasing by one, durable across restarts, never
// reused (not even after the records that used it are deleted). Use it for
// job and plan ids.
//
// Errors: ErrInvalid for an empty bucket name; ErrClosed; ctx's error.
func (db *DB) NextID(ctx context.Context, bucket string) (uint64, error) {
	if err := locks.ValidateRecord(bucket, "", false); err != nil {
		return 0, fmt.Errorf("locks: next id: %w", err)
	}
	var id uint64
	err := db.update(ctx, "next id of "+bucket, func(tx *bolt.Tx) error {
		b, err := recordBucket(tx, bucket, true)
		if err != nil {
			return err
		}
		id, err = b.NextSequence()
		return err
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// NextIDs returns the next number of each entry's sequence, in order, in
// one read-write transaction (one commit): a bucket named n times gets n
// consecutive numbers. The rules of NextID apply to each. No buckets:
// none, and nothing is written.
//
// Errors: ErrInvalid for an empty bucket name; ErrClosed; ctx's error.
func (db *DB) NextIDs(ctx context.Context, buckets ...string) ([]uint64, error) {
	for _, bucket := range buckets {
		if err := locks.ValidateRecord(bucket, "", false); err != nil {
			return nil, fmt.Errorf("locks: next ids: %w", err)
		}
	}
	if len(buckets) == 0 {
		return []uint64{}, nil
	}
	ids := make([]uint64, len(buckets))
	err := db.update(ctx, fmt.Sprintf("next %d ids", len(buckets)), func(tx *bolt.Tx) error {
		for i, bucket := range buckets {
			b, err := recordBucket(tx, bucket, true)
			if err != nil {
				return err
			}
			if ids[i], err = b.NextSequence(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// UpdateRecords runs every update, in order, in one read-write
// transaction: either all of them are stored or none is. Use it when
// records of several buckets must change together (a run, its jobs, and
// the PR state that says they exist). Each Fn sees what the updates
// before it wrote. If an Fn returns an error, nothing changes and
// UpdateRecords returns that error as is. The rules of UpdateRecord's fn
// apply to every Fn.
//
// Errors: an Fn's error; ErrInvalid for an empty bucket or key; ErrClosed;
// ctx's error.
func (db *DB) UpdateRecords(ctx context.Context, updates []locks.RecordUpdate) error {
	for _, u := range updates {
		if err := locks.ValidateRecord(u.Bucket, u.Key, true); err != nil {
			return fmt.Errorf("locks: update records: %w", err)
		}
	}
	var fnErr error
	err := db.update(ctx, fmt.Sprintf("update %d records", len(updates)), func(tx *bolt.Tx) error {
		for _, u := range updates {
			b, err := recordBucket(tx, u.Bucket, true)
			if err != nil {
				return err
			}
			old, exists := get(b, []byte(u.Key))
			value, err := u.Fn(old, exists)
			if err != nil {
				fnErr = err
				return err
			}
			if value == nil {
				err = b.Delete([]byte(u.Key))
			} else {
				err = b.Put([]byte(u.Key), append([]byte{}, value...))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}
