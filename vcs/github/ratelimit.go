package github

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxRateLimitRetries is how many times one request waits for a rate limit
// before the rate-limited answer is handed up as an error.
const maxRateLimitRetries = 5

// secondaryBackoff is the first wait for a secondary rate limit that names
// no Retry-After; it doubles on each retry (GitHub: "wait at least a
// minute and back off exponentially").
const secondaryBackoff = time.Minute

// rateLimitTransport sits under go-github (one per credential: the App JWT
// and each installation) and honours GitHub's rate limits:
//
//   - a 403 or 429 with Retry-After (secondary limit): wait that long;
//   - a 403 or 429 with X-RateLimit-Remaining 0: wait until X-RateLimit-Reset;
//   - a 429, or a 403 whose body names a secondary rate limit, with neither
//     header: wait a minute, doubling on each retry;
//   - any answer with X-RateLimit-Remaining 0: the next request waits until
//     the reset first, so go-github never sees a spent budget.
//
// A rate-limited answer is replayed after the wait (the request body comes
// from GetBody), up to maxRateLimitRetries times; only then, or when the
// body cannot be replayed, is it handed up. One wait is capped at maxWait.
type rateLimitTransport struct {
	next    http.RoundTripper
	now     func() time.Time
	maxWait time.Duration
	log     *slog.Logger
	// sleep waits for d or until ctx ends; nil means a real timer.
	sleep func(ctx context.Context, d time.Duration) error

	mu         sync.Mutex
	pauseUntil time.Time
}

// RoundTrip implements http.RoundTripper.
func (t *rateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 0; ; attempt++ {
		if err := t.waitPause(ctx, req); err != nil {
			closeBody(req)
			return nil, err
		}
		r := req
		if attempt > 0 {
			var err error
			if r, err = cloneRequest(req); err != nil {
				return nil, err
			}
		}
		resp, err := t.next.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		wait, limited := t.classify(resp, attempt)
		if !limited {
			t.notePrimary(resp)
			return resp, nil
		}
		if attempt >= maxRateLimitRetries || !replayable {
			t.log.Warn("rate limited; giving up", "status", resp.StatusCode, "method", req.Method, "path", req.URL.Path, "attempts", attempt+1)
			t.notePrimary(resp)
			return resp, nil
		}
		wait = min(wait, t.maxWait)
		t.log.Warn("rate limited; waiting", "status", resp.StatusCode, "method", req.Method, "path", req.URL.Path, "wait", wait.String(), "attempt", attempt+1)
		drain(resp)
		if err := t.doSleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// classify reports whether resp is rate-limited and how long to wait.
func (t *rateLimitTransport) classify(resp *http.Response, attempt int) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.now()); ok {
		return max(d, time.Second), true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, ok := parseReset(resp.Header.Get("X-RateLimit-Reset")); ok {
			return max(reset.Sub(t.now())+time.Second, time.Second), true
		}
	}
	if resp.StatusCode == http.StatusForbidden && !mentionsSecondaryLimit(resp) {
		return 0, false // a plain permission error
	}
	return secondaryBackoff << min(attempt, 10), true
}

// notePrimary remembers a spent primary budget so the next request waits
// for the reset instead of failing.
func (t *rateLimitTransport) notePrimary(resp *http.Response) {
	if resp.Header.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	reset, ok := parseReset(resp.Header.Get("X-RateLimit-Reset"))
	if !ok || !reset.After(t.now()) {
		return
	}
	t.mu.Lock()
	t.pauseUntil = reset
	t.mu.Unlock()
}

// waitPause waits until a spent budget resets (capped at maxWait).
func (t *rateLimitTransport) waitPause(ctx context.Context, req *http.Request) error {
	t.mu.Lock()
	until := t.pauseUntil
	t.mu.Unlock()
	d := until.Sub(t.now())
	if d <= 0 {
		return nil
	}
	d = min(d+time.Second, t.maxWait)
	t.log.Warn("rate limit budget spent; waiting for reset", "method", req.Method, "path", req.URL.Path, "wait", d.String())
	if err := t.doSleep(ctx, d); err != nil {
		return err
	}
	t.mu.Lock()
	if t.pauseUntil.Equal(until) {
		t.pauseUntil = time.Time{}
	}
	t.mu.Unlock()
	return nil
}

func (t *rateLimitTransport) doSleep(ctx context.Context, d time.Duration) error {
	if t.sleep != nil {
		return t.sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// parseRetryAfter reads Retry-After: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return at.Sub(now), true
	}
	return 0, false
}

// parseReset reads X-RateLimit-Reset (epoch seconds).
func parseReset(v string) (time.Time, bool) {
	s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}, false
	}
	return time.Unix(s, 0), true
}

// mentionsSecondaryLimit peeks at a 403 body for GitHub's secondary rate
// limit message, and puts the body back.
func mentionsSecondaryLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), rest}
	if err != nil {
		return false
	}
	s := strings.ToLower(string(b))
	return strings.Contains(s, "secondary rate limit") || strings.Contains(s, "abuse")
}

// cloneRequest copies req for a replay, with a fresh body from GetBody.
func cloneRequest(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("request body cannot be replayed")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r.Body = body
	return r, nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
