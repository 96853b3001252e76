package execute

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Clock times the steps of one job for operators: each Mark logs, at
// debug level, the step that just ended, how long it took and how long
// the job has run, so that a slow job's log says where its time went.
// A nil *Clock marks nothing.
type Clock struct {
	log   *slog.Logger
	attrs []any
	mu    sync.Mutex
	start time.Time
	last  time.Time
}

// NewClock starts a clock at start (when the job was claimed) that logs
// to log with attrs (the job's id and kind) on every line.
func NewClock(log *slog.Logger, start time.Time, attrs ...any) *Clock {
	return &Clock{log: log, attrs: attrs, start: start, last: start}
}

// Mark logs that step ended now: "job step" with step, took (since the
// previous mark) and at (since the clock started).
func (c *Clock) Mark(step string) {
	if c == nil || !c.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	c.mu.Lock()
	now := time.Now()
	took, at := now.Sub(c.last), now.Sub(c.start)
	c.last = now
	c.mu.Unlock()
	c.log.Debug("job step", append([]any{"step", step, "took", took.Round(10 * time.Microsecond), "at", at.Round(10 * time.Microsecond)}, c.attrs...)...)
}

type clockKey struct{}

// WithClock is ctx carrying c, for Mark.
func WithClock(ctx context.Context, c *Clock) context.Context {
	return context.WithValue(ctx, clockKey{}, c)
}

// Mark marks step on ctx's clock, if it carries one.
func Mark(ctx context.Context, step string) {
	c, _ := ctx.Value(clockKey{}).(*Clock)
	c.Mark(step)
}
