package lease

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/atollhq/atoll/runner/records"
)

// Buckets of the leases.
const (
	// Bucket holds the leader's lease ("leader") and the shared mutexes'
	// ("pr/KEY", "run/KEY", "project/KEY").
	Bucket = "leases"
	// DeliveryClaims holds the inbox's delivery claims: delivery id ->
	// Lease (Done once handled).
	DeliveryClaims = "delclaims"
)

// Lease is a claim of one record: who holds it and until when.
type Lease struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
	// Done marks a delivery handled (delivery claims only): it is never
	// claimed again.
	Done bool `json:"done,omitempty"`
}

// HeldByOther reports whether another replica than me holds l at now.
func (l Lease) HeldByOther(me string, now time.Time) bool {
	return l.Owner != "" && l.Owner != me && now.Before(l.Until)
}

// Leases claims, renews and gives up leases for one replica. Make it with
// New; it is safe for concurrent use.
type Leases struct {
	store records.Store
	rec   records.Records
	c     Cluster
	now   func() time.Time
	log   *slog.Logger
	// born is when this replica's Leases were made: a job this replica
	// claimed before it is a previous life's (JobExpired).
	born time.Time
	// signal asks SignalLoop to bump the queue signal.
	signal chan struct{}
}

// New returns the leases of replica c.ReplicaID over store, timed by now
// (c must have its Defaults), logging to log (nil: nowhere). The moment
// New is called is this replica's birth: jobs it claimed before count as
// expired (JobExpired).
func New(store records.Store, c Cluster, now func() time.Time, log *slog.Logger) *Leases {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Leases{store: store, rec: records.New(store), c: c, now: now, log: log, born: now(), signal: make(chan struct{}, 1)}
}

// Cluster is the cluster settings the leases were made with.
func (ls *Leases) Cluster() Cluster { return ls.c }

// Try claims key of bucket for this replica for one lease, or renews the
// claim it holds. It reports false when another replica holds a live
// lease on it, or when the record is Done.
func (ls *Leases) Try(ctx context.Context, bucket, key string) (bool, error) {
	me, ttl := ls.c.ReplicaID, ls.c.JobLease
	got := false
	err := records.Update(ctx, ls.rec, bucket, key, func(l *Lease, exists bool) error {
		got = false // fn runs again if the store retries the transaction
		now := ls.now()
		if exists && (l.Done || l.HeldByOther(me, now)) {
			return records.ErrAbort
		}
		l.Owner, l.Until, got = me, now.Add(ttl), true
		return nil
	})
	// A failed transaction claimed nothing, whatever fn set (on
	// PostgreSQL, two first claims of a key race and one fails).
	return got && err == nil, err
}

// Renew extends a lease this replica holds. It reports false when the
// lease is no longer this replica's (it expired and another took it).
func (ls *Leases) Renew(ctx context.Context, bucket, key string) (bool, error) {
	me, ttl := ls.c.ReplicaID, ls.c.JobLease
	ok := false
	err := records.Update(ctx, ls.rec, bucket, key, func(l *Lease, exists bool) error {
		ok = false
		if !exists || l.Owner != me || l.Done {
			return records.ErrAbort
		}
		l.Until, ok = ls.now().Add(ttl), true
		return nil
	})
	return ok && err == nil, err
}

// Release gives a lease up, if this replica still holds it; done keeps
// the record, marked Done, so that the key is never claimed again.
func (ls *Leases) Release(ctx context.Context, bucket, key string, done bool) error {
	me := ls.c.ReplicaID
	if done {
		return records.Update(ctx, ls.rec, bucket, key, func(l *Lease, exists bool) error {
			l.Owner, l.Until, l.Done = me, ls.now(), true
			return nil
		})
	}
	return ls.store.UpdateRecord(ctx, bucket, key, func(old []byte, exists bool) ([]byte, error) {
		var l Lease
		if !exists || json.Unmarshal(old, &l) != nil || l.Owner != me {
			return old, nil
		}
		return nil, nil // delete
	})
}

// Keep calls renew every third of a lease until stop is called. When the
// lease is lost (renew reports false: another replica took it after it
// expired; or renewals failed until it expired), lost (when not nil) is
// called once and the renewals end. bucket and key only name the lease
// in the log. stop waits for the renewing goroutine and may be called
// more than once.
func (ls *Leases) Keep(bucket, key string, renew func(ctx context.Context) (bool, error), lost func()) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := ls.c.RenewEvery()
		t := time.NewTicker(every)
		defer t.Stop()
		held := ls.now().Add(ls.c.JobLease)
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			ok, err := renew(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case err == nil && ok:
				held = ls.now().Add(ls.c.JobLease)
				continue
			case err == nil && !ok:
				ls.log.Warn("lease lost to another replica", "bucket", bucket, "key", key)
			case ls.now().Before(held):
				ls.log.Warn("renew lease", "bucket", bucket, "key", key, "err", err)
				continue
			default:
				ls.log.Error("lease expired: the store did not answer", "bucket", bucket, "key", key, "err", err)
			}
			if lost != nil {
				lost()
			}
			return
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

// Mutex returns the cross-replica half of a KeyedMutex (its Shared): it
// waits until this replica holds the lease Bucket/prefix+key, keeps it
// renewed, and returns the function that releases it. When the store
// does not answer it gives up waiting after a lease, and the caller runs
// under its in-process mutex alone (as a single replica would).
func (ls *Leases) Mutex(prefix string) func(key string) (unlock func()) {
	return func(key string) func() {
		ctx := context.Background()
		k := prefix + key
		deadline := ls.now().Add(ls.c.JobLease)
		backoff := 20 * time.Millisecond
		for {
			ok, err := ls.Try(ctx, Bucket, k)
			if ok {
				break
			}
			if err != nil && ls.now().After(deadline) {
				ls.log.Error("take a shared mutex: the store does not answer", "key", k, "err", err)
				return func() {}
			}
			time.Sleep(backoff)
			backoff = min(backoff*2, 500*time.Millisecond)
		}
		stop := ls.Keep(Bucket, k, func(ctx context.Context) (bool, error) {
			return ls.Renew(ctx, Bucket, k)
		}, nil)
		return func() {
			stop()
			if err := ls.Release(ctx, Bucket, k, false); err != nil {
				ls.log.Warn("release a shared mutex", "key", k, "err", err)
			}
		}
	}
}
