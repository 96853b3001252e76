package drift

import (
	"context"
	"encoding/json"
	"time"

	"github.com/atollhq/atoll/vcs"
)

// Drift schedule changes across replicas. The scheduler's Loop runs on
// the leader alone, but an installation change, or a push that may change
// a repository's atoll.yaml, is handled by whichever replica its webhook
// reached. On a shared store that replica records the change as the drift
// signal (ShareChange), and the leader reads the signal every Poll
// (FollowSignal) and marks what its sweep caches stale, as the webhook
// does when it reaches the leader itself. Without it, a repository added
// while another replica handled the webhook would wait for the sweep's
// next listing (ReposTTL) before its first scheduled check.

// SignalBucket and SignalKey are where the drift signal is stored: the
// runner's bucket of cross-replica signals, under its own key.
const (
	SignalBucket = "signals"
	SignalKey    = "drift"
)

// signal counts the changes the scheduler must see: Seq moves with each;
// List and Repos say which change came last with which Seq.
type signal struct {
	Seq   uint64            `json:"seq"`
	List  uint64            `json:"list,omitempty"`  // the last installation change
	Repos map[string]uint64 `json:"repos,omitempty"` // repo -> its last default-branch push
}

// ShareChange records, on a shared store, a change the leader's scheduler
// must see (FollowSignal): an installation change when repo is nil, else
// a push of ref to *repo. A push that cannot change a drift schedule is
// not recorded; on a store of its own nothing is.
func (d *Scheduler) ShareChange(ctx context.Context, repo *vcs.Repo, ref string) {
	if !d.cfg.Shared || !d.Sweep.Enabled() {
		return
	}
	name := ""
	if repo != nil {
		if !d.cfg.Drift.RepoOverride || (repo.DefaultBranch != "" && ref != "refs/heads/"+repo.DefaultBranch) {
			return
		}
		name = repo.FullName()
	}
	err := d.rec.Store().UpdateRecord(ctx, SignalBucket, SignalKey, func(old []byte, _ bool) ([]byte, error) {
		var s signal
		_ = json.Unmarshal(old, &s) // a damaged signal starts again from zero
		s.Seq++
		if name == "" {
			s.List = s.Seq
		} else {
			if s.Repos == nil {
				s.Repos = map[string]uint64{}
			}
			s.Repos[name] = s.Seq
		}
		return json.Marshal(s)
	})
	if err != nil {
		d.cfg.Log.Warn("drift: share a schedule change with the leader", "repo", name, "err", err)
	}
}

// FollowSignal is the leader's side of ShareChange: every Poll it reads
// the drift signal and, when it moved, marks the repository list or the
// pushed repositories stale and wakes the loop. It runs until ctx ends
// (while this replica leads).
func (d *Scheduler) FollowSignal(ctx context.Context) {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	var seen uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		raw, ok, err := d.rec.Store().GetRecord(ctx, SignalBucket, SignalKey)
		if err != nil || !ok {
			continue
		}
		var s signal
		if json.Unmarshal(raw, &s) != nil || s.Seq == seen {
			continue
		}
		var pushed []string
		for name, seq := range s.Repos {
			if seq > seen {
				pushed = append(pushed, name)
			}
		}
		d.Sweep.Stale(s.List > seen, pushed...)
		seen = s.Seq
	}
}
