package lease

import (
	"context"
	"encoding/json"
	"time"
)

// Deliveries on a shared store (see Cluster). Every replica accepts
// webhooks into the one inbox and every replica drains it; a delivery is
// handled by the replica that claims it (a lease in DeliveryClaims,
// renewed while it is handled). A replica that dies mid-delivery leaves
// it pending, and another handles it once the lease has expired; a
// handled delivery's claim is marked Done, so a replica whose listing
// predates the FinishDelivery never handles it a second time.

// ClaimDelivery reports whether this replica may handle delivery id now.
// Without a shared store it always may (the engine hands each delivery
// out once in process).
func (ls *Leases) ClaimDelivery(ctx context.Context, id string) bool {
	if !ls.c.Shared {
		return true
	}
	ok, err := ls.Try(ctx, DeliveryClaims, id)
	if err != nil {
		ls.log.Warn("claim a delivery", "delivery", id, "err", err)
	}
	return ok
}

// HoldDelivery renews a claimed delivery's lease while it is handled;
// the function it returns ends the claim: done marks the delivery
// handled for good, otherwise the claim is given up for another replica
// (this one is stopping).
func (ls *Leases) HoldDelivery(id string) (end func(ctx context.Context, done bool)) {
	if !ls.c.Shared {
		return func(context.Context, bool) {}
	}
	stop := ls.Keep(DeliveryClaims, id, func(ctx context.Context) (bool, error) {
		return ls.Renew(ctx, DeliveryClaims, id)
	}, nil)
	return func(ctx context.Context, done bool) {
		stop()
		if err := ls.Release(ctx, DeliveryClaims, id, done); err != nil {
			ls.log.Warn("end a delivery's claim", "delivery", id, "err", err)
		}
	}
}

// ClaimKeep is how long a handled delivery's claim is kept: long past
// any listing of pending deliveries that could still name it.
const ClaimKeep = time.Hour

// PruneDeliveryClaims removes the claims of deliveries handled before now
// minus ClaimKeep, and returns how many it removed. Live claims stay.
func (ls *Leases) PruneDeliveryClaims(ctx context.Context) (int, error) {
	recs, err := ls.store.ListRecords(ctx, DeliveryClaims, "")
	if err != nil {
		return 0, err
	}
	cutoff, n := ls.now().Add(-ClaimKeep), 0
	for _, rec := range recs {
		var l Lease
		if json.Unmarshal(rec.Value, &l) != nil || !l.Done || l.Until.After(cutoff) {
			continue
		}
		if err := ls.store.DeleteRecord(ctx, DeliveryClaims, rec.Key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// PruneDeliveryClaimsLoop prunes delivery claims hourly until ctx ends
// (a leader's task).
func (ls *Leases) PruneDeliveryClaimsLoop(ctx context.Context) {
	t := time.NewTicker(ClaimKeep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := ls.PruneDeliveryClaims(ctx); err != nil {
			ls.log.Warn("prune delivery claims", "err", err)
		} else if n > 0 {
			ls.log.Info("pruned delivery claims", "claims", n)
		}
	}
}
