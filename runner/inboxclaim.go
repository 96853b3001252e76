package runner

import (
	"context"
	"encoding/json"
	"time"
)

// Deliveries on a shared store (see Cluster). Every replica accepts
// webhooks into the one inbox and every replica drains it; a delivery is
// handled by the replica that claims it (a lease in bucketDelClaims,
// renewed while it is handled). A replica that dies mid-delivery leaves
// it pending, and another handles it once the lease has expired; a
// handled delivery's claim is marked Done, so a replica whose listing
// predates the FinishDelivery never handles it a second time.

// claimDelivery reports whether this replica may handle delivery id now.
func (r *Runner) claimDelivery(ctx context.Context, id string) bool {
	if !r.shared() {
		return true // inFlight already hands each delivery out once
	}
	ok, err := r.tryLease(ctx, bucketDelClaims, id)
	if err != nil {
		r.log.Warn("claim a delivery", "delivery", id, "err", err)
	}
	return ok
}

// holdDelivery renews a claimed delivery's lease while it is handled;
// the function it returns ends the claim: done marks the delivery
// handled for good, otherwise the claim is given up for another replica
// (this one is stopping).
func (r *Runner) holdDelivery(id string) func(ctx context.Context, done bool) {
	if !r.shared() {
		return func(context.Context, bool) {}
	}
	stop := r.keepLease(bucketDelClaims, id, func(ctx context.Context) (bool, error) {
		return r.renewLease(ctx, bucketDelClaims, id)
	}, nil)
	return func(ctx context.Context, done bool) {
		stop()
		if err := r.releaseLease(ctx, bucketDelClaims, id, done); err != nil {
			r.log.Warn("end a delivery's claim", "delivery", id, "err", err)
		}
	}
}

// claimKeep is how long a handled delivery's claim is kept: long past
// any listing of pending deliveries that could still name it.
const claimKeep = time.Hour

// pruneClaims removes the claims of deliveries handled before now minus
// claimKeep, and returns how many it removed.
func (r *Runner) pruneClaims(ctx context.Context) (int, error) {
	recs, err := r.cfg.Store.ListRecords(ctx, bucketDelClaims, "")
	if err != nil {
		return 0, err
	}
	cutoff, n := r.now().Add(-claimKeep), 0
	for _, rec := range recs {
		var l lease
		if json.Unmarshal(rec.Value, &l) != nil || !l.Done || l.Until.After(cutoff) {
			continue
		}
		if err := r.cfg.Store.DeleteRecord(ctx, bucketDelClaims, rec.Key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// pruneClaimsLoop prunes delivery claims hourly (a leader's task).
func (r *Runner) pruneClaimsLoop(ctx context.Context) {
	t := time.NewTicker(claimKeep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := r.pruneClaims(ctx); err != nil {
			r.log.Warn("prune delivery claims", "err", err)
		} else if n > 0 {
			r.log.Info("pruned delivery claims", "claims", n)
		}
	}
}
