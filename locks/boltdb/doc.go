// Package boltdb is atoll's default durable store: one bbolt file in the data dir
// that holds the workspace locks, the webhook inbox and the generic records
// (jobs, plans, approvals, drift results) of the rooms that own them.
//
// A *DB is safe for concurrent use by many goroutines. The file is held
// exclusively by one process: a second process that opens it gets ErrInUse
// after Options.Timeout (1s by default) instead of waiting forever.
// It implements the contract of package locks (locks.Store); no bbolt type
// crosses its API. locks/postgres implements the same contract for several
// replicas.
//
// # Guarantees
//
// Every mutating method runs in one bbolt read-write transaction: it is
// atomic (all or nothing), isolated (bbolt has a single writer, so
// read-modify-write sequences such as TryLock, AddDelivery and UpdateRecord
// cannot interleave) and durable when it returns nil (bbolt fsyncs on
// commit). Read methods run in a read-only transaction and see one
// consistent snapshot. Byte slices returned to the caller are copies and
// stay valid after the call.
//
// Every method that reads or writes the file takes a context first (Open,
// Close and Path excepted: bbolt's open and close take none). It is checked
// before the work starts and again once the transaction is open (so a call
// that waited for the writer and was cancelled meanwhile does nothing);
// long scans check it as they go and roll back when it is done.
//
// # File layout (schema version 1)
//
// Top-level buckets, their keys and their values:
//
//	meta
//	    "schema"   ASCII decimal schema version, "1" today (see SchemaVersion).
//	    "created"  RFC 3339 time the file was initialised (informational).
//
//	locks
//	    key:   Repo 0x00 Dir 0x00 Workspace (UTF-8, see below)
//	    value: JSON {"owner":{"repo","number","author","head_sha","time"}}
//
//	deliveries                      the webhook inbox, one entry per delivery
//	    key:   the delivery id (X-GitHub-Delivery) as given
//	    value: JSON {"id","event","received","state","error","finished","seq"}
//	           state is "pending", "done" or "failed"; seq is the arrival
//	           number (the bucket's sequence, strictly increasing).
//	delivery_bodies
//	    key:   the delivery id
//	    value: the raw webhook body. Removed when the delivery finishes
//	           "done"; kept for a "failed" delivery (for diagnosis) until the
//	           delivery is pruned.
//	delivery_pending                the queue, in arrival order
//	    key:   seq as an 8-byte big-endian uint64
//	    value: the delivery id
//
//	records                         generic records, one sub-bucket each
//	    <bucket name>               as the caller names it (e.g. "jobs")
//	        key:   the caller's key, bytes as given (cursor order = byte order)
//	        value: the caller's bytes (JSON by convention), stored as given
//	        The sub-bucket's bbolt sequence backs NextID.
//
// A lock key is the lock's Repo, Dir and Workspace joined by a NUL byte.
// None of the three may contain NUL or be empty after cleaning; Dir is
// cleaned with path.Clean first, so "", "." and "./" all name the root and
// "a/b/" and "a/b" are one lock. Keys therefore sort by repo, then dir, then
// workspace, and all locks of a repo share the prefix Repo 0x00.
//
// Times are stored in UTC with nanoseconds (RFC 3339 in JSON) and returned
// in UTC.
//
// # Schema versions and migrations
//
// Open reads meta/schema. A fresh file is initialised at SchemaVersion. A
// file at an older version is migrated forward in one transaction by the
// steps in migrations (db.go), one per version. A file at a newer version
// (written by a newer atoll) is refused with ErrSchema rather than being
// misread; so is a bbolt file that has buckets but no meta bucket (not an
// atoll file).
//
// # Errors
//
// The sentinel errors are those of package locks. Errors are wrapped with %w
// and name the operation ("locks: trylock ...: ..."); use errors.Is.
package boltdb
