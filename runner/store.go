package runner

import (
	"context"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/records"
)

// Locker is what the runner's project locks need of the store: take,
// look up and release a lock, one at a time or a pull request's at once.
type Locker interface {
	TryLock(ctx context.Context, k locks.Key, o locks.Owner) (locks.Lock, bool, error)
	Unlock(ctx context.Context, k locks.Key) error
	Get(ctx context.Context, k locks.Key) (locks.Lock, bool, error)
	List(ctx context.Context) ([]locks.Lock, error)
	ListByOwner(ctx context.Context, repo string, number int) ([]locks.Lock, error)
	UnlockByOwner(ctx context.Context, repo string, number int) ([]locks.Lock, error)
}

// Deliveries is what the inbox needs of the store: the webhook
// deliveries stored and not yet handled, marking one handled, and pruning.
type Deliveries interface {
	PendingDeliveries(ctx context.Context) ([]locks.Delivery, error)
	FinishDelivery(ctx context.Context, id string, errMsg string) error
	PruneDeliveries(ctx context.Context, olderThan time.Time) (int, error)
}

// Store is the durable state a Runner is wired to: project locks,
// webhook deliveries and the runner's records (records.Store). locks.Store
// implements it. Each part uses only its own piece; no storage type leaks
// through it, only the locks contract's values.
type Store interface {
	Locker
	Deliveries
	records.Store
}
