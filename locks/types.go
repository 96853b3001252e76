package locks

import (
	"fmt"
	"time"
)

// Owner is the pull request that holds a lock. Two owners are the same PR
// when Repo and Number are equal; Author, HeadSHA and Time describe the
// latest lock request.
type Owner struct {
	// Repo is the PR's repository, "owner/name".
	Repo string
	// Number is the PR number (> 0).
	Number int
	// Author is the PR author's login.
	Author string
	// HeadSHA is the commit the lock was taken for.
	HeadSHA string
	// Time is when the lock was taken or last refreshed; TryLock fills it
	// with the store's clock when zero. Returned in UTC.
	Time time.Time
}

// SamePR reports whether o and p are the same pull request.
func (o Owner) SamePR(p Owner) bool { return o.Repo == p.Repo && o.Number == p.Number }

// Validate reports (ErrInvalid) an owner without repo or PR number.
func (o Owner) Validate() error {
	if o.Repo == "" || o.Number <= 0 {
		return fmt.Errorf("owner %s#%d: want a repo and a PR number > 0: %w", o.Repo, o.Number, ErrInvalid)
	}
	return nil
}

// Lock is a workspace held by a pull request.
type Lock struct {
	Key   Key
	Owner Owner
}

// Delivery states.
const (
	// StatePending: stored, not yet handled (or handling was interrupted).
	StatePending = "pending"
	// StateDone: handled successfully.
	StateDone = "done"
	// StateFailed: handled, with an error (Delivery.Error).
	StateFailed = "failed"
)

// Delivery is one webhook in the inbox.
type Delivery struct {
	// ID is the code host's delivery id (X-GitHub-Delivery), unique.
	ID string
	// Event is the event name (X-GitHub-Event).
	Event string
	// Body is the raw webhook body. It is nil once the delivery is done
	// (bodies of done deliveries are dropped; failed ones keep theirs).
	Body []byte
	// Received is when AddDelivery stored it (the store's clock, UTC).
	Received time.Time
	// State is StatePending, StateDone or StateFailed.
	State string
	// Error is the failure message of a failed delivery.
	Error string
	// Finished is when FinishDelivery was last called (zero while pending).
	Finished time.Time
}

// Record is one entry of a record bucket.
type Record struct {
	Key   string
	Value []byte
}

// RecordUpdate is one read-modify-write of an UpdateRecords batch: Fn
// gets the current value of Key in Bucket and returns the new one, as in
// UpdateRecord (nil deletes the key).
type RecordUpdate struct {
	Bucket string
	Key    string
	Fn     func(old []byte, exists bool) ([]byte, error)
}

// ValidateRecord reports (ErrInvalid) an empty or too long bucket name,
// and, when needKey, an empty or too long record key.
func ValidateRecord(bucket, key string, needKey bool) error {
	if bucket == "" || len(bucket) > MaxKeySize {
		return fmt.Errorf("record bucket name of %d bytes: %w", len(bucket), ErrInvalid)
	}
	if needKey && (key == "" || len(key) > MaxKeySize) {
		return fmt.Errorf("record key of %d bytes in bucket %q: %w", len(key), bucket, ErrInvalid)
	}
	return nil
}

// ValidateDeliveryID reports (ErrInvalid) an empty or too long delivery id.
func ValidateDeliveryID(id string) error {
	if id == "" || len(id) > MaxKeySize {
		return fmt.Errorf("delivery id of %d bytes: %w", len(id), ErrInvalid)
	}
	return nil
}

// Dump is everything a store holds, in a form another store can load:
// `atoll db migrate` moves a bbolt file into PostgreSQL with it.
type Dump struct {
	// Locks in List's order.
	Locks []Lock
	// Deliveries, every state, in arrival order (bodies included).
	Deliveries []Delivery
	// Records by bucket, each in key order.
	Records map[string][]Record
	// Sequences are the last numbers NextID gave, by bucket.
	Sequences map[string]uint64
	// Audit is the audit trail in order.
	Audit []AuditRecord
}

// AuditRecord is one stored audit record: its sequence number and bytes.
type AuditRecord struct {
	Seq uint64
	Raw []byte
}

// Counts returns how many things of each kind d holds: "locks",
// "deliveries", "audit", "records/BUCKET" and "sequences/BUCKET" (the
// sequence's value), to compare a store with the dump loaded into it.
func (d Dump) Counts() map[string]uint64 {
	c := map[string]uint64{"locks": uint64(len(d.Locks)), "deliveries": uint64(len(d.Deliveries)), "audit": uint64(len(d.Audit))}
	for b, rs := range d.Records {
		c["records/"+b] = uint64(len(rs))
	}
	for b, v := range d.Sequences {
		c["sequences/"+b] = v
	}
	return c
}
