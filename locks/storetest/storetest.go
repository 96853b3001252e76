// Package storetest is the conformance suite of the store contract
// (package locks): the same cases run on every implementation, so that
// bbolt and PostgreSQL behave alike where atoll depends on it.
//
//	func TestConformance(t *testing.T) { storetest.Run(t, newStore) }
package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
)

// New makes a new, empty store whose clock is now. replica, when not nil,
// opens one more handle on the same store, as another atoll process
// would (nil for a store that one process holds alone); the suite then
// races the two. Both are closed by the suite's cleanups (New should
// register them with t.Cleanup).
type New func(t *testing.T, now func() time.Time) (s locks.Store, replica func() locks.Store)

// Clock is a settable clock at microsecond precision (PostgreSQL's).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed time.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d).Truncate(time.Microsecond)
}

// Run runs every case on stores made by newStore.
func Run(t *testing.T, newStore New) {
	cases := []struct {
		name string
		fn   func(t *testing.T, newStore New)
	}{
		{"LockTakeConflictRelease", testLocks},
		{"LockAtomicTake", testLockRace},
		{"ExactlyOnceConditionalUpdate", testExactlyOnce},
		{"UpdateRecordsAllOrNothing", testUpdateRecords},
		{"RecordsListByPrefix", testRecordsList},
		{"JobStateTransitions", testJobStates},
		{"NextIDUnique", testNextID},
		{"NextIDsOneTransaction", testNextIDs},
		{"DeliveryDedupe", testDeliveries},
		{"DeliveryPruning", testDeliveryPrune},
		{"AuditChain", testAudit},
		{"InvalidAndClosed", testInvalidAndClosed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore) })
	}
}

// handles returns n handles on one store: the first and, where the store
// allows it, replicas in turn.
func handles(s locks.Store, replica func() locks.Store, n int) []locks.Store {
	out := []locks.Store{s}
	for len(out) < n {
		if replica == nil {
			out = append(out, s)
		} else {
			out = append(out, replica())
		}
	}
	return out
}
