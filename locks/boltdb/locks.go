package boltdb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/atollhq/atoll/locks"
)

// lockValue is the JSON stored under a lock key (see doc.go). It is kept
// apart from the API types so the file format changes only on purpose.
type lockValue struct {
	Owner ownerValue `json:"owner"`
}

type ownerValue struct {
	Repo    string    `json:"repo"`
	Number  int       `json:"number"`
	Author  string    `json:"author"`
	HeadSHA string    `json:"head_sha"`
	Time    time.Time `json:"time"`
}

func encodeLock(o locks.Owner) ([]byte, error) {
	return json.Marshal(lockValue{Owner: ownerValue{
		Repo: o.Repo, Number: o.Number, Author: o.Author, HeadSHA: o.HeadSHA, Time: o.Time.UTC(),
	}})
}

// decodeLock rebuilds a Lock from a bucket entry.
func decodeLock(key, value []byte) (locks.Lock, error) {
	k, err := decodeKey(key)
	if err != nil {
		return locks.Lock{}, err
	}
	var v lockValue
	if err := json.Unmarshal(value, &v); err != nil {
		return locks.Lock{}, fmt.Errorf("lock %s: decode: %w", k, err)
	}
	o := v.Owner
	return locks.Lock{Key: k, Owner: locks.Owner{
		Repo: o.Repo, Number: o.Number, Author: o.Author, HeadSHA: o.HeadSHA, Time: o.Time.UTC(),
	}}, nil
}

// TryLock takes the lock on k for owner o, in one transaction.
//
// If k is free, or already held by the same PR (same Owner.Repo and
// Owner.Number; the stored owner is then replaced by o, refreshing author,
// head SHA and time), it returns the lock now stored and acquired=true.
// Otherwise it changes nothing and returns the current lock with
// acquired=false. A zero o.Time is set to Options.Now.
//
// Errors: ErrInvalid for a bad key or owner; ErrClosed; ctx's error.
func (db *DB) TryLock(ctx context.Context, k locks.Key, o locks.Owner) (held locks.Lock, acquired bool, err error) {
	k = k.Canonical()
	key, err := encodeKey(k)
	if err != nil {
		return locks.Lock{}, false, fmt.Errorf("locks: trylock: %w", err)
	}
	if err := o.Validate(); err != nil {
		return locks.Lock{}, false, fmt.Errorf("locks: trylock %s: %w", k, err)
	}
	if o.Time.IsZero() {
		o.Time = db.now()
	}
	o.Time = o.Time.UTC()
	err = db.update(ctx, "trylock "+k.String(), func(tx *bolt.Tx) error {
		b, err := bucket(tx, bucketLocks)
		if err != nil {
			return err
		}
		if cur, ok := get(b, key); ok {
			current, err := decodeLock(key, cur)
			if err != nil {
				return err
			}
			if !current.Owner.SamePR(o) {
				held = current
				return nil
			}
		}
		value, err := encodeLock(o)
		if err != nil {
			return err
		}
		if err := b.Put(key, value); err != nil {
			return err
		}
		held, acquired = locks.Lock{Key: k, Owner: o}, true
		return nil
	})
	if err != nil {
		return locks.Lock{}, false, err
	}
	return held, acquired, nil
}

// Unlock releases the lock on k, whoever holds it. Releasing a free key is
// not an error.
//
// Errors: ErrInvalid for a bad key; ErrClosed; ctx's error.
func (db *DB) Unlock(ctx context.Context, k locks.Key) error {
	k = k.Canonical()
	key, err := encodeKey(k)
	if err != nil {
		return fmt.Errorf("locks: unlock: %w", err)
	}
	return db.update(ctx, "unlock "+k.String(), func(tx *bolt.Tx) error {
		b, err := bucket(tx, bucketLocks)
		if err != nil {
			return err
		}
		return b.Delete(key)
	})
}

// Get returns the lock on k and true, or false when k is free.
//
// Errors: ErrInvalid for a bad key; ErrClosed; ctx's error.
func (db *DB) Get(ctx context.Context, k locks.Key) (locks.Lock, bool, error) {
	k = k.Canonical()
	key, err := encodeKey(k)
	if err != nil {
		return locks.Lock{}, false, fmt.Errorf("locks: get: %w", err)
	}
	var (
		l  locks.Lock
		ok bool
	)
	err = db.view(ctx, "get "+k.String(), func(tx *bolt.Tx) error {
		b, err := bucket(tx, bucketLocks)
		if err != nil {
			return err
		}
		v, found := get(b, key)
		if !found {
			return nil
		}
		l, err = decodeLock(key, v)
		ok = err == nil
		return err
	})
	if err != nil {
		return locks.Lock{}, false, err
	}
	return l, ok, nil
}

// List returns every lock, ordered by repo, then dir, then workspace
// (byte order). It returns an empty slice when nothing is locked.
//
// Errors: ErrClosed; ctx's error.
func (db *DB) List(ctx context.Context) ([]locks.Lock, error) {
	return db.listLocks(ctx, "list", func(locks.Lock) bool { return true })
}

// ListByOwner returns the locks held by PR number of repo, in List's order.
//
// Errors: ErrClosed; ctx's error.
func (db *DB) ListByOwner(ctx context.Context, repo string, number int) ([]locks.Lock, error) {
	return db.listLocks(ctx, fmt.Sprintf("list locks of %s#%d", repo, number), func(l locks.Lock) bool {
		return l.Owner.Repo == repo && l.Owner.Number == number
	})
}

// UnlockByOwner releases, in one transaction, every lock held by PR number
// of repo and returns the locks it released (in List's order; empty when
// the PR held none).
//
// Errors: ErrClosed; ctx's error.
func (db *DB) UnlockByOwner(ctx context.Context, repo string, number int) ([]locks.Lock, error) {
	released := []locks.Lock{}
	err := db.update(ctx, fmt.Sprintf("unlock locks of %s#%d", repo, number), func(tx *bolt.Tx) error {
		b, err := bucket(tx, bucketLocks)
		if err != nil {
			return err
		}
		released, err = scanLocks(ctx, b, func(l locks.Lock) bool {
			return l.Owner.Repo == repo && l.Owner.Number == number
		})
		if err != nil {
			return err
		}
		// Delete after the scan: deleting under a moving cursor can skip keys.
		for _, l := range released {
			key, err := encodeKey(l.Key)
			if err != nil {
				return err
			}
			if err := b.Delete(key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return released, nil
}

func (db *DB) listLocks(ctx context.Context, op string, keep func(locks.Lock) bool) ([]locks.Lock, error) {
	var out []locks.Lock
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		b, err := bucket(tx, bucketLocks)
		if err != nil {
			return err
		}
		out, err = scanLocks(ctx, b, keep)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanLocks decodes every lock of b in key order and returns those keep
// accepts (never nil). It stops with ctx's error when ctx is done.
func scanLocks(ctx context.Context, b *bolt.Bucket, keep func(locks.Lock) bool) ([]locks.Lock, error) {
	out := []locks.Lock{}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l, err := decodeLock(k, v)
		if err != nil {
			return nil, err
		}
		if keep(l) {
			out = append(out, l)
		}
	}
	return out, nil
}
