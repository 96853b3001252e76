package server

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/testdrive/toolscache"
	"github.com/atollhq/atoll/vcs/github"
)

// BenchmarkWebhookAck measures what GitHub waits for: a signed pull_request
// webhook checked, written durably to the real bbolt inbox, and answered.
func BenchmarkWebhookAck(b *testing.B) {
	db, err := boltdb.Open(filepath.Join(b.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	h, err := NewWebhookHandler(WebhookHandler{Secret: secret, Inbox: db, Notify: func() {}})
	if err != nil {
		b.Fatal(err)
	}
	var body []byte
	for _, ex := range toolscache.WebhookExamples(b, "pull_request") {
		if strings.HasPrefix(ex.Name, "opened-") {
			body = ex.Payload
			break
		}
	}
	if body == nil {
		b.Fatal("no pull_request opened example")
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
