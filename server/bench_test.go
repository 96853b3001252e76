package server

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/vcs/github"
)

// BenchmarkWebhookAck measures what GitHub waits for: a signed pull_request
// webhook checked, written durably to the real bbolt inbox, and answered.
func BenchmarkWebhookAck(b *testing.B) {
	db, err := locks.Open(filepath.Join(b.TempDir(), "atoll.db"), locks.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	h, err := NewWebhookHandler(WebhookHandler{Secret: secret, Inbox: db, Notify: func() {}})
	if err != nil {
		b.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join("..", "..", "shared", "github", "webhooks", "pull_request", "opened.payload.json"))
	if err != nil {
		b.Fatal(err)
	}
	sig := github.Sign(secret, body)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := post(h, "pull_request", fmt.Sprintf("bench-%d", i), sig, body)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
}
