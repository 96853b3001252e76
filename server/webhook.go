package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/atollhq/atoll/vcs/github"
	"golang.org/x/sync/semaphore"
)

// DefaultMaxWebhookBody is GitHub's payload cap (25 MiB): larger payloads
// are never delivered, so a larger body is not GitHub's.
const DefaultMaxWebhookBody = 25 << 20

// DefaultMaxConcurrentWebhooks caps the webhook bodies read and stored at
// once, so that a flood of slow senders cannot take every connection. It
// is high: a delivery is held while it is written durably, and when disk
// syncs slow down under a burst, hundreds may wait for their commit; a
// lower cap refused them (GitHub then shows them failed).
const DefaultMaxConcurrentWebhooks = 1024

// DefaultMaxWebhookBytes caps the bytes of the bodies in flight (each
// counted at its Content-Length, or at the body cap when it declares
// none): the memory deliveries may hold at once.
const DefaultMaxWebhookBytes = 256 << 20

// maxDeliveryID bounds X-GitHub-Delivery (GitHub sends a 36-character
// GUID), so that an id the inbox cannot store is a 400, not a 500 that
// every redelivery repeats.
const maxDeliveryID = 256

// Inbox durably stores webhook deliveries. AddDelivery returns
// duplicate=true, storing nothing, when id is already stored. It is
// implemented by the locks database.
type Inbox interface {
	AddDelivery(ctx context.Context, id, event string, body []byte) (duplicate bool, err error)
}

// WebhookHandler serves POST /events: GitHub's webhooks.
//
// Every request's X-Hub-Signature-256 is checked against Secret before
// anything else is done with the body. Answers:
//   - 401: signature missing, garbled or wrong (nothing processed);
//   - 503 (with Retry-After): MaxConcurrent bodies, or MaxBytes of
//     them, are being read and stored already; nothing is read or
//     stored. GitHub shows the delivery as failed, it can be redelivered,
//     and reconciliation catches up meanwhile;
//   - 413: body over MaxBody;
//   - 400: X-GitHub-Event or X-GitHub-Delivery missing, an
//     X-GitHub-Delivery over 256 bytes, or a handled event whose JSON does
//     not parse or lacks what the event must carry;
//   - 202: an event atoll does not handle (logged, not stored), a handled
//     event whose action atoll ignores (not stored), or a handled event
//     written to Inbox before the answer (a redelivery with the same
//     X-GitHub-Delivery is stored once and answered 202 again);
//   - 500: Inbox failed; GitHub shows the delivery as failed and it can be
//     redelivered.
//
// The text of a 4xx answer says what is wrong (GitHub shows it in the
// delivery's log); it never shows the secret or the expected signature.
//
// After a new delivery is stored, Notify (if set) is called so the runner
// picks it up.
type WebhookHandler struct {
	Secret  []byte
	Inbox   Inbox
	Notify  func()
	Logger  *slog.Logger
	MaxBody int64 // default DefaultMaxWebhookBody
	// Metrics, when set, counts each delivery by event and outcome and
	// times its acknowledgement.
	Metrics WebhookObserver
	// MaxConcurrent caps the requests whose body is being read and
	// stored at once (default DefaultMaxConcurrentWebhooks).
	MaxConcurrent int
	// MaxBytes caps the bytes of the bodies being read and stored at
	// once, each counted at its Content-Length (MaxBody when it declares
	// none) (default DefaultMaxWebhookBytes).
	MaxBytes int64

	slots chan struct{}       // set by NewWebhookHandler; nil: no cap
	bytes *semaphore.Weighted // MaxBytes; nil: no cap
}

// WebhookObserver counts webhook deliveries. event is a GitHub event atoll
// handles or "other"; outcome is one of stored, duplicate, ignored,
// unsigned, bad_signature, too_large, bad_request, error.
type WebhookObserver interface {
	ObserveWebhook(event, outcome string, took time.Duration)
}

