package boltdb

import (
	"errors"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
)

func TestTryLock(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	pr1 := locks.Owner{Repo: "o/r", Number: 1, Author: "alice", HeadSHA: "aaa", Time: t0}
	key := locks.Key{Repo: "o/r", Dir: "infra/prod", Workspace: "default"}
	tests := []struct {
		name         string
		existing     *locks.Lock // held before the call
		key          locks.Key
		owner        locks.Owner
		wantAcquired bool
		wantHeld     locks.Lock
	}{
		{
			name:  "free key",
			key:   key,
			owner: pr1, wantAcquired: true,
			wantHeld: locks.Lock{Key: key, Owner: pr1},
		},
		{
			name:         "same PR again refreshes the owner",
			existing:     &locks.Lock{Key: key, Owner: pr1},
			key:          key,
			owner:        locks.Owner{Repo: "o/r", Number: 1, Author: "alice", HeadSHA: "bbb", Time: t0.Add(time.Hour)},
			wantAcquired: true,
			wantHeld:     locks.Lock{Key: key, Owner: locks.Owner{Repo: "o/r", Number: 1, Author: "alice", HeadSHA: "bbb", Time: t0.Add(time.Hour)}},
		},
		{
			name:     "another PR is refused",
			existing: &locks.Lock{Key: key, Owner: pr1},
			key:      key,
			owner:    locks.Owner{Repo: "o/r", Number: 2, Author: "bob", HeadSHA: "ccc", Time: t0},
			wantHeld: locks.Lock{Key: key, Owner: pr1},
		},
		{
			name:     "same number in another repo is another PR",
			existing: &locks.Lock{Key: key, Owner: pr1},
			key:      key,
			owner:    locks.Owner{Repo: "o/fork", Number: 1, Time: t0},
			wantHeld: locks.Lock{Key: key, Owner: pr1},
		},
		{
			name:     "another spelling of the dir is the same lock",
			existing: &locks.Lock{Key: key, Owner: pr1},
			key:      locks.Key{Repo: "o/r", Dir: "./infra/prod/", Workspace: "default"},
			owner:    locks.Owner{Repo: "o/r", Number: 2, Time: t0},
			wantHeld: locks.Lock{Key: key, Owner: pr1},
		},
		{
			name:         "another workspace is another lock",
			existing:     &locks.Lock{Key: key, Owner: pr1},
			key:          locks.Key{Repo: "o/r", Dir: "infra/prod", Workspace: "staging"},
			owner:        locks.Owner{Repo: "o/r", Number: 2, Time: t0},
			wantAcquired: true,
			wantHeld:     locks.Lock{Key: locks.Key{Repo: "o/r", Dir: "infra/prod", Workspace: "staging"}, Owner: locks.Owner{Repo: "o/r", Number: 2, Time: t0}},
		},
		{
			name:         "zero time is set from the clock, in UTC",
			key:          locks.Key{Repo: "o/r", Dir: "", Workspace: "default"},
			owner:        locks.Owner{Repo: "o/r", Number: 3},
			wantAcquired: true,
			wantHeld:     locks.Lock{Key: locks.Key{Repo: "o/r", Dir: ".", Workspace: "default"}, Owner: locks.Owner{Repo: "o/r", Number: 3, Time: newClock().Now()}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, "", Options{Now: newClock().Now})
			ctx := t.Context()
			if tt.existing != nil {
				if _, ok, err := db.TryLock(ctx, tt.existing.Key, tt.existing.Owner); err != nil || !ok {
					t.Fatalf("setup TryLock: %v, %v", ok, err)
				}
			}
			held, acquired, err := db.TryLock(ctx, tt.key, tt.owner)
			if err != nil {
				t.Fatalf("TryLock: %v", err)
			}
			if acquired != tt.wantAcquired || !reflect.DeepEqual(held, tt.wantHeld) {
				t.Fatalf("TryLock = %+v, %v; want %+v, %v", held, acquired, tt.wantHeld, tt.wantAcquired)
			}
			got, ok, err := db.Get(ctx, tt.key)
			if err != nil || !ok || !reflect.DeepEqual(got, tt.wantHeld) {
				t.Fatalf("Get = %+v, %v, %v; want %+v", got, ok, err, tt.wantHeld)
			}
		})
	}
}

