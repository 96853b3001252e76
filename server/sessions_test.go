package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/postgres"
	"github.com/atollhq/atoll/testdrive/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestSessionsSharedThroughTheStore: a person signed in on one replica is
// signed in on another that shares the PostgreSQL store, and on a server
// restarted on the same bbolt file; signing out ends it everywhere; the
// store never holds the cookie's value.
func TestSessionsSharedThroughTheStore(t *testing.T) {
	ctx := context.Background()
	logPath := filepath.Join(t.TempDir(), "job.log")
	if err := os.WriteFile(logPath, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	newServer := func(store RecordStore) *Server {
		srv, err := New(Config{Webhook: http.NotFoundHandler(), Engine: jobEngine{logPath: logPath}, Pages: rawPages{},
			Sessions: store, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	page := func(srv *Server, id string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/jobs/j1/log", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	check := func(t *testing.T, a, b RecordStore) {
		one, two := newServer(a), newServer(b)
		sess, err := one.sessions.start(ctx, "alice", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if code := page(two, sess.ID); code != http.StatusOK {
			t.Fatalf("the other server answered %d to a signed-in person, want 200", code)
		}
		if code := page(two, "not-a-session"); code == http.StatusOK {
			t.Fatal("an unknown session id was let in")
		}
		recs, err := a.ListRecords(ctx, bucketSessions, "")
		if err != nil || len(recs) != 1 || recs[0].Key == sess.ID {
			t.Fatalf("stored sessions = %+v, %v; want one, keyed by a hash of the id", recs, err)
		}
		if err := two.sessions.end(ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		if code := page(one, sess.ID); code == http.StatusOK {
			t.Fatal("a session ended on one server still works on the other")
		}
		// An expired session is refused and removed.
		old, err := one.sessions.start(ctx, "bob", -time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if code := page(two, old.ID); code == http.StatusOK {
			t.Fatal("an expired session was let in")
		}
	}
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.Database(t)
		a, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		check(t, a, b)
	})
	t.Run("bbolt", func(t *testing.T) {
		db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		check(t, db, db)
	})
}

// TestTokensSharedThroughTheStore: an API token made through one replica's
// store is accepted by another sharing the PostgreSQL database, and a
// revocation on either is seen by both; on bbolt, by the one server.
func TestTokensSharedThroughTheStore(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	check := func(t *testing.T, a, b RecordStore) {
		one, two := Tokens{Store: a}, Tokens{Store: b}
		secret, _, err := one.Create(ctx, "ci", ScopeWrite, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := two.Create(ctx, "ci", ScopeRead, 0, now); !errors.Is(err, ErrTokenExists) {
			t.Fatalf("a second token of the same name: %v, want ErrTokenExists", err)
		}
		tok, ok := two.Check(ctx, secret, now.Add(time.Minute))
		if !ok || tok.Scope != ScopeWrite {
			t.Fatalf("the other server's Check = %+v, %v", tok, ok)
		}
		if _, ok := one.Check(ctx, secret, now.Add(2*time.Hour)); ok {
			t.Fatal("an expired token was accepted")
		}
		if list, err := one.List(ctx); err != nil || len(list) != 1 || list[0].LastUsed.IsZero() {
			t.Fatalf("List after a use = %+v, %v; want its last use recorded", list, err)
		}
		if err := two.Revoke(ctx, "ci"); err != nil {
			t.Fatal(err)
		}
		if _, ok := one.Check(ctx, secret, now.Add(time.Minute)); ok {
			t.Fatal("a token revoked on one server still works on the other")
		}
	}
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.Database(t)
		a, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		check(t, a, b)
	})
	t.Run("bbolt", func(t *testing.T) {
		db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		check(t, db, db)
	})
}
