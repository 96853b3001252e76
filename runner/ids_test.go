package runner

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/records"
)

// TestIDsAreUnguessable: job and run ids carry 128 random bits after the
// day and counter that keep them in order.
func TestIDsAreUnguessable(t *testing.T) {
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec := records.New(db)
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	a, err := rec.NewID(context.Background(), records.Jobs, now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := rec.NewID(context.Background(), records.Jobs, now)
	shape := regexp.MustCompile(`^20261206-00000[12]-[0-9a-f]{32}$`)
	if !shape.MatchString(a) || !shape.MatchString(b) || a[16:] == b[16:] || a >= b {
		t.Errorf("ids %q, %q", a, b)
	}
}
