package runner

import "context"

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
