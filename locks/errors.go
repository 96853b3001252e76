package locks

import "errors"

// The sentinel errors of the store contract, all of them. Stores return them
// wrapped with context (the file, the key, the operation): test with
// errors.Is, never with ==.
var (
	// ErrInUse is returned by boltdb.Open when another process (or another
	// DB in this process) holds the file and did not release it within
	// Options.Timeout. The message names the file.
	ErrInUse = errors.New("database file in use")

	// ErrSchema is returned when opening a store whose schema cannot be
	// used: it was written by a newer atoll, its version is unreadable, or
	// it is not an atoll database. Other methods return it when the store
	// is damaged (a missing bucket, an unreadable row).
	ErrSchema = errors.New("unsupported database schema")

	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("database closed")

	// ErrInvalid is returned when an argument cannot be stored: an empty or
	// NUL-containing lock key part, an owner without repo or number, an
	// empty delivery id, record bucket or record key, or a key longer than
	// MaxKeySize.
	ErrInvalid = errors.New("invalid argument")

	// ErrNotFound is returned by FinishDelivery for a delivery id the inbox
	// does not hold (never added, or already pruned).
	ErrNotFound = errors.New("not found")
)
