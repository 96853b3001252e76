package locks

import (
	"context"
	"time"
)

// Locker holds the workspace locks. A store implements it so that TryLock
// is atomic across every process sharing the store: of two callers racing
// for a free key, exactly one gets acquired=true.
type Locker interface {
	// TryLock takes the lock on k for owner o, in one transaction. If k is
	// free, or already held by the same PR (Owner.SamePR; the stored owner
	// is then replaced by o), it returns the lock now stored and
	// acquired=true. Otherwise it changes nothing and returns the current
	// lock with acquired=false. A zero o.Time is set to the store's clock.
	// Errors: ErrInvalid for a bad key or owner; ErrClosed; ctx's error.
	TryLock(ctx context.Context, k Key, o Owner) (held Lock, acquired bool, err error)
	// Unlock releases the lock on k, whoever holds it; a free key is no
	// error.
	Unlock(ctx context.Context, k Key) error
	// Get returns the lock on k and true, or false when k is free.
	Get(ctx context.Context, k Key) (Lock, bool, error)
	// List returns every lock, ordered by repo, dir, workspace (byte
	// order); an empty slice when nothing is locked.
	List(ctx context.Context) ([]Lock, error)
	// ListByOwner returns the locks held by PR number of repo, in List's
	// order.
	ListByOwner(ctx context.Context, repo string, number int) ([]Lock, error)
	// UnlockByOwner releases, in one transaction, every lock held by PR
	// number of repo and returns them (in List's order).
	UnlockByOwner(ctx context.Context, repo string, number int) ([]Lock, error)
}

// Inbox is the durable webhook inbox.
type Inbox interface {
	// AddDelivery stores a webhook as pending, atomically: when the inbox
	// already holds id (in any state, until pruned) it changes nothing and
	// returns duplicate=true, so of two processes adding one id exactly
	// one gets duplicate=false. Errors: ErrInvalid for an empty id.
	AddDelivery(ctx context.Context, id, event string, body []byte) (duplicate bool, err error)
	// PendingDeliveries returns every pending delivery with its body, in
	// the order they were added (empty slice when none).
	PendingDeliveries(ctx context.Context) ([]Delivery, error)
	// GetDelivery returns the delivery id and true, or false when the
	// inbox does not hold it.
	GetDelivery(ctx context.Context, id string) (Delivery, bool, error)
	// FinishDelivery marks id done (errMsg empty; its body is dropped) or
	// failed (its body is kept). Errors: ErrNotFound for an unknown id.
	FinishDelivery(ctx context.Context, id string, errMsg string) error
	// PruneDeliveries removes the finished deliveries whose Finished time
	// is before olderThan and returns how many it removed; pending ones
	// are never pruned.
	PruneDeliveries(ctx context.Context, olderThan time.Time) (int, error)
}

// Records is the generic record store: named buckets of byte values under
// string keys, listed in byte order of their keys.
type Records interface {
	// PutRecord stores value (nil stores an empty value) under key in
	// bucket. Errors: ErrInvalid for an empty bucket or key.
	PutRecord(ctx context.Context, bucket, key string, value []byte) error
	// GetRecord returns the value under key and true, or false when none.
	GetRecord(ctx context.Context, bucket, key string) ([]byte, bool, error)
	// DeleteRecord removes key; a missing key is no error.
	DeleteRecord(ctx context.Context, bucket, key string) error
	// ListRecords returns the records whose key starts with prefix, in
	// byte order of the keys (empty slice when none).
	ListRecords(ctx context.Context, bucket, prefix string) ([]Record, error)
	// UpdateRecord is an atomic read-modify-write of key: fn gets the
	// current value (exists=false, old=nil when none) and returns the new
	// one (nil deletes). It is isolated from every other writer of the
	// store, in this process or another: a conditional update ("planned"
	// to "applying") succeeds for exactly one of many racing callers. fn's
	// error is returned as is and nothing changes. fn must be quick, must
	// not call the store, and may run more than once (a store may retry a
	// transaction that lost a race), so it must compute its result afresh
	// from old each time.
	UpdateRecord(ctx context.Context, bucket, key string, fn func(old []byte, exists bool) ([]byte, error)) error
	// UpdateRecords runs every update in order in one transaction: all
	// are stored or none. Each Fn sees what the ones before it wrote; the
	// rules of UpdateRecord's fn apply.
	UpdateRecords(ctx context.Context, updates []RecordUpdate) error
	// NextID returns the next number of bucket's own sequence: 1 first,
	// then strictly increasing, never reused, unique across processes.
	NextID(ctx context.Context, bucket string) (uint64, error)
	// NextIDs returns the next numbers of several sequences in one
	// transaction, one for each entry of buckets, in order: a bucket
	// named n times gets n consecutive numbers. Every number is one
	// NextID could have given. A run and its jobs take their ids in one
	// commit, instead of one commit each.
	NextIDs(ctx context.Context, buckets ...string) ([]uint64, error)
}

// AuditStore keeps the hash-chained audit trail's records (package
// locks/audit chains them). Appends are serialised across processes.
type AuditStore interface {
	// AppendAudit calls build with the next sequence number and the last
	// record (nil when the trail is empty) and stores what it returns
	// under that number, in one transaction. build may run more than once.
	AppendAudit(ctx context.Context, build func(seq uint64, last []byte) ([]byte, error)) error
	// ReadAudit calls fn for each record with seq >= since, in order,
	// until fn returns an error, which it returns.
	ReadAudit(ctx context.Context, since uint64, fn func(seq uint64, raw []byte) error) error
	// PruneAudit deletes the records with seq < before-1 and replaces the
	// one at before-1 with what checkpoint makes of it.
	PruneAudit(ctx context.Context, before uint64, checkpoint func(last []byte) ([]byte, error)) error
}

// Store is everything durable atoll keeps: locks, the inbox, the records
// (runs, jobs, plans, approvals, drift, tokens, sessions) and the audit
// trail. locks/boltdb and locks/postgres implement it; every consumer
// should ask for the small part it needs.
type Store interface {
	Locker
	Inbox
	Records
	AuditStore
	// Ping checks that the store can be reached (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the store; methods called after it return ErrClosed.
	Close() error
}
