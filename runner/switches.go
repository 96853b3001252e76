package runner

import (
	"context"

	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/switches"
	"github.com/atollhq/atoll/templates"
)

// The server-wide apply switches are runner/switches'; the engine serves
// the apply lock to the API and refuses the jobs a switch stops.

// ApplyLock is the server-wide apply lock (switches.ApplyLock).
type ApplyLock = switches.ApplyLock

// ErrNoReason is returned by SetApplyLock without a reason.
var ErrNoReason = switches.ErrNoReason

// GetApplyLock returns the apply lock (Locked false when none is held).
func (r *Runner) GetApplyLock(ctx context.Context) (ApplyLock, error) { return r.switches.Lock(ctx) }

// SetApplyLock stops every apply until ClearApplyLock, with reason shown
// in each refusal; by names who set it ("api", "web UI"). Setting it again
// replaces the reason. It returns the lock as stored.
func (r *Runner) SetApplyLock(ctx context.Context, reason, by string) (ApplyLock, error) {
	return r.switches.SetLock(ctx, reason, by)
}

// ClearApplyLock lifts the apply lock; lifting none is not an error.
func (r *Runner) ClearApplyLock(ctx context.Context) error { return r.switches.ClearLock(ctx) }

// blockedOutcome is the outcome of an apply job started while applies are
// stopped server-wide (a merge, a retry or a remediation queued before the
// switch): refused, with the reason; ok false when applies may run.
func (r *Runner) blockedOutcome(ctx context.Context) (Outcome, bool) {
	b := r.switches.Blocked(ctx)
	if b == nil {
		return Outcome{}, false
	}
	return Outcome{Status: string(templates.StatusRefused), Unmet: r.gates.RenderReasons([]gate.Reason{b.Unmet()})}, true
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
