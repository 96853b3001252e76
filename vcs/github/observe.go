package github

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// RequestObserver is told about every HTTP answer from GitHub (each
// attempt, retries included): its status (0: no answer) and the
// X-RateLimit-Remaining it carried (-1: none). server/metrics.Metrics
// implements it.
type RequestObserver interface {
	ObserveGitHubRequest(status, remaining int)
}

// observingTransport is the Client's bottom transport: it reports answers
// to the observer and remembers when GitHub last answered, for readiness.
type observingTransport struct {
	next http.RoundTripper
	obs  RequestObserver
	now  func() time.Time
	last *atomic.Int64 // unix nanoseconds of the last answer below 500
}

func (t *observingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		if t.obs != nil {
			t.obs.ObserveGitHubRequest(0, -1)
		}
		return nil, err
	}
	if resp.StatusCode < 500 {
		t.last.Store(t.now().UnixNano())
	}
	if t.obs != nil {
		remaining := -1
		if v, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining")); err == nil {
			remaining = v
		}
		t.obs.ObserveGitHubRequest(resp.StatusCode, remaining)
	}
	return resp, nil
}

// LastAnswer is when GitHub last answered a request without a server
// error; zero when it never has.
func (c *Client) LastAnswer() time.Time {
	n := c.lastAnswer.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Ping asks GitHub for the App (GET /app with the App JWT): the cheapest
// call that proves GitHub answers and accepts atoll's credentials. It
// updates LastAnswer.
func (c *Client) Ping(ctx context.Context) error {
	_, _, err := c.appAPI().Apps.Get(ctx, "")
	return wrapErr("ping", err)
}
