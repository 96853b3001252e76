package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollhq/atoll/vcs/github"
)

// p1: signed deliveries at a fixed rate to the real server's /events.
func (b *bench) p1(ctx context.Context) (Row, error) {
	s, done, err := b.stack(ctx, "p1", nil)
	if err != nil {
		return Row{}, err
	}
	defer done()
	lat, failed, elapsed := fire(ctx, s, "p1", b.o.P1Rate, b.o.P1Duration)
	total := len(lat)
	// Stored: the server logs each delivery it wrote to its inbox.
	time.Sleep(200 * time.Millisecond)
	stored := strings.Count(s.a.logText(), `msg="webhook stored" event=issue_comment`)
	lost := total - stored
	res := fmt.Sprintf("p50 %s, p99 %s, max %s; %d sent in %s, %d stored, %d lost, %d refused",
		dur(percentile(lat, 50)), dur(percentile(lat, 99)), dur(percentile(lat, 100)), total, elapsed.Round(time.Millisecond), stored, lost, failed)
	return Row{Result: res}, nil
}

// fire sends rate signed deliveries a second for d to s's /events, each
// a goroutine of its own at its time, and returns each one's
// acknowledgement latency, how many were refused (or failed) and how long
// sending them all took. name keeps the delivery ids of runs apart.
func fire(ctx context.Context, s *stack, name string, rate int, d time.Duration) (lat []time.Duration, refused int, elapsed time.Duration) {
	total := int(float64(rate) * d.Seconds())
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	lat = make([]time.Duration, total)
	var failed atomic.Int64
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := issueComment(i)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.a.url+"/events", bytes.NewReader(body))
			req.Header.Set("X-GitHub-Event", "issue_comment")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%s-%08d", name, i))
			req.Header.Set("X-Hub-Signature-256", github.Sign([]byte(s.gh.secret), body))
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := client.Do(req)
			lat[i] = time.Since(t0)
			if err != nil {
				failed.Add(1)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				failed.Add(1)
			}
		}(i)
	}
	wg.Wait()
	return lat, int(failed.Load()), time.Since(start)
}

// issueComment is a signed-webhook body the server stores: a comment on
// an issue that is not a pull request (the runner then ignores it).
func issueComment(i int) []byte {
	body, _ := json.Marshal(map[string]any{
		"action": "created",
		"issue":  map[string]any{"number": 1, "title": "bench", "state": "open", "user": map[string]any{"login": "alice", "id": 2}},
		"comment": map[string]any{"id": 1000 + i, "body": fmt.Sprintf("a comment, %d", i),
			"user": map[string]any{"login": "alice", "id": 2, "type": "User"}},
		"repository":   map[string]any{"id": 7, "name": "bench", "full_name": "acme/bench", "owner": map[string]any{"login": "acme", "id": 3}},
		"sender":       map[string]any{"login": "alice", "id": 2, "type": "User"},
		"installation": map[string]any{"id": 99},
	})
	return body
}
