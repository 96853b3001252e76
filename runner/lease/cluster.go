package lease

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"time"
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

// Defaults fills in the unset fields of c: a replica id made of the host
// name and a random suffix, DefaultJobLease, and the poll interval.
func (c *Cluster) Defaults() {
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

// RenewEvery is how often a lease is renewed: three chances before it
// expires.
func (c Cluster) RenewEvery() time.Duration { return max(c.JobLease/3, 10*time.Millisecond) }
