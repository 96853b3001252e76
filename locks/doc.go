// Package locks is the contract of atoll's durable store: the types
// (Key, Owner, Lock, Delivery, Record, RecordUpdate), the sentinel errors
// and the interfaces (Locker, Inbox, Records, AuditStore, Store) that the
// runner and the server use. It imports no database.
//
// Two packages implement Store: locks/boltdb, one bbolt file in the data
// dir (the zero-setup default; one process), and locks/postgres, a
// PostgreSQL database that any number of atoll replicas share. The
// conformance suite in locks/storetest runs the same cases on both.
//
// # Errors
//
// Stores wrap the sentinel errors of errors.go with %w and name the
// operation ("locks: trylock ...: ..."); use errors.Is.
package locks
