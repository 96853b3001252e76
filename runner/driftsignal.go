package runner

import (
	"context"
	"encoding/json"
	"time"

	"github.com/atollhq/atoll/vcs"
)

// Drift schedule changes across replicas. The drift scheduler runs on the
// leader alone, but an installation change, or a push that may change a
// repository's atoll.yaml, is handled by whichever replica its webhook
// reached. On a shared store that replica records the change under
// signalDrift, and the leader reads the record every Poll and marks what
// its scheduler caches stale, as the webhook does when it reaches the
// leader itself. Without it, a repository added while another replica
// handled the webhook would wait for the scheduler's next listing
// (drift.ReposTTL) before its first scheduled check.

// signalDrift is the key of the drift signal in bucketSignals.
const signalDrift = "drift"

// driftSignal counts the changes the drift scheduler must see: Seq moves
// with each; List and Repos say which change came last with which Seq.
type driftSignal struct {
	Seq   uint64            `json:"seq"`
	List  uint64            `json:"list,omitempty"`  // the last installation change
	Repos map[string]uint64 `json:"repos,omitempty"` // repo -> its last default-branch push
}

// shareDriftChange records, on a shared store, a change the leader's
// drift scheduler must see (followDriftSignal): an installation change
// when repo is nil, else a push of ref to *repo. A push that cannot
// change a drift schedule is not recorded.
func (r *Runner) shareDriftChange(ctx context.Context, repo *vcs.Repo, ref string) {
	if !r.shared() || !r.drift.sweep.Enabled() {
		return
	}
	name := ""
	if repo != nil {
		if !r.srv.Drift.RepoOverride || (repo.DefaultBranch != "" && ref != "refs/heads/"+repo.DefaultBranch) {
			return
		}
		name = repo.FullName()
	}
	err := r.cfg.Store.UpdateRecord(ctx, bucketSignals, signalDrift, func(old []byte, _ bool) ([]byte, error) {
		var s driftSignal
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
		r.log.Warn("drift: share a schedule change with the leader", "repo", name, "err", err)
	}
}

// followDriftSignal is the leader's side of shareDriftChange: every Poll
// it reads the drift signal and, when it moved, marks the repository list
// or the pushed repositories stale and wakes the scheduler. It runs while
// this replica leads.
func (d *driftScheduler) followDriftSignal(ctx context.Context) {
	t := time.NewTicker(d.r.cfg.Cluster.Poll)
	defer t.Stop()
	var seen uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		raw, ok, err := d.r.cfg.Store.GetRecord(ctx, bucketSignals, signalDrift)
		if err != nil || !ok {
			continue
		}
		var s driftSignal
		if json.Unmarshal(raw, &s) != nil || s.Seq == seen {
			continue
		}
		var pushed []string
		for name, seq := range s.Repos {
			if seq > seen {
				pushed = append(pushed, name)
			}
		}
		d.sweep.Stale(s.List > seen, pushed...)
		seen = s.Seq
	}
}
