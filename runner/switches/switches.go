// Package switches holds the server-wide apply switches: disable_apply in
// the configuration, and the apply lock an admin sets and lifts through
// the API or the web UI. Every path that applies (an apply comment, apply
// after merge, a retry, a drift remediation) asks Blocked first and, when
// blocked, refuses with the reason.
package switches

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

// Bucket holds server-wide state changed at run time; the apply lock is
// its record LockKey.
const (
	Bucket  = "settings"
	LockKey = "apply-lock"
)

// ApplyLock is the server-wide apply lock: while it is held, every apply
// is refused with its reason.
type ApplyLock struct {
	Locked bool      `json:"locked"`
	Reason string    `json:"reason,omitempty"`
	By     string    `json:"by,omitempty"`
	Since  time.Time `json:"since,omitzero"`
}

// ErrNoReason is returned by Set without a reason: every refused apply
// shows it, so it must say something.
var ErrNoReason = errors.New("an apply lock needs a reason")

// Switches reads and sets the switches. Records, Text, Now and Log are
// required.
type Switches struct {
	Records records.Records
	// DisableApply is the configuration's disable_apply.
	DisableApply bool
	// Text renders a message (the reason of an unreadable lock).
	Text func(m templates.Message) string
	Now  func() time.Time
	Log  *slog.Logger
}

// Lock returns the apply lock (Locked false when none is held).
func (s *Switches) Lock(ctx context.Context) (ApplyLock, error) {
	var l ApplyLock
	_, err := s.Records.Get(ctx, Bucket, LockKey, &l)
	return l, err
}

// SetLock stops every apply until ClearLock, with reason shown in each
// refusal; by names who set it ("api", "web UI"). Setting it again
// replaces the reason. It returns the lock as stored.
func (s *Switches) SetLock(ctx context.Context, reason, by string) (ApplyLock, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ApplyLock{}, ErrNoReason
	}
	l := ApplyLock{Locked: true, Reason: reason, By: by, Since: s.Now().UTC()}
	if err := s.Records.Put(ctx, Bucket, LockKey, l); err != nil {
		return ApplyLock{}, err
	}
	s.Log.Info("apply lock set", "reason", reason, "by", by)
	return l, nil
}

// ClearLock lifts the apply lock; lifting none is not an error.
func (s *Switches) ClearLock(ctx context.Context) error {
	if err := s.Records.Delete(ctx, Bucket, LockKey); err != nil {
		return err
	}
	s.Log.Info("apply lock lifted")
	return nil
}

// Block is why applies are stopped server-wide.
type Block struct {
	// Disabled: the configuration's disable_apply.
	Disabled bool
	// Lock: the apply lock, when held.
	Lock *ApplyLock
}

// Blocked returns why every apply is refused now, or nil. A store error
// blocks too: an apply that cannot tell whether it is allowed does not
// run.
func (s *Switches) Blocked(ctx context.Context) *Block {
	if s.DisableApply {
		return &Block{Disabled: true}
	}
	l, err := s.Lock(ctx)
	if err != nil {
		s.Log.Error("read apply lock", "err", err)
		return &Block{Lock: &ApplyLock{Locked: true, Reason: s.Text(templates.ApplyLockUnreadable{Error: err.Error()})}}
	}
	if l.Locked {
		return &Block{Lock: &l}
	}
	return nil
}

// Unmet is the block as an unmet requirement of one project, for the
// outcome of an apply job refused by it.
func (b *Block) Unmet() gate.Reason {
	if b.Disabled {
		return gate.Reason{Code: gate.CodeApplyDisabled}
	}
	return gate.Reason{Code: gate.CodeApplyLock, Why: b.Lock.Reason}
}

// Notice is the block as the notice a refused apply command shows.
func (b *Block) Notice() *templates.ApplyDisabled {
	d := templates.ApplyDisabled{Disabled: b.Disabled}
	if b.Lock != nil {
		d.Reason, d.By, d.Since = b.Lock.Reason, b.Lock.By, b.Lock.Since
	}
	return &d
}
