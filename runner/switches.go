package runner

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/templates"
)

// The server-wide apply switches: disable_apply in the configuration, and
// the apply lock an admin sets and lifts through the API or the web UI.
// Every path that applies (an apply comment, apply after merge, a retry, a
// drift remediation) asks applyBlocked first and, when blocked, refuses
// with the reason.

// bucketSettings holds server-wide state changed at run time.
const bucketSettings = "settings"

// applyLockKey is the apply lock's record in bucketSettings.
const applyLockKey = "apply-lock"

// ApplyLock is the server-wide apply lock: while it is held, every apply
// is refused with its reason.
type ApplyLock struct {
	Locked bool      `json:"locked"`
	Reason string    `json:"reason,omitempty"`
	By     string    `json:"by,omitempty"`
	Since  time.Time `json:"since,omitzero"`
}

// ErrNoReason is returned by SetApplyLock without a reason: every refused
// apply shows it, so it must say something.
var ErrNoReason = errors.New("an apply lock needs a reason")

// GetApplyLock returns the apply lock (Locked false when none is held).
func (r *Runner) GetApplyLock(ctx context.Context) (ApplyLock, error) {
	var l ApplyLock
	_, err := r.rec.Get(ctx, bucketSettings, applyLockKey, &l)
	return l, err
}

// SetApplyLock stops every apply until ClearApplyLock, with reason shown
// in each refusal; by names who set it ("api", "web UI"). Setting it again
// replaces the reason. It returns the lock as stored.
func (r *Runner) SetApplyLock(ctx context.Context, reason, by string) (ApplyLock, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ApplyLock{}, ErrNoReason
	}
	l := ApplyLock{Locked: true, Reason: reason, By: by, Since: r.now().UTC()}
	if err := r.rec.Put(ctx, bucketSettings, applyLockKey, l); err != nil {
		return ApplyLock{}, err
	}
	r.log.Info("apply lock set", "reason", reason, "by", by)
	return l, nil
}

// ClearApplyLock lifts the apply lock; lifting none is not an error.
func (r *Runner) ClearApplyLock(ctx context.Context) error {
	if err := r.cfg.Store.DeleteRecord(ctx, bucketSettings, applyLockKey); err != nil {
		return err
	}
	r.log.Info("apply lock lifted")
	return nil
}

// applyBlock is why applies are stopped server-wide.
type applyBlock struct {
	// Disabled: the configuration's disable_apply.
	Disabled bool
	// Lock: the apply lock, when held.
	Lock *ApplyLock
}

// applyBlocked returns why every apply is refused now, or nil. A store
// error blocks too: an apply that cannot tell whether it is allowed does
// not run.
func (r *Runner) applyBlocked(ctx context.Context) *applyBlock {
	if r.srv.DisableApply {
		return &applyBlock{Disabled: true}
	}
	l, err := r.GetApplyLock(ctx)
	if err != nil {
		r.log.Error("read apply lock", "err", err)
		return &applyBlock{Lock: &ApplyLock{Locked: true, Reason: r.view.Text(templates.ApplyLockUnreadable{Error: err.Error()})}}
	}
	if l.Locked {
		return &applyBlock{Lock: &l}
	}
	return nil
}

// unmet is the block as an unmet requirement of one project, for the
// outcome of an apply job refused by it.
func (b *applyBlock) unmet() gate.Reason {
	if b.Disabled {
		return gate.Reason{Code: gate.CodeApplyDisabled}
	}
	return gate.Reason{Code: gate.CodeApplyLock, Why: b.Lock.Reason}
}

// blockedOutcome is the outcome of an apply job started while applies are
// stopped server-wide (a merge, a retry or a remediation queued before the
// switch): refused, with the reason; ok false when applies may run.
func (r *Runner) blockedOutcome(ctx context.Context) (Outcome, bool) {
	b := r.applyBlocked(ctx)
	if b == nil {
		return Outcome{}, false
	}
	return Outcome{Status: string(templates.StatusRefused), Unmet: r.gates.RenderReasons([]gate.Reason{b.unmet()})}, true
}

// jobContext is the context a job runs under: ctx, ended after
// job_timeout when one is set. Terraform and a workflow's custom steps
// stop with it (interrupted, then killed); the job then fails with the
// deadline as its error.
func (r *Runner) jobContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.srv.JobTimeout > 0 {
		return context.WithTimeout(ctx, r.srv.JobTimeout)
	}
	return context.WithCancel(ctx)
}
