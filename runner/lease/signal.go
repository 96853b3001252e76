package lease

import (
	"context"
	"strconv"
	"time"

	"github.com/atollhq/atoll/runner/records"
)

// The queue signal (shared stores only). A job queued on one replica
// must reach the workers of the others: the replica that queued it bumps
// a counter in the store (SignalQueued, written by SignalLoop), and every
// replica reads the counter every Poll and, when it moved, lists the
// queued jobs (PollQueued). Whichever worker claims a job runs it; the
// signal only saves the others from listing every job every poll.

// SignalBucket holds the queue signal under SignalQueuedKey: a counter
// every replica bumps when it queues a job. (runner/drift keeps its own
// signal in the same bucket under another key.)
const (
	SignalBucket    = "signals"
	SignalQueuedKey = "queued"
)

// SignalQueued asks SignalLoop to bump the queue signal, for the other
// replicas' next poll. It never blocks, and bumps coalesce. Without a
// shared store it does nothing.
func (ls *Leases) SignalQueued() {
	if !ls.c.Shared {
		return
	}
	select {
	case ls.signal <- struct{}{}:
	default:
	}
}

// SignalLoop writes the queue signal whenever SignalQueued was called,
// until ctx ends.
func (ls *Leases) SignalLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ls.signal:
		}
		err := ls.store.UpdateRecord(ctx, SignalBucket, SignalQueuedKey, func(old []byte, _ bool) ([]byte, error) {
			n, _ := strconv.ParseUint(string(old), 10, 64)
			return []byte(strconv.FormatUint(n+1, 10)), nil
		})
		if err != nil && ctx.Err() == nil {
			ls.log.Warn("signal a queued job", "err", err)
		}
	}
}

// PollQueued hands hand the jobs other replicas queued, until ctx ends:
// every Poll it reads the queue signal, and when it moved (or every
// thirty polls in any case) it lists the queued jobs. A job is handed
// over at most once per lease; the claim decides which worker runs it.
// hand must not block.
func (ls *Leases) PollQueued(ctx context.Context, hand func(jobID string)) {
	t := time.NewTicker(ls.c.Poll)
	defer t.Stop()
	last, handed := "", map[string]time.Time{}
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sig, _, err := ls.store.GetRecord(ctx, SignalBucket, SignalQueuedKey)
		if err != nil || (string(sig) == last && i%30 != 0) {
			continue
		}
		last = string(sig)
		jobs, err := records.List[records.Job](ctx, ls.rec, records.Jobs, "")
		if err != nil {
			continue
		}
		now := ls.now()
		for id, at := range handed {
			if now.Sub(at) > ls.c.JobLease {
				delete(handed, id)
			}
		}
		for _, j := range jobs {
			if _, ok := handed[j.ID]; ok || j.State != records.JobQueued {
				continue
			}
			handed[j.ID] = now
			hand(j.ID)
		}
	}
}
