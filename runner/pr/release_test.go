package pr

import (
	"context"
	"testing"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

// An admin releases one lock: the holding PR's plan of that project goes
// (not one being applied, nor another project's), the PR is told who did
// it, and a free lock is no error.
func TestAdminReleasesALock(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil)
	w.openPR(5, "h5")
	for _, dir := range []string{"app", "db"} {
		if _, _, err := w.db.TryLock(ctx, locks.Key{Repo: testRepo.FullName(), Dir: dir, Workspace: "default"},
			locks.Owner{Repo: testRepo.FullName(), Number: 5, HeadSHA: "h5"}); err != nil {
			t.Fatal(err)
		}
		w.storePlan(t, 5, "h5", dir, records.PlanPlanned, true)
	}
	k := locks.Key{Repo: testRepo.FullName(), Dir: "app", Workspace: "default"}
	l, ok, err := w.life.ReleaseLock(ctx, k, "@alice in the web UI")
	if err != nil || !ok || l.Owner.Number != 5 {
		t.Fatalf("ReleaseLock = %+v %v %v", l, ok, err)
	}
	held, _ := w.db.ListByOwner(ctx, testRepo.FullName(), 5)
	plans, _ := w.rec.PlansOf(ctx, testRepo.FullName(), 5)
	if len(held) != 1 || held[0].Key.Dir != "db" || len(plans) != 1 || plans[0].Project.Name != "db" {
		t.Errorf("after the release: locks %v, plans %v; want db's alone", held, plans)
	}
	if want := (templates.LockReleasedByAdmin{}).Template(); w.lastSaid() != want {
		t.Errorf("the PR was told %q, want %q", w.lastSaid(), want)
	}
	if _, ok, err := w.life.ReleaseLock(ctx, k, "@alice in the web UI"); ok || err != nil {
		t.Errorf("releasing a free lock: %v %v", ok, err)
	}
}
