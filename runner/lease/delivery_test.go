package lease_test

import (
	"context"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/storetest"
	"github.com/atollhq/atoll/runner/lease"
	"github.com/atollhq/atoll/runner/records"
)

// Of three replicas listing one pending delivery, one handles it; a
// delivery whose replica died is taken over; once handled, none takes it
// again.
func TestDeliveryClaimedOnce(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		ctx := context.Background()
		clock := storetest.NewClock()
		rs := replicas(3, time.Minute, clock.Now, open)
		claimed := 0
		for _, r := range rs {
			if r.ClaimDelivery(ctx, "d1") {
				claimed++
			}
		}
		if claimed != 1 {
			t.Fatalf("delivery claimed by %d replicas, want 1", claimed)
		}
		clock.Advance(2 * time.Minute) // its replica died: another may take it
		if !rs[2].ClaimDelivery(ctx, "d1") {
			t.Fatal("a delivery whose claim expired could not be taken over")
		}
		end := rs[2].HoldDelivery("d1")
		end(ctx, true)
		clock.Advance(2 * time.Minute)
		for _, r := range rs {
			if r.ClaimDelivery(ctx, "d1") {
				t.Fatal("a handled delivery was claimed again")
			}
		}
		// Given up unhandled (its replica stops): another takes it at once.
		if !rs[0].ClaimDelivery(ctx, "d2") {
			t.Fatal("claim d2")
		}
		rs[0].HoldDelivery("d2")(ctx, false)
		if !rs[1].ClaimDelivery(ctx, "d2") {
			t.Error("a delivery given up unhandled could not be claimed by another replica")
		}
	})
}

// Handled deliveries' claims are pruned after ClaimKeep; live ones stay.
func TestPruneDeliveryClaims(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		ctx := context.Background()
		clock := storetest.NewClock()
		r := replicas(1, time.Minute, clock.Now, open)[0]
		for _, id := range []string{"old", "live"} {
			if !r.ClaimDelivery(ctx, id) {
				t.Fatal("claim")
			}
		}
		if err := r.Release(ctx, lease.DeliveryClaims, "old", true); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * lease.ClaimKeep)
		if n, err := r.PruneDeliveryClaims(ctx); err != nil || n != 1 {
			t.Fatalf("pruned %d, %v; want the handled delivery's claim", n, err)
		}
		if _, ok, _ := open().GetRecord(ctx, lease.DeliveryClaims, "live"); !ok {
			t.Error("the claim of a delivery not handled yet was pruned")
		}
	})
}

// On a store of its own every delivery is this process's: no claim is
// stored.
func TestDeliveriesNotClaimedAlone(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		c := lease.Cluster{ReplicaID: "solo"}
		c.Defaults()
		ls := lease.New(open(), c, time.Now, nil)
		ctx := context.Background()
		if !ls.ClaimDelivery(ctx, "d") || !ls.ClaimDelivery(ctx, "d") {
			t.Fatal("the single process was refused a delivery")
		}
		ls.HoldDelivery("d")(ctx, true)
		if _, ok, _ := open().GetRecord(ctx, lease.DeliveryClaims, "d"); ok {
			t.Error("a single process stored a delivery claim")
		}
	})
}
