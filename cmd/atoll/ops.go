package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/server"
	"github.com/atollhq/atoll/server/metrics"
)

// newLogger is the server's logger: text or JSON lines (log_format) at
// log_level, with the request id of the request a line is logged under,
// every line passed through wrap (the masker) before it is written.
func newLogger(cfg config.Server, w io.Writer, wrap func(slog.Handler) slog.Handler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(server.ContextLogHandler{Handler: wrap(h)})
}

// runnerState feeds the runner's counts to the metrics at each scrape.
func runnerState(r *runner.Runner) metrics.StateFunc {
	return func(ctx context.Context) (metrics.State, error) {
		g, err := r.Gauges(ctx)
		return metrics.State{Queued: g.Queued, Running: g.Running, Locks: g.Locks, Drift: g.Drift}, err
	}
}

// gitHubProbe asks GitHub for the App every interval so that readiness
// knows whether GitHub answers even when nothing else calls it.
type gitHubProbe struct {
	ping     func(ctx context.Context) error
	last     func() time.Time // when GitHub last answered anything
	window   time.Duration
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	lastErr error
}

func newGitHubProbe(ping func(context.Context) error, last func() time.Time, window time.Duration, log *slog.Logger) *gitHubProbe {
	return &gitHubProbe{ping: ping, last: last, window: window, interval: min(30*time.Second, window/4), log: log}
}

// run probes until ctx ends.
func (p *gitHubProbe) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, max(p.interval, time.Second))
		err := p.ping(pctx)
		cancel()
		p.mu.Lock()
		p.lastErr = err
		p.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			p.log.Debug("GitHub probe failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// problem says why GitHub is not ready, or "".
func (p *gitHubProbe) problem() string {
	last := p.last()
	if !last.IsZero() && time.Since(last) <= p.window {
		return ""
	}
	p.mu.Lock()
	err := p.lastErr
	p.mu.Unlock()
	msg := "GitHub has not answered within ready_github_window (" + p.window.String() + ")"
	if err != nil {
		msg += ": " + err.Error()
	}
	return msg
}
