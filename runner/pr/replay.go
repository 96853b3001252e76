package pr

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// bucketCommands holds one claim per comment that carried a command:
// commandKey -> commandClaim. A command runs once per comment id, whatever
// the delivery that brought it: a signed webhook body can be sent again
// under any X-GitHub-Delivery (the signature covers the body only).
const bucketCommands = "commands"

// DefaultInboxRetention is how long deliveries and command claims are
// kept when the server configuration's inbox_retention is zero.
const DefaultInboxRetention = 14 * 24 * time.Hour

// commandClaim records the first delivery that brought a comment's
// command.
type commandClaim struct {
	Delivery string    `json:"delivery"`
	Created  time.Time `json:"created"` // the comment's creation (GitHub's clock)
	Claimed  time.Time `json:"claimed"` // when atoll first handled it
}

func commandKey(repo string, commentID int64) string {
	return repo + "#" + strconv.FormatInt(commentID, 10)
}

// commandVerdict says whether a comment's command may run.
type commandVerdict int

const (
	commandRun       commandVerdict = iota
	commandReplayed                 // claimed by another delivery before
	commandTooOld                   // older than the retention: its claim may be pruned
	commandNoComment                // no comment id: nothing to deduplicate on
)

// claimCommand decides, in one store transaction, whether the command of
// comment c (in repo, brought by delivery) runs: the first delivery of a
// comment claims it; the same delivery again (a redelivery, or handling
// cut short by a restart) runs again, as every delivery does; any other
// delivery of that comment is a replay and does not run. A comment older
// than retention never runs: its claim may have been pruned, so a replay
// could not be recognized.
func claimCommand(ctx context.Context, s records.Store, now time.Time, retention time.Duration, repo string, c vcs.Comment, delivery string) (commandVerdict, commandClaim, error) {
	if c.ID == 0 {
		return commandNoComment, commandClaim{}, nil
	}
	if !c.CreatedAt.IsZero() && c.CreatedAt.Before(now.Add(-retention)) {
		return commandTooOld, commandClaim{}, nil
	}
	verdict := commandRun
	var prev commandClaim
	err := s.UpdateRecord(ctx, bucketCommands, commandKey(repo, c.ID), func(old []byte, exists bool) ([]byte, error) {
		if exists {
			if err := json.Unmarshal(old, &prev); err != nil {
				return nil, fmt.Errorf("decode command claim: %w", err)
			}
			if prev.Delivery != delivery {
				verdict = commandReplayed
			}
			return nil, records.ErrAbort
		}
		return json.Marshal(commandClaim{Delivery: delivery, Created: c.CreatedAt, Claimed: now})
	})
	if err != nil && err != records.ErrAbort {
		return commandRun, prev, fmt.Errorf("claim command of comment %d: %w", c.ID, err)
	}
	return verdict, prev, nil
}

// InboxPruner is what pruning the inbox needs of the store.
type InboxPruner interface {
	PruneDeliveries(ctx context.Context, olderThan time.Time) (int, error)
	ListRecords(ctx context.Context, bucket, prefix string) ([]locks.Record, error)
	DeleteRecord(ctx context.Context, bucket, key string) error
}

// pruneInbox removes the deliveries finished before now minus retention
// (failed ones, kept with their bodies until then, included) and the
// command claims of comments older than that. It returns how many of each
// it removed.
func pruneInbox(ctx context.Context, s InboxPruner, now time.Time, retention time.Duration) (deliveries, claims int, err error) {
	cutoff := now.Add(-retention)
	if deliveries, err = s.PruneDeliveries(ctx, cutoff); err != nil {
		return 0, 0, fmt.Errorf("prune deliveries: %w", err)
	}
	recs, err := s.ListRecords(ctx, bucketCommands, "")
	if err != nil {
		return deliveries, 0, fmt.Errorf("list command claims: %w", err)
	}
	for _, rec := range recs {
		var c commandClaim
		if json.Unmarshal(rec.Value, &c) != nil {
			continue
		}
		// A claim is dropped only once its comment is too old to run
		// (claimCommand refuses it), so no replay can run after pruning.
		at := c.Created
		if at.IsZero() {
			at = c.Claimed
		}
		if at.Before(cutoff) {
			if err := s.DeleteRecord(ctx, bucketCommands, rec.Key); err != nil {
				return deliveries, claims, fmt.Errorf("delete command claim: %w", err)
			}
			claims++
		}
	}
	return deliveries, claims, nil
}

// PruneLoop prunes the inbox of s at start-up and then every hour, until
// ctx ends: the deliveries finished and the command claims of comments
// older than the inbox retention.
func (l *Life) PruneLoop(ctx context.Context, s InboxPruner) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if d, c, err := pruneInbox(ctx, s, l.d.Now(), l.d.Settings.InboxRetention); err != nil {
			l.d.Log.Error("prune the inbox", "err", err)
		} else if d+c > 0 {
			l.d.Log.Info("pruned the inbox", "deliveries", d, "command_claims", c, "retention", l.d.Settings.InboxRetention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// commandOnce reports whether the command of e's comment runs (see
// claimCommand); a replay or a too old comment is logged and dropped.
func (l *Life) commandOnce(ctx context.Context, repo vcs.Repo, e *vcs.CommentEvent) (bool, error) {
	verdict, prev, err := claimCommand(ctx, l.d.Records.Store(), l.d.Now(), l.d.Settings.InboxRetention, repo.FullName(), e.Comment, e.DeliveryID())
	if err != nil {
		return false, err
	}
	switch verdict {
	case commandReplayed:
		l.d.Log.Warn("comment already handled under another delivery; replay ignored", "repo", repo.FullName(),
			"comment", e.Comment.ID, "delivery", e.DeliveryID(), "first_delivery", prev.Delivery)
		return false, nil
	case commandTooOld:
		l.d.Log.Warn("comment older than the inbox retention; not run", "repo", repo.FullName(),
			"comment", e.Comment.ID, "created", e.Comment.CreatedAt, "retention", l.d.Settings.InboxRetention)
		return false, nil
	}
	return true, nil
}
