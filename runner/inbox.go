package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atollhq/atoll/vcs"
)

// drainInbox handles stored deliveries, several at a time, until ctx ends.
// A delivery is finished only after it was handled, so one that a crash
// interrupted is handled again at start-up (handlers are idempotent where
// it matters: an apply happens once per plan).
func (r *Runner) drainInbox(ctx context.Context) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		r.handlePending(ctx)
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-tick.C:
		}
	}
}

func (r *Runner) handlePending(ctx context.Context) {
	pending, err := r.cfg.Store.PendingDeliveries(ctx)
	if err != nil {
		r.log.Error("list pending deliveries", "err", err)
		return
	}
	// inFlight holds the deliveries being handled (true) and those handled
	// since an earlier listing (false): this listing may predate their
	// FinishDelivery, and must not hand them out a second time. Once a
	// listing no longer holds a handled delivery, no later one will.
	listed := make(map[string]bool, len(pending))
	for _, d := range pending {
		listed[d.ID] = true
	}
	r.inFlight.Range(func(id, running any) bool {
		if !running.(bool) && !listed[id.(string)] {
			r.inFlight.Delete(id)
		}
		return true
	})
	for _, d := range pending {
		if _, busy := r.inFlight.LoadOrStore(d.ID, true); busy {
			continue
		}
		select {
		case r.events <- struct{}{}:
		case <-ctx.Done():
			r.inFlight.Delete(d.ID)
			return
		}
		if !r.claimDelivery(ctx, d.ID) { // another replica handles it
			<-r.events
			r.inFlight.Delete(d.ID)
			continue
		}
		r.wg.Add(1)
		go func(id, event string, body []byte) {
			defer r.wg.Done()
			handled := false
			endClaim := r.holdDelivery(id)
			defer func() {
				endClaim(context.WithoutCancel(ctx), handled)
				<-r.events
				if handled {
					r.inFlight.Store(id, false)
				} else {
					r.inFlight.Delete(id)
				}
			}()
			errMsg := ""
			r.log.Debug("handling a delivery", "delivery", id, "event", event)
			if err := r.handleDelivery(ctx, id, event, body); err != nil {
				if ctx.Err() != nil {
					return // shutting down: handle it again next start
				}
				errMsg = err.Error()
				r.log.Error("handle delivery", "delivery", id, "event", event, "err", err)
			}
			if err := r.cfg.Store.FinishDelivery(context.WithoutCancel(ctx), id, errMsg); err != nil {
				r.log.Error("finish delivery", "delivery", id, "err", err)
				return
			}
			handled = true
		}(d.ID, d.Event, d.Body)
	}
}

// handleDelivery parses one delivery and routes it; a panic in a handler
// becomes an error, never a crash.
func (r *Runner) handleDelivery(ctx context.Context, id, event string, body []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic handling %s: %v", event, p)
		}
	}()
	ev, err := r.cfg.ParseEvent(event, id, body)
	if err != nil {
		return fmt.Errorf("parse %s: %w", event, err)
	}
	if ev == nil {
		return nil // an action atoll ignores
	}
	return r.HandleEvent(ctx, ev)
}

// HandleEvent routes one event to its handler. It takes the pointer types
// vcs/github's parser returns; any other event is an error.
func (r *Runner) HandleEvent(ctx context.Context, ev vcs.Event) error {
	switch e := ev.(type) {
	case *vcs.PullRequestEvent:
		return r.pr.OnPullRequest(ctx, e)
	case *vcs.CommentEvent:
		return r.pr.OnComment(ctx, e)
	case *vcs.ReviewEvent:
		return r.pr.OnReview(ctx, e)
	case *vcs.PushEvent:
		r.drift.Sweep.OnPush(e.Repo, e.Ref)
		r.drift.ShareChange(ctx, &e.Repo, e.Ref)
		return nil
	case *vcs.PingEvent:
		return nil
	case *vcs.InstallationEvent:
		r.log.Info("installation changed", "action", e.Action, "installation", e.InstallationID)
		r.drift.Sweep.OnInstallation()
		r.drift.ShareChange(ctx, nil, "")
		return nil
	default:
		return errors.New("unknown event type")
	}
}