// NewWebhookHandler checks cfg and returns a handler with defaults filled
// in. An empty Secret or a nil Inbox is an error: atoll never runs without
// signature checks.
func NewWebhookHandler(cfg WebhookHandler) (*WebhookHandler, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("webhook handler: a webhook secret is required")
	}
	if cfg.Inbox == nil {
		return nil, errors.New("webhook handler: an inbox is required")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxWebhookBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrentWebhooks
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxWebhookBytes
	}
	cfg.slots = make(chan struct{}, cfg.MaxConcurrent)
	cfg.bytes = semaphore.NewWeighted(cfg.MaxBytes)
	return &cfg, nil
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "POST only")
		return
	}
	event := r.Header.Get("X-GitHub-Event")
	delivery := r.Header.Get("X-GitHub-Delivery")
	start, outcome := time.Now(), "error"
	if h.Metrics != nil {
		defer func() {
			label := "other" // any header value would make labels unbounded
			if github.IsKnownEvent(event) {
				label = event
			}
			h.Metrics.ObserveWebhook(label, outcome, time.Since(start))
		}()
	}
	log = log.With("event", event, "delivery", delivery, "request_id", RequestID(r.Context()))
	sig := r.Header.Get("X-Hub-Signature-256")
	if sig == "" {
		log.Warn("webhook without signature refused", "remote", r.RemoteAddr)
		outcome = "unsigned"
		reply(w, http.StatusUnauthorized, "missing X-Hub-Signature-256")
		return
	}
	if h.slots != nil {
		select {
		case h.slots <- struct{}{}:
			defer func() { <-h.slots }()
		default:
			log.Warn("too many webhook bodies being read; delivery refused", "limit", cap(h.slots))
			w.Header().Set("Retry-After", "5")
			reply(w, http.StatusServiceUnavailable, "too many deliveries at once")
			return
		}
	}
	maxBody := h.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxWebhookBody
	}
	if h.bytes != nil {
		n := maxBody
		if r.ContentLength >= 0 && r.ContentLength < n {
			n = r.ContentLength
		}
		if !h.bytes.TryAcquire(n) {
			log.Warn("too many webhook bytes being read; delivery refused", "limit", h.MaxBytes)
			w.Header().Set("Retry-After", "5")
			reply(w, http.StatusServiceUnavailable, "too many deliveries at once")
			return
		}
		defer h.bytes.Release(n)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			log.Warn("webhook body too large", "limit", maxBody)
			outcome = "too_large"
			reply(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body too large: over %d bytes", maxBody))
			return
		}
		log.Warn("read webhook body", "err", err)
		outcome = "bad_request"
		reply(w, http.StatusBadRequest, "cannot read body")
		return
	}
	if err := github.ValidateSignature(h.Secret, body, sig); err != nil {
		log.Warn("webhook with bad signature refused", "remote", r.RemoteAddr, "err", err)
		outcome = "bad_signature"
		reply(w, http.StatusUnauthorized, err.Error())
		return
	}
	if event == "" || delivery == "" {
		outcome = "bad_request"
		reply(w, http.StatusBadRequest, "missing X-GitHub-Event or X-GitHub-Delivery")
		return
	}
	if len(delivery) > maxDeliveryID {
		outcome = "bad_request"
		reply(w, http.StatusBadRequest, fmt.Sprintf("X-GitHub-Delivery is %d bytes long, over %d", len(delivery), maxDeliveryID))
		return
	}
	if !github.IsKnownEvent(event) {
		log.Info("webhook event not handled; ignored")
		outcome = "ignored"
		reply(w, http.StatusAccepted, "event not handled")
		return
	}
	ev, err := github.ParseWebhook(event, delivery, body)
	if err != nil {
		log.Warn("malformed webhook", "err", err)
		outcome = "bad_request"
		reply(w, http.StatusBadRequest, "malformed payload: "+err.Error())
		return
	}
	if ev == nil {
		log.Debug("webhook action ignored")
		outcome = "ignored"
		reply(w, http.StatusAccepted, "action ignored")
		return
	}
	if h.Inbox == nil {
		log.Error("webhook handler has no inbox")
		reply(w, http.StatusInternalServerError, "no inbox")
		return
	}
	// The write must finish even if GitHub hangs up: it is the only copy.
	dup, err := h.Inbox.AddDelivery(context.WithoutCancel(r.Context()), delivery, event, body)
	if err != nil {
		log.Error("store webhook delivery", "err", err)
		reply(w, http.StatusInternalServerError, "cannot store delivery")
		return
	}
	if dup {
		log.Info("duplicate webhook delivery; already stored")
		outcome = "duplicate"
		reply(w, http.StatusAccepted, "duplicate delivery")
		return
	}
	log.Info("webhook stored")
	outcome = "stored"
	reply(w, http.StatusAccepted, "accepted")
	if h.Notify != nil {
		h.Notify()
	}
}

func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}
