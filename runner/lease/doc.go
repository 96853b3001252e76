// Package lease is how atoll processes sharing one store (replicas on
// PostgreSQL, or the single process on bbolt) claim work: leases over the
// store's records, each with an owner and an expiry its holder renews
// while it works. On them it builds the shared mutexes (per PR, run and
// project), the leader election, the job leases of running jobs and the
// claims of the inbox's deliveries.
//
// Every claim is one conditional update of a record (Store.UpdateRecord):
// it succeeds only when the record is free or its lease has expired, so
// two replicas never hold one at once while its lease is live, on bbolt
// and on PostgreSQL alike.
//
// The package decides who holds what and tells the facts (a lease lost, a
// job taken over, a job's lease expired); it never decides what to do
// about them. The engine (package runner) recovers, requeues or
// interrupts an expired job with these primitives. It is built from a
// store, a clock and a replica id (Cluster), never from a Runner.
package lease