func TestTryLockInvalid(t *testing.T) {
	ok := locks.Key{Repo: "o/r", Dir: ".", Workspace: "default"}
	owner := locks.Owner{Repo: "o/r", Number: 1}
	tests := []struct {
		name  string
		key   locks.Key
		owner locks.Owner
	}{
		{"empty repo", locks.Key{Dir: ".", Workspace: "default"}, owner},
		{"empty workspace", locks.Key{Repo: "o/r", Dir: "."}, owner},
		{"NUL in dir", locks.Key{Repo: "o/r", Dir: "a\x00", Workspace: "default"}, owner},
		{"owner without repo", ok, locks.Owner{Number: 1}},
		{"owner without number", ok, locks.Owner{Repo: "o/r"}},
		{"negative number", ok, locks.Owner{Repo: "o/r", Number: -1}},
	}
	db := openDB(t, "", Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := db.TryLock(t.Context(), tt.key, tt.owner); !errors.Is(err, locks.ErrInvalid) {
				t.Errorf("TryLock: %v, want ErrInvalid", err)
			}
		})
	}
	if locks, err := db.List(t.Context()); err != nil || len(locks) != 0 {
		t.Errorf("List = %v, %v; want nothing locked", locks, err)
	}
}

// TestTryLockContention: 100 PRs race for one workspace; exactly one wins
// and every loser is told who holds it.
func TestTryLockContention(t *testing.T) {
	const n = 100
	db := openDB(t, "", Options{})
	key := locks.Key{Repo: "o/r", Dir: "infra", Workspace: "default"}
	type result struct {
		number   int
		held     locks.Lock
		acquired bool
		err      error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			o := locks.Owner{Repo: "o/r", Number: i + 1, Author: "dev", HeadSHA: "sha"}
			held, acquired, err := db.TryLock(t.Context(), key, o)
			results[i] = result{i + 1, held, acquired, err}
		})
	}
	close(start)
	wg.Wait()

	var winners []int
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("PR %d: TryLock: %v", r.number, r.err)
		}
		if r.acquired {
			winners = append(winners, r.number)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d winners %v, want exactly 1", len(winners), winners)
	}
	for _, r := range results {
		if r.held.Owner.Number != winners[0] {
			t.Errorf("PR %d was told PR %d holds the lock, want %d", r.number, r.held.Owner.Number, winners[0])
		}
	}
	got, ok, err := db.Get(t.Context(), key)
	if err != nil || !ok || got.Owner.Number != winners[0] {
		t.Errorf("Get = %+v, %v, %v; want held by PR %d", got, ok, err, winners[0])
	}
}

func TestLocksSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atoll.db")
	clk := newClock()
	want := []locks.Lock{
		{Key: locks.Key{Repo: "o/a", Dir: ".", Workspace: "default"}, Owner: locks.Owner{Repo: "o/a", Number: 7, Author: "alice", HeadSHA: "a1", Time: clk.Now()}},
		{Key: locks.Key{Repo: "o/a", Dir: "net", Workspace: "prod"}, Owner: locks.Owner{Repo: "o/a", Number: 7, Author: "alice", HeadSHA: "a1", Time: clk.Now()}},
		{Key: locks.Key{Repo: "o/b", Dir: "db", Workspace: "default"}, Owner: locks.Owner{Repo: "o/b", Number: 9, Author: "bob", HeadSHA: "b1", Time: clk.Now()}},
	}
	db, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range want {
		if _, ok, err := db.TryLock(t.Context(), l.Key, l.Owner); err != nil || !ok {
			t.Fatalf("TryLock(%s): %v, %v", l.Key, ok, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path, Options{})
	got, err := db.List(t.Context())
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("List after reopen = %+v, %v; want %+v", got, err, want)
	}
	// Still held: another PR is refused after the restart.
	if held, ok, err := db.TryLock(t.Context(), want[2].Key, locks.Owner{Repo: "o/b", Number: 10}); err != nil || ok || held != want[2] {
		t.Fatalf("TryLock by another PR after reopen = %+v, %v, %v; want refused, held by %+v", held, ok, err, want[2])
	}
}

