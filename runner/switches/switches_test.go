package switches_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/switches"
	"github.com/atollhq/atoll/templates"
)

func newSwitches(t *testing.T, disable bool) *switches.Switches {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &switches.Switches{Records: records.New(db), DisableApply: disable,
		Text: func(m templates.Message) string { return m.Template() }, Now: time.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// An admin's apply lock stops every apply with its reason until lifted;
// a lock without a reason is refused.
func TestApplyLock(t *testing.T) {
	ctx := context.Background()
	s := newSwitches(t, false)
	if b := s.Blocked(ctx); b != nil {
		t.Fatalf("blocked without a switch: %+v", b)
	}
	if _, err := s.SetLock(ctx, "  ", "api"); !errors.Is(err, switches.ErrNoReason) {
		t.Errorf("a lock without a reason: %v", err)
	}
	if _, err := s.SetLock(ctx, "freeze for the audit", "web UI (alice)"); err != nil {
		t.Fatal(err)
	}
	b := s.Blocked(ctx)
	if b == nil || b.Lock == nil || b.Lock.Reason != "freeze for the audit" {
		t.Fatalf("blocked = %+v", b)
	}
	if r := b.Unmet(); r.Code != gate.CodeApplyLock || r.Why != "freeze for the audit" {
		t.Errorf("unmet = %+v", r)
	}
	if n := b.Notice(); n.Reason != "freeze for the audit" || n.By != "web UI (alice)" || n.Since.IsZero() {
		t.Errorf("notice = %+v", n)
	}
	if err := s.ClearLock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearLock(ctx); err != nil {
		t.Errorf("lifting no lock: %v", err)
	}
	if l, err := s.Lock(ctx); err != nil || l.Locked || s.Blocked(ctx) != nil {
		t.Errorf("after lifting: %+v %v", l, err)
	}
}

// disable_apply blocks every apply, lock or not.
func TestDisableApply(t *testing.T) {
	b := newSwitches(t, true).Blocked(context.Background())
	if b == nil || !b.Disabled || b.Unmet().Code != gate.CodeApplyDisabled || !b.Notice().Disabled {
		t.Errorf("disable_apply: %+v", b)
	}
}
