package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// limited is one scripted answer of the rate-limit test server.
type limited struct {
	status  int
	headers map[string]string
	body    string
}

// scriptServer answers with the scripted responses in order, then 200.
// It records each request's body.
func scriptServer(t *testing.T, script []limited) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var bodies []string
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		i := n
		n++
		mu.Unlock()
		if i < len(script) {
			for k, v := range script[i].headers {
				w.Header().Set(k, v)
			}
			w.WriteHeader(script[i].status)
			fmt.Fprint(w, script[i].body)
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "4999")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &bodies
}

func TestRateLimitTransport(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	reset := strconv.FormatInt(now.Add(30*time.Second).Unix(), 10)
	secondaryBody := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	tests := []struct {
		name       string
		script     []limited
		maxWait    time.Duration
		wantStatus int
		wantWaits  []time.Duration
	}{
		{
			name:       "429 retry-after",
			script:     []limited{{status: 429, headers: map[string]string{"Retry-After": "7"}}},
			maxWait:    time.Hour,
			wantStatus: 200, wantWaits: []time.Duration{7 * time.Second},
		},
		{
			name:       "403 retry-after",
			script:     []limited{{status: 403, headers: map[string]string{"Retry-After": "3"}, body: secondaryBody}},
			maxWait:    time.Hour,
			wantStatus: 200, wantWaits: []time.Duration{3 * time.Second},
		},
		{
			name:       "403 primary until reset",
			script:     []limited{{status: 403, headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}}},
			maxWait:    time.Hour,
			wantStatus: 200, wantWaits: []time.Duration{31 * time.Second},
		},
		{
			name:       "429 primary capped",
			script:     []limited{{status: 429, headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}}},
			maxWait:    10 * time.Second,
			wantStatus: 200, wantWaits: []time.Duration{10 * time.Second},
		},
		{
			name:       "403 secondary without headers backs off",
			script:     []limited{{status: 403, body: secondaryBody}, {status: 403, body: secondaryBody}},
			maxWait:    time.Hour,
			wantStatus: 200, wantWaits: []time.Duration{time.Minute, 2 * time.Minute},
		},
		{
			name:       "403 permission error is not retried",
			script:     []limited{{status: 403, body: `{"message":"Resource not accessible by integration"}`}},
			maxWait:    time.Hour,
			wantStatus: 403,
		},
		{
			name: "gives up",
			script: func() []limited {
				var s []limited
				for range maxRateLimitRetries + 1 {
					s = append(s, limited{status: 429, headers: map[string]string{"Retry-After": "1"}})
				}
				return s
			}(),
			maxWait:    time.Hour,
			wantStatus: 429,
			wantWaits:  []time.Duration{time.Second, time.Second, time.Second, time.Second, time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, bodies := scriptServer(t, tt.script)
			var waits []time.Duration
			rt := &rateLimitTransport{
				next: http.DefaultTransport, now: func() time.Time { return now }, maxWait: tt.maxWait,
				log:   slog.New(slog.DiscardHandler),
				sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
			}
			req, _ := http.NewRequest("POST", srv.URL+"/repos/o/r/issues/1/comments", strings.NewReader(`{"body":"hi"}`))
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if fmt.Sprint(waits) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, tt.wantWaits)
			}
			for i, b := range *bodies {
				if b != `{"body":"hi"}` {
					t.Errorf("request %d body = %q: not replayed", i, b)
				}
			}
		})
	}
}

// TestSpentBudgetWaitsForReset: a successful answer with remaining 0 makes
// the next request wait for the reset instead of failing.
func TestSpentBudgetWaitsForReset(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Minute).Unix(), 10))
		fmt.Fprint(w, "{}")
	}))
	t.Cleanup(srv.Close)
	var waits []time.Duration
	rt := &rateLimitTransport{
		next: http.DefaultTransport, now: func() time.Time { return now }, maxWait: time.Hour,
		log:   slog.New(slog.DiscardHandler),
		sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
	}
	for range 2 {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if fmt.Sprint(waits) != "[1m1s]" {
		t.Errorf("waits = %v, want [1m1s]", waits)
	}
}

// TestClientRateLimited: through go-github and ghinstallation, a 403 and a
// 429 are waited out (capped at MaxRateLimitWait) and the call succeeds;
// go-github does not refuse the next call although it saw remaining 0.
func TestClientRateLimited(t *testing.T) {
	c, f := setup(t)
	var mu sync.Mutex
	calls := 0
	f.handle("POST /repos/octo/infra/issues/5/comments", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), "hello") {
			t.Errorf("call %d body = %q", n, b)
		}
		switch n {
		case 1:
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
			writeJSON(w, 403, map[string]string{"message": "API rate limit exceeded"})
		case 2:
			w.Header().Set("Retry-After", "60")
			writeJSON(w, 429, map[string]string{"message": "You have exceeded a secondary rate limit"})
		default:
			writeJSON(w, 201, map[string]any{"id": 1, "body": "hello"})
		}
	})
	start := time.Now()
	if _, err := c.CreateComment(context.Background(), testRepo, 5, "hello"); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("calls = %d, want 3", calls)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: waits not capped at MaxRateLimitWait", d)
	}
	if _, err := c.CreateComment(context.Background(), testRepo, 5, "hello"); err != nil {
		t.Fatalf("next call refused: %v", err)
	}
}

// TestClientRateLimitGivesUp: a limit that never lifts ends in go-github's
// rate-limit error, not a hang.
func TestClientRateLimitGivesUp(t *testing.T) {
	c, f := setup(t)
	f.handle("GET /repos/octo/infra/pulls/1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		writeJSON(w, 403, map[string]string{"message": "API rate limit exceeded"})
	})
	_, err := c.GetPullRequest(context.Background(), testRepo, 1)
	var rl *gh.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("error = %v, want a *github.RateLimitError", err)
	}
}

// TestGoGitHubDoesNotRefuse: after answers that go-github v60 would book as
// a spent budget (remaining 0 on a success, or a secondary limit handed up
// with Retry-After), the next call still reaches GitHub: go-github's own
// refusal is never in the way of rateLimitTransport's waiting.
func TestGoGitHubDoesNotRefuse(t *testing.T) {
	secondaryBody := map[string]string{
		"message":           "You have exceeded a secondary rate limit.",
		"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
	}
	tests := []struct {
		name string
		// first answers the first request; later ones get a plain 200.
		first   func(w http.ResponseWriter)
		wantErr bool // from the first call
	}{
		{
			name: "success with remaining 0",
			first: func(w http.ResponseWriter) {
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
				writeJSON(w, 200, map[string]any{"number": 1})
			},
		},
		{
			name: "secondary limit handed up",
			first: func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", "3600")
				writeJSON(w, 403, secondaryBody)
			},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := setup(t)
			var mu sync.Mutex
			calls := 0
			limited := true
			f.handle("GET /repos/octo/infra/pulls/1", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				lim := limited
				mu.Unlock()
				if lim {
					tt.first(w)
					return
				}
				writeJSON(w, 200, map[string]any{"number": 1})
			})
			ctx := context.Background()
			_, err := c.GetPullRequest(ctx, testRepo, 1)
			if (err != nil) != tt.wantErr {
				t.Fatalf("first GetPullRequest() error = %v, want error: %v", err, tt.wantErr)
			}
			mu.Lock()
			limited = false
			before := calls
			mu.Unlock()
			if _, err := c.GetPullRequest(ctx, testRepo, 1); err != nil {
				t.Fatalf("next GetPullRequest() = %v: refused", err)
			}
			if calls != before+1 {
				t.Errorf("next call made %d requests, want 1", calls-before)
			}
		})
	}
}
