package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"sync"
	"time"

	"github.com/atollhq/atoll/runner/records"
)

// Cluster says whether this runner shares its store with other atoll
// processes (replicas on one PostgreSQL), and how it shares the work
// with them. The zero value is the single process on bbolt.
//
// Everything replicas share is decided by conditional updates of the
// store's records (Store.UpdateRecord): a job, a delivery, a per-PR or
// per-project mutex and the leadership are each claimed with a lease,
// an owner and an expiry, that the holder renews while it works. A
// claim succeeds only when the record is free or its lease has expired,
// so two replicas never hold one at once while its lease is live, on
// bbolt and on PostgreSQL alike.
type Cluster struct {
	// ReplicaID names this process in the leases it holds. Default: the
	// host name and a random suffix.
	ReplicaID string
	// Shared is true when other atoll processes use the same store. Then
	// start-up recovery only takes over jobs whose lease has expired (a
	// live replica may be running the others), the reconciler, the plan
	// queue and the drift scheduler run on the leader alone, and workers
	// look for jobs other replicas queued every Poll.
	Shared bool
	// JobLease is how long a claim lasts without renewal (server config
	// job_lease; default DefaultJobLease). Holders renew it every third of
	// it. When a replica dies, its plans run again elsewhere and its
	// applies are reported interrupted once their lease has expired.
	JobLease time.Duration
	// Poll is how often a replica of a shared store looks for jobs other
	// replicas queued (default: a second, or JobLease/4 when shorter).
	Poll time.Duration
}

// DefaultJobLease is the job lease when job_lease is unset.
const DefaultJobLease = 2 * time.Minute

func (c *Cluster) defaults() {
	if c.ReplicaID == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.ReplicaID = host + "-" + hex.EncodeToString(b[:])
	}
	if c.JobLease <= 0 {
		c.JobLease = DefaultJobLease
	}
	if c.Poll <= 0 {
		c.Poll = min(time.Second, c.JobLease/4)
	}
}

// renewEvery is how often a lease is renewed: three chances before it
// expires.
func (c Cluster) renewEvery() time.Duration { return max(c.JobLease/3, 10*time.Millisecond) }

// shared reports whether other replicas use this runner's store.
func (r *Runner) shared() bool { return r.cfg.Cluster.Shared }

// Buckets of the leases.
const (
	bucketLeases    = "leases"    // "leader", "pr/KEY", "project/KEY" -> lease
	bucketDelClaims = "delclaims" // delivery id -> lease (Done once handled)
)

// lease is a claim of one record: who holds it and until when.
type lease struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
	// Done marks a delivery handled (delivery claims only): it is never
	// claimed again.
	Done bool `json:"done,omitempty"`
}

// live reports whether another replica than me holds l at now.
func (l lease) heldByOther(me string, now time.Time) bool {
	return l.Owner != "" && l.Owner != me && now.Before(l.Until)
}

// tryLease claims key of bucket for this replica for one lease, or
// renews the claim it holds. It reports false when another replica holds
// a live lease on it, or when the record is Done.
func (r *Runner) tryLease(ctx context.Context, bucket, key string) (bool, error) {
	me, ttl := r.cfg.Cluster.ReplicaID, r.cfg.Cluster.JobLease
	got := false
	err := records.Update(ctx, r.rec, bucket, key, func(l *lease, exists bool) error {
		got = false // fn runs again if the store retries the transaction
		now := r.now()
		if exists && (l.Done || l.heldByOther(me, now)) {
			return records.ErrAbort
		}
		l.Owner, l.Until, got = me, now.Add(ttl), true
		return nil
	})
	// A failed transaction claimed nothing, whatever fn set (on
	// PostgreSQL, two first claims of a key race and one fails).
	return got && err == nil, err
}

// renewLease extends a lease this replica holds. It reports false when
// the lease is no longer this replica's (it expired and another took it).
func (r *Runner) renewLease(ctx context.Context, bucket, key string) (bool, error) {
	me, ttl := r.cfg.Cluster.ReplicaID, r.cfg.Cluster.JobLease
	ok := false
	err := records.Update(ctx, r.rec, bucket, key, func(l *lease, exists bool) error {
		ok = false
		if !exists || l.Owner != me || l.Done {
			return records.ErrAbort
		}
		l.Until, ok = r.now().Add(ttl), true
		return nil
	})
	return ok && err == nil, err
}

// releaseLease gives a lease up, if this replica still holds it; done
// keeps the record, marked Done, so that the key is never claimed again.
func (r *Runner) releaseLease(ctx context.Context, bucket, key string, done bool) error {
	me := r.cfg.Cluster.ReplicaID
	if done {
		return records.Update(ctx, r.rec, bucket, key, func(l *lease, exists bool) error {
			l.Owner, l.Until, l.Done = me, r.now(), true
			return nil
		})
	}
	return r.cfg.Store.UpdateRecord(ctx, bucket, key, func(old []byte, exists bool) ([]byte, error) {
		var l lease
		if !exists || json.Unmarshal(old, &l) != nil || l.Owner != me {
			return old, nil
		}
		return nil, nil // delete
	})
}

// keepLease renews a held lease every third of it until stop is called.
// When the lease is lost (another replica took it after it expired, or
// renewals failed until it expired), lost is called once.
func (r *Runner) keepLease(bucket, key string, renew func(ctx context.Context) (bool, error), lost func()) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := r.cfg.Cluster.renewEvery()
		t := time.NewTicker(every)
		defer t.Stop()
		held := r.now().Add(r.cfg.Cluster.JobLease)
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
				held = r.now().Add(r.cfg.Cluster.JobLease)
				continue
			case err == nil && !ok:
				r.log.Warn("lease lost to another replica", "bucket", bucket, "key", key)
			case r.now().Before(held):
				r.log.Warn("renew lease", "bucket", bucket, "key", key, "err", err)
				continue
			default:
				r.log.Error("lease expired: the store did not answer", "bucket", bucket, "key", key, "err", err)
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

// sharedMutex returns the cross-replica half of a keyedMutex: it waits
// until this replica holds the lease bucketLeases/prefix+key, keeps it
// renewed, and returns the function that releases it. When the store
// does not answer it gives up waiting after a lease, and the caller runs
// under its in-process mutex alone (as a single replica would).
func (r *Runner) sharedMutex(prefix string) func(key string) func() {
	return func(key string) func() {
		ctx := context.Background()
		k := prefix + key
		deadline := r.now().Add(r.cfg.Cluster.JobLease)
		backoff := 20 * time.Millisecond
		for {
			ok, err := r.tryLease(ctx, bucketLeases, k)
			if ok {
				break
			}
			if err != nil && r.now().After(deadline) {
				r.log.Error("take a shared mutex: the store does not answer", "key", k, "err", err)
				return func() {}
			}
			time.Sleep(backoff)
			backoff = min(backoff*2, 500*time.Millisecond)
		}
		stop := r.keepLease(bucketLeases, k, func(ctx context.Context) (bool, error) {
			return r.renewLease(ctx, bucketLeases, k)
		}, nil)
		return func() {
			stop()
			if err := r.releaseLease(ctx, bucketLeases, k, false); err != nil {
				r.log.Warn("release a shared mutex", "key", k, "err", err)
			}
		}
	}
}