func TestUnlock(t *testing.T) {
	db := openDB(t, "", Options{})
	ctx := t.Context()
	k := locks.Key{Repo: "o/r", Dir: "a", Workspace: "default"}
	if _, _, err := db.TryLock(ctx, k, locks.Owner{Repo: "o/r", Number: 1}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  locks.Key
	}{
		{"held, other spelling", locks.Key{Repo: "o/r", Dir: "./a/", Workspace: "default"}},
		{"already free", k},
		{"never locked", locks.Key{Repo: "o/r", Dir: "b", Workspace: "default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.Unlock(ctx, tt.key); err != nil {
				t.Fatalf("Unlock: %v", err)
			}
			if l, ok, err := db.Get(ctx, tt.key); err != nil || ok {
				t.Fatalf("Get after Unlock = %+v, %v, %v; want free", l, ok, err)
			}
		})
	}
	// Free again: another PR takes it.
	if _, ok, err := db.TryLock(ctx, k, locks.Owner{Repo: "o/r", Number: 2}); err != nil || !ok {
		t.Fatalf("TryLock after Unlock: %v, %v", ok, err)
	}
}

func TestListByOwnerAndUnlockByOwner(t *testing.T) {
	db := openDB(t, "", Options{Now: newClock().Now})
	ctx := t.Context()
	lock := func(repo, dir, ws string, number int) locks.Lock {
		t.Helper()
		l, ok, err := db.TryLock(ctx, locks.Key{Repo: repo, Dir: dir, Workspace: ws}, locks.Owner{Repo: repo, Number: number})
		if err != nil || !ok {
			t.Fatalf("TryLock(%s %s %s, #%d): %v, %v", repo, dir, ws, number, ok, err)
		}
		return l
	}
	// Inserted out of order: results come back in key order.
	a2 := lock("o/a", "z", "default", 1)
	a1 := lock("o/a", "b", "default", 1)
	a3 := lock("o/a", "b", "prod", 2)
	b1 := lock("o/b", "b", "default", 1) // same number, other repo
	if all, err := db.List(ctx); err != nil || !reflect.DeepEqual(all, []locks.Lock{a1, a3, a2, b1}) {
		t.Fatalf("List = %+v, %v", all, err)
	}

	tests := []struct {
		name   string
		repo   string
		number int
		want   []locks.Lock
		left   []locks.Lock // List after UnlockByOwner
	}{
		{"unknown PR", "o/a", 99, []locks.Lock{}, []locks.Lock{a1, a3, a2, b1}},
		{"two locks of one PR", "o/a", 1, []locks.Lock{a1, a2}, []locks.Lock{a3, b1}},
		{"already released", "o/a", 1, []locks.Lock{}, []locks.Lock{a3, b1}},
		{"same number, other repo", "o/b", 1, []locks.Lock{b1}, []locks.Lock{a3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.ListByOwner(ctx, tt.repo, tt.number)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ListByOwner = %+v, %v; want %+v", got, err, tt.want)
			}
			released, err := db.UnlockByOwner(ctx, tt.repo, tt.number)
			if err != nil || !reflect.DeepEqual(released, tt.want) {
				t.Fatalf("UnlockByOwner = %+v, %v; want %+v", released, err, tt.want)
			}
			left, err := db.List(ctx)
			if err != nil || !reflect.DeepEqual(left, tt.left) {
				t.Fatalf("List after = %+v, %v; want %+v", left, err, tt.left)
			}
		})
	}
}
