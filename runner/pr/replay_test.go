package pr

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/vcs"
)

// clock is a settable time source for a boltdb.DB.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openDB(t *testing.T, c *clock) *boltdb.DB {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestClaimCommand(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	db := openDB(t, c)
	const retention = 14 * 24 * time.Hour
	comment := vcs.Comment{ID: 7, CreatedAt: c.t.Add(-time.Minute)}
	steps := []struct {
		name     string
		comment  vcs.Comment
		delivery string
		want     commandVerdict
	}{
		{"first delivery runs", comment, "d1", commandRun},
		{"the same delivery again runs (redelivery, restart)", comment, "d1", commandRun},
		{"the same body under a new delivery id is a replay", comment, "d2-replay", commandReplayed},
		{"another comment runs", vcs.Comment{ID: 8, CreatedAt: c.t}, "d3", commandRun},
		{"a comment older than the retention never runs", vcs.Comment{ID: 9, CreatedAt: c.t.Add(-retention - time.Second)}, "d4", commandTooOld},
		{"no comment id", vcs.Comment{}, "d5", commandNoComment},
	}
	for _, st := range steps {
		got, _, err := claimCommand(ctx, db, c.t, retention, "acme/infra", st.comment, st.delivery)
		if err != nil || got != st.want {
			t.Errorf("%s: verdict %d, err %v; want %d", st.name, got, err, st.want)
		}
	}
	// The same comment id in another repository is another comment.
	if got, _, _ := claimCommand(ctx, db, c.t, retention, "acme/other", comment, "d6"); got != commandRun {
		t.Errorf("comment 7 of another repository: verdict %d, want run", got)
	}
}

func TestPruneInbox(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{t: start}
	db := openDB(t, c)
	const retention = 14 * 24 * time.Hour
	for _, id := range []string{"done", "failed", "pending"} {
		if _, err := db.AddDelivery(ctx, id, "issue_comment", []byte(`{"id":"`+id+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.FinishDelivery(ctx, "done", ""); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishDelivery(ctx, "failed", "boom"); err != nil {
		t.Fatal(err)
	}
	if v, _, err := claimCommand(ctx, db, start, retention, "acme/infra", vcs.Comment{ID: 1, CreatedAt: start}, "done"); err != nil || v != commandRun {
		t.Fatal(v, err)
	}

	// A day before the retention ends: nothing goes, the failed body stays.
	c.t = start.Add(retention - 24*time.Hour)
	if d, cl, err := pruneInbox(ctx, db, c.t, retention); err != nil || d != 0 || cl != 0 {
		t.Fatalf("early prune removed %d deliveries, %d claims (err %v)", d, cl, err)
	}
	if f, ok, _ := db.GetDelivery(ctx, "failed"); !ok || string(f.Body) != `{"id":"failed"}` {
		t.Errorf("failed delivery before the retention: %+v %v, want it with its body", f, ok)
	}
	if v, _, _ := claimCommand(ctx, db, c.t, retention, "acme/infra", vcs.Comment{ID: 1, CreatedAt: start}, "replay"); v != commandReplayed {
		t.Errorf("replay within the retention: verdict %d, want replayed", v)
	}

	// Past the retention: finished deliveries and the claim go; pending stays.
	c.t = start.Add(retention + time.Hour)
	if d, cl, err := pruneInbox(ctx, db, c.t, retention); err != nil || d != 2 || cl != 1 {
		t.Fatalf("prune removed %d deliveries, %d claims (err %v); want 2 and 1", d, cl, err)
	}
	for id, want := range map[string]bool{"done": false, "failed": false, "pending": true} {
		if _, ok, _ := db.GetDelivery(ctx, id); ok != want {
			t.Errorf("delivery %s kept = %v, want %v", id, ok, want)
		}
	}
	// With its claim pruned, the comment is too old to run: still no replay.
	if v, _, _ := claimCommand(ctx, db, c.t, retention, "acme/infra", vcs.Comment{ID: 1, CreatedAt: start}, "replay-2"); v != commandTooOld {
		t.Errorf("replay after pruning: verdict %d, want too old", v)
	}
}
