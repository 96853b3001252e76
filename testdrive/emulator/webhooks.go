package emulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// hookID is the id of the App's one webhook (X-GitHub-Hook-ID).
const hookID = 422994870

// deliveryTimeout is how long GitHub waits for a 2xx.
const deliveryTimeout = 10 * time.Second

// delivery is one webhook sent (or tried). GitHub does not retry a failed
// delivery by itself; Redeliver sends it again with the same id.
type delivery struct {
	id         string
	event      string
	action     string
	queue      string
	body       []byte
	statusCode int
	attempts   int
	err        string
	at         time.Time
}

// webhookQueue delivers webhooks asynchronously, in order per repository.
type webhookQueue struct {
	s       *Server
	client  *http.Client
	mu      sync.Mutex
	all     []*delivery
	byID    map[string]*delivery
	pending map[string][]*delivery
	running map[string]bool
	wg      sync.WaitGroup
	closed  bool
	paused  bool // deliveries wait in pending until resume
	each    int  // deliveries of every webhook (Config.RedeliverEach)
}

func (q *webhookQueue) setEach(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.each = max(n, 1)
}

func (q *webhookQueue) init(s *Server) {
	q.s = s
	q.client = &http.Client{Timeout: deliveryTimeout}
	q.byID = map[string]*delivery{}
	q.each = max(s.cfg.RedeliverEach, 1)
	q.pending = map[string][]*delivery{}
	q.running = map[string]bool{}
}

// send queues a webhook. queue names the ordering domain (a repository's
// full name, or an organization). Payload is marshalled at once, so the
// caller may hold s.mu.
func (q *webhookQueue) send(queue, event string, payload obj) {
	body, err := json.Marshal(payload)
	if err != nil {
		q.s.log.Error("emulator: marshal webhook", "event", event, "err", err)
		return
	}
	action, _ := payload["action"].(string)
	q.mu.Lock()
	defer q.mu.Unlock()
	for range q.each {
		d := &delivery{id: newGUID(), event: event, action: action, queue: queue, body: body}
		q.all = append(q.all, d)
		q.byID[d.id] = d
		if q.closed {
			d.err = "emulator closed"
			continue
		}
		q.enqueueLocked(d)
	}
}

// enqueueLocked queues d for delivery and starts its queue's worker
// unless deliveries are paused. Callers hold q.mu.
func (q *webhookQueue) enqueueLocked(d *delivery) {
	q.pending[d.queue] = append(q.pending[d.queue], d)
	q.startLocked(d.queue)
}

func (q *webhookQueue) startLocked(queue string) {
	if !q.paused && !q.running[queue] && len(q.pending[queue]) > 0 {
		q.running[queue] = true
		q.wg.Add(1)
		go q.work(queue)
	}
}

// pause holds every later delivery (and the rest of each queue) until
// resume; a delivery being sent finishes.
func (q *webhookQueue) pause() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.paused = true
}

// resume sends what pause held, in order per queue.
func (q *webhookQueue) resume() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.paused = false
	for queue := range q.pending {
		q.startLocked(queue)
	}
}

// replay sends a recorded delivery's signed body again as a new delivery
// with a new X-GitHub-Delivery, as anyone who captured the request can:
// the signature covers the body, not the delivery id. It is queued like
// any webhook and returned.
func (q *webhookQueue) replay(id string) (*delivery, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	old, ok := q.byID[id]
	if !ok || q.closed {
		return nil, false
	}
	d := &delivery{id: newGUID(), event: old.event, action: old.action, queue: old.queue, body: old.body}
	q.all = append(q.all, d)
	q.byID[d.id] = d
	q.enqueueLocked(d)
	return d, true
}

func (q *webhookQueue) work(queue string) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		list := q.pending[queue]
		if len(list) == 0 || q.paused {
			if len(list) == 0 {
				delete(q.pending, queue)
			}
			q.running[queue] = false
			q.mu.Unlock()
			return
		}
		d := list[0]
		q.pending[queue] = list[1:]
		q.mu.Unlock()
		q.deliver(context.Background(), d)
	}
}

// deliver posts one delivery to the webhook URL and records the outcome.
func (q *webhookQueue) deliver(ctx context.Context, d *delivery) {
	q.s.mu.Lock()
	target := q.s.nextWebhookURL()
	q.s.mu.Unlock()
	status, err := q.post(ctx, target, d)
	q.mu.Lock()
	defer q.mu.Unlock()
	d.attempts++
	d.statusCode = status
	d.at = q.s.now()
	d.err = ""
	if err != nil {
		d.err = err.Error()
	} else if status < 200 || status > 299 {
		d.err = "Invalid HTTP Response: " + strconv.Itoa(status)
	}
}

func (q *webhookQueue) post(ctx context.Context, target string, d *delivery) (int, error) {
	if target == "" {
		return 0, fmt.Errorf("no webhook URL configured")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(d.body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	mac := hmac.New(sha256.New, []byte(q.s.ident().secret))
	mac.Write(d.body)
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/testdrive")
	h.Set("X-GitHub-Event", d.event)
	h.Set("X-GitHub-Delivery", d.id)
	h.Set("X-GitHub-Hook-ID", strconv.Itoa(hookID))
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(q.s.ident().id, 10))
	h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := q.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("deliver %s: %w", d.event, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// redeliver sends a recorded delivery again, synchronously, with the same
// X-GitHub-Delivery.
func (q *webhookQueue) redeliver(ctx context.Context, id string) (*delivery, bool) {
	q.mu.Lock()
	d, ok := q.byID[id]
	q.mu.Unlock()
	if !ok {
		return nil, false
	}
	q.deliver(ctx, d)
	return d, true
}

// flush waits until every queued delivery has been tried.
func (q *webhookQueue) flush(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		q.mu.Lock()
		busy := len(q.pending) > 0 && !q.paused
		for _, r := range q.running {
			busy = busy || r
		}
		q.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for deliveries: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (q *webhookQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wg.Wait()
}

// DeliveryInfo is one webhook delivery as the control API lists it.
type DeliveryInfo struct {
	ID         string `json:"id"`
	Event      string `json:"event"`
	Action     string `json:"action"`
	StatusCode int    `json:"status_code"`
	Attempts   int    `json:"attempts"`
	Error      string `json:"error,omitempty"`
	// Payload is the body sent, for tests that look inside.
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (q *webhookQueue) list(withPayload bool) []DeliveryInfo {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]DeliveryInfo, 0, len(q.all))
	for _, d := range q.all {
		out = append(out, d.info(withPayload))
	}
	return out
}

func (d *delivery) info(withPayload bool) DeliveryInfo {
	i := DeliveryInfo{ID: d.id, Event: d.event, Action: d.action, StatusCode: d.statusCode, Attempts: d.attempts, Error: d.err}
	if withPayload {
		i.Payload = d.body
	}
	return i
}
