package boltdb

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/atollhq/atoll/locks"
)

// deliveryValue is the JSON stored in the deliveries bucket (see doc.go).
type deliveryValue struct {
	ID       string    `json:"id"`
	Event    string    `json:"event"`
	Received time.Time `json:"received"`
	State    string    `json:"state"`
	Error    string    `json:"error,omitempty"`
	Finished time.Time `json:"finished"`
	Seq      uint64    `json:"seq"`
}

func (v deliveryValue) delivery(body []byte) locks.Delivery {
	return locks.Delivery{ID: v.ID, Event: v.Event, Body: body, Received: v.Received.UTC(),
		State: v.State, Error: v.Error, Finished: v.Finished.UTC()}
}

// inbox holds the three delivery buckets of one transaction.
type inbox struct{ meta, bodies, pending *bolt.Bucket }

func openInbox(tx *bolt.Tx) (inbox, error) {
	var in inbox
	var err error
	if in.meta, err = bucket(tx, bucketDeliveries); err != nil {
		return in, err
	}
	if in.bodies, err = bucket(tx, bucketDeliveryBodies); err != nil {
		return in, err
	}
	in.pending, err = bucket(tx, bucketDeliveryPending)
	return in, err
}

func (in inbox) load(id []byte) (deliveryValue, bool, error) {
	raw, ok := get(in.meta, id)
	if !ok {
		return deliveryValue{}, false, nil
	}
	var v deliveryValue
	if err := json.Unmarshal(raw, &v); err != nil {
		return deliveryValue{}, false, fmt.Errorf("delivery %q: decode: %w", id, err)
	}
	return v, true, nil
}

func (in inbox) store(v deliveryValue) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return in.meta.Put([]byte(v.ID), raw)
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// AddDelivery stores a webhook as pending, in one transaction. If the inbox
// already holds id (pending, finished, or finished and not yet pruned) it
// changes nothing and returns duplicate=true. body is copied.
//
// Errors: ErrInvalid for an empty id; ErrClosed; ctx's error.
func (db *DB) AddDelivery(ctx context.Context, id, event string, body []byte) (duplicate bool, err error) {
	if err := locks.ValidateDeliveryID(id); err != nil {
		return false, fmt.Errorf("locks: add delivery: %w", err)
	}
	received := db.now().UTC()
	err = db.batch(ctx, fmt.Sprintf("add delivery %q", id), func(tx *bolt.Tx) error {
		duplicate = false
		in, err := openInbox(tx)
		if err != nil {
			return err
		}
		if _, ok := get(in.meta, []byte(id)); ok {
			duplicate = true
			return nil
		}
		seq, err := in.meta.NextSequence()
		if err != nil {
			return err
		}
		v := deliveryValue{ID: id, Event: event, Received: received, State: locks.StatePending, Seq: seq}
		if err := in.store(v); err != nil {
			return err
		}
		if err := in.bodies.Put([]byte(id), append([]byte{}, body...)); err != nil {
			return err
		}
		return in.pending.Put(seqKey(seq), []byte(id))
	})
	if err != nil {
		return false, err
	}
	return duplicate, nil
}

// PendingDeliveries returns every pending delivery with its body, oldest
// first (in the order AddDelivery stored them). A delivery whose handling
// was interrupted (the process stopped before FinishDelivery) is still
// pending, so handling is at least once. It returns an empty slice when
// none is pending.
//
// Errors: ErrClosed; ctx's error.
func (db *DB) PendingDeliveries(ctx context.Context) ([]locks.Delivery, error) {
	out := []locks.Delivery{}
	err := db.view(ctx, "pending deliveries", func(tx *bolt.Tx) error {
		in, err := openInbox(tx)
		if err != nil {
			return err
		}
		c := in.pending.Cursor()
		for k, id := c.First(); k != nil; k, id = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			v, ok, err := in.load(id)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("pending delivery %q has no entry: %w", id, locks.ErrSchema)
			}
			body, _ := get(in.bodies, id)
			out = append(out, v.delivery(body))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetDelivery returns the delivery id and true, or false when the inbox
// does not hold it (never added, or pruned).
//
// Errors: ErrClosed; ctx's error.
func (db *DB) GetDelivery(ctx context.Context, id string) (locks.Delivery, bool, error) {
	var (
		d  locks.Delivery
		ok bool
	)
	err := db.view(ctx, fmt.Sprintf("get delivery %q", id), func(tx *bolt.Tx) error {
		in, err := openInbox(tx)
		if err != nil {
			return err
		}
		if id == "" {
			return nil
		}
		v, found, err := in.load([]byte(id))
		if err != nil || !found {
			return err
		}
		body, _ := get(in.bodies, []byte(id))
		d, ok = v.delivery(body), true
		return nil
	})
	if err != nil {
		return locks.Delivery{}, false, err
	}
	return d, ok, nil
}

// FinishDelivery marks delivery id handled, in one transaction: done when
// errMsg is empty (its body is dropped), failed with errMsg otherwise (its
// body is kept). It leaves the pending queue; the entry itself stays for
// deduplication until PruneDeliveries removes it. Finishing an already
// finished delivery overwrites its state, error and finish time.
//
// Errors: ErrNotFound (wrapped) for an id the inbox does not hold;
// ErrClosed; ctx's error.
func (db *DB) FinishDelivery(ctx context.Context, id string, errMsg string) error {
	finished := db.now().UTC()
	return db.update(ctx, fmt.Sprintf("finish delivery %q", id), func(tx *bolt.Tx) error {
		in, err := openInbox(tx)
		if err != nil {
			return err
		}
		v, ok, err := in.load([]byte(id))
		if err != nil {
			return err
		}
		if !ok {
			return locks.ErrNotFound
		}
		if err := in.pending.Delete(seqKey(v.Seq)); err != nil {
			return err
		}
		v.State, v.Error, v.Finished = locks.StateDone, errMsg, finished
		if errMsg != "" {
			v.State = locks.StateFailed
		} else if err := in.bodies.Delete([]byte(id)); err != nil {
			return err
		}
		return in.store(v)
	})
}

// PruneDeliveries removes, in one transaction, the finished (done or
// failed) deliveries whose Finished time is before olderThan, and returns
// how many it removed. Pending deliveries are never pruned. Once pruned, an
// id is no longer deduplicated: call it with a retention longer than the
// code host's redelivery window (e.g. now minus 7 days).
//
// Errors: ErrClosed; ctx's error (nothing is removed then).
func (db *DB) PruneDeliveries(ctx context.Context, olderThan time.Time) (int, error) {
	var removed int
	err := db.update(ctx, "prune deliveries", func(tx *bolt.Tx) error {
		in, err := openInbox(tx)
		if err != nil {
			return err
		}
		var stale [][]byte
		c := in.meta.Cursor()
		for k, raw := c.First(); k != nil; k, raw = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var v deliveryValue
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("delivery %q: decode: %w", k, err)
			}
			if v.State != locks.StatePending && v.Finished.Before(olderThan) {
				stale = append(stale, append([]byte(nil), k...))
			}
		}
		// Delete after the scan: deleting under a moving cursor can skip keys.
		for _, id := range stale {
			if err := in.meta.Delete(id); err != nil {
				return err
			}
			if err := in.bodies.Delete(id); err != nil {
				return err
			}
		}
		removed = len(stale)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}
