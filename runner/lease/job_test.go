package lease_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/storetest"
	"github.com/atollhq/atoll/runner/lease"
	"github.com/atollhq/atoll/runner/records"
)

// A worker that lost its lease drops its outcome rather than overwrite
// the job another replica took over.
func TestTakenOver(t *testing.T) {
	mine := records.Job{ID: "j", State: records.JobRunning, Mark: "old"}
	if lease.TakenOver(mine, mine) {
		t.Error("a job still claimed by its worker counts as taken over")
	}
	if !lease.TakenOver(records.Job{ID: "j", State: records.JobRunning, Mark: "new"}, mine) {
		t.Error("a job claimed again by another replica does not count as taken over")
	}
	if !lease.TakenOver(records.Job{ID: "j", State: records.JobQueued}, mine) {
		t.Error("a job queued again does not count as taken over")
	}
	if lease.TakenOver(records.Job{ID: "j", State: records.JobRunning}, records.Job{ID: "j", State: records.JobRunning}) {
		t.Error("a job finished without a claim (CancelJob) counts as taken over")
	}
}

// A claimed job's lease is renewed in the store while it is held, so it
// never counts as expired; taken over by another replica, its holder is
// told (its work cancelled), at once when it asks late.
func TestHeldJobLease(t *testing.T) {
	onStores(t, func(t *testing.T, open func() records.Store) {
		ctx := context.Background()
		rs := replicas(2, 300*time.Millisecond, time.Now, open)
		a, b := rs[0], rs[1]
		rec := records.New(open())
		job := records.Job{ID: "j1", Kind: records.JobPlan, State: records.JobRunning, Started: time.Now(), Mark: "m1"}
		a.ClaimJob(&job)
		if job.Owner != "a" || !job.LeaseUntil.After(time.Now()) {
			t.Fatalf("claimed job: owner %q until %v; want a's, a lease ahead", job.Owner, job.LeaseUntil)
		}
		if err := rec.Put(ctx, records.Jobs, job.ID, job); err != nil {
			t.Fatal(err)
		}
		held := a.HoldJob(job)
		var cancelled atomic.Int32
		held.OnLost(func() { cancelled.Add(1) })
		time.Sleep(700 * time.Millisecond) // more than two leases
		var cur records.Job
		if _, err := rec.Get(ctx, records.Jobs, job.ID, &cur); err != nil {
			t.Fatal(err)
		}
		if b.JobExpired(cur, time.Now()) || cancelled.Load() != 0 {
			t.Fatalf("a held job expired (lease until %v) or was cancelled (%d)", cur.LeaseUntil, cancelled.Load())
		}
		// Another replica claims it again (as after a takeover).
		cur.Mark, cur.Owner = "m2", "b"
		if err := rec.Put(ctx, records.Jobs, job.ID, cur); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the holder to learn its job was taken over", func() bool { return cancelled.Load() == 1 })
		held.Stop()
		held.Stop()
		if _, err := rec.Get(ctx, records.Jobs, job.ID, &cur); err != nil || cur.Owner != "b" || cur.Mark != "m2" {
			t.Errorf("the new claim was overwritten: %+v, %v", cur, err)
		}
		late := atomic.Int32{}
		held.OnLost(func() { late.Add(1) })
		if late.Load() != 1 {
			t.Error("a cancel given after the lease was lost was not called at once")
		}
	})
}

// What counts as an expired job: a running job past its lease; one
// claimed without a lease, a lease after its start; one this replica
// claimed before it was born, at once.
func TestJobExpired(t *testing.T) {
	clock := storetest.NewClock()
	c := lease.Cluster{ReplicaID: "a", Shared: true, JobLease: time.Minute}
	c.Defaults()
	started := clock.Now().Add(-30 * time.Second)
	ls := lease.New(nil, c, clock.Now, nil) // born now
	now := clock.Now()
	cases := []struct {
		name string
		job  records.Job
		want bool
	}{
		{"live lease", records.Job{State: records.JobRunning, Owner: "b", Started: started, LeaseUntil: now.Add(time.Second)}, false},
		{"lease passed", records.Job{State: records.JobRunning, Owner: "b", Started: started, LeaseUntil: now.Add(-time.Second)}, true},
		{"not running", records.Job{State: records.JobSucceeded, Owner: "b", Started: started, LeaseUntil: now.Add(-time.Hour)}, false},
		{"no lease, started recently", records.Job{State: records.JobRunning, Started: started}, false},
		{"no lease, started long ago", records.Job{State: records.JobRunning, Started: now.Add(-2 * time.Minute)}, true},
		{"own job of a previous life", records.Job{State: records.JobRunning, Owner: "a", Started: started, LeaseUntil: now.Add(time.Minute)}, true},
		{"own job of this life", records.Job{State: records.JobRunning, Owner: "a", Started: now, LeaseUntil: now.Add(time.Minute)}, false},
	}
	for _, tc := range cases {
		if got := ls.JobExpired(tc.job, now); got != tc.want {
			t.Errorf("%s: JobExpired = %v, want %v", tc.name, got, tc.want)
		}
	}
}
