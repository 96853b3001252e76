package boltdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/atollhq/atoll/locks"
)

// clock is a settable Options.Now for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openDB opens path (a fresh file in t.TempDir() when empty) and closes it
// at cleanup.
func openDB(t *testing.T, path string, o Options) *DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "atoll.db")
	}
	db, err := Open(path, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// rawUpdate edits a closed atoll file with bbolt directly.
func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	defer b.Close()
	if err := b.Update(fn); err != nil {
		t.Fatalf("raw update: %v", err)
	}
}

func TestMigrationsMatchSchemaVersion(t *testing.T) {
	if len(migrations) != SchemaVersion {
		t.Fatalf("len(migrations) = %d, SchemaVersion = %d", len(migrations), SchemaVersion)
	}
}

func TestOpenInitialisesSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "atoll.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v, %v; want 0600", fi.Mode(), err)
	}
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		got := string(tx.Bucket(bucketMeta).Get(metaSchema))
		if got != strconv.Itoa(SchemaVersion) {
			t.Errorf("meta/schema = %q, want %d", got, SchemaVersion)
		}
		for _, name := range [][]byte{bucketLocks, bucketDeliveries, bucketDeliveryBodies, bucketDeliveryPending, bucketRecords} {
			if tx.Bucket(name) == nil {
				t.Errorf("bucket %q missing", name)
			}
		}
		return nil
	})
	// Reopening an up-to-date file works and changes nothing.
	openDB(t, path, Options{})
}

func TestOpenSchemaErrors(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		want    error  // errors.Is target; nil means any error
		msg     string // substring of the message
	}{
		{
			name: "newer schema version",
			prepare: func(t *testing.T, path string) {
				openDB(t, path, Options{}).Close()
				rawUpdate(t, path, func(tx *bolt.Tx) error {
					return tx.Bucket(bucketMeta).Put(metaSchema, []byte("99"))
				})
			},
			want: locks.ErrSchema,
			msg:  "schema version 99 is newer than this atoll supports (1); upgrade atoll",
		},
		{
			name: "unreadable schema version",
			prepare: func(t *testing.T, path string) {
				openDB(t, path, Options{}).Close()
				rawUpdate(t, path, func(tx *bolt.Tx) error {
					return tx.Bucket(bucketMeta).Put(metaSchema, []byte("one"))
				})
			},
			want: locks.ErrSchema,
			msg:  `unreadable schema version "one"`,
		},
		{
			name: "bbolt file of another program",
			prepare: func(t *testing.T, path string) {
				rawUpdate(t, path, func(tx *bolt.Tx) error {
					_, err := tx.CreateBucket([]byte("widgets"))
					return err
				})
			},
			want: locks.ErrSchema,
			msg:  "not an atoll file",
		},
		{
			name: "not a bbolt file",
			prepare: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte(strings.Repeat("not bolt\n", 2000)), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			msg: "not a bbolt database file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "atoll.db")
			tt.prepare(t, path)
			db, err := Open(path, Options{Timeout: 200 * time.Millisecond})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want an error")
			}
			t.Logf("Open: %v", err)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Open error %q, want errors.Is %v", err, tt.want)
			}
			if errors.Is(err, locks.ErrInUse) {
				t.Errorf("Open error %q is ErrInUse", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Open error %q, want it to name %s and contain %q", err, path, tt.msg)
			}
			// A refused file is released at once.
			if tt.want != nil {
				rawUpdate(t, path, func(*bolt.Tx) error { return nil })
			}
		})
	}
}

func TestOpenInUseInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atoll.db")
	openDB(t, path, Options{})
	start := time.Now()
	db, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	if err == nil {
		db.Close()
		t.Fatal("second Open succeeded")
	}
	if !errors.Is(err, locks.ErrInUse) {
		t.Fatalf("second Open: %v, want ErrInUse", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second Open took %s, want about 200ms", d)
	}
}

// childOpenEnv, when set, makes TestOpenInUseByAnotherProcess act as the
// child process: open the named file, report, exit.
const childOpenEnv = "ATOLL_LOCKS_TEST_CHILD_OPEN"

// Exit codes of the child.
const (
	childOpened = 0
	childInUse  = 3
	childFailed = 4
)

func childOpen(path string) {
	start := time.Now()
	db, err := Open(path, Options{}) // the default timeout, 1s
	elapsed := time.Since(start)
	switch {
	case errors.Is(err, locks.ErrInUse):
		fmt.Printf("%d %s\n", elapsed.Milliseconds(), err)
		os.Exit(childInUse)
	case err != nil:
		fmt.Printf("%d %s\n", elapsed.Milliseconds(), err)
		os.Exit(childFailed)
	}
	if err := db.Close(); err != nil {
		fmt.Printf("%d close: %s\n", elapsed.Milliseconds(), err)
		os.Exit(childFailed)
	}
	fmt.Printf("%d opened\n", elapsed.Milliseconds())
	os.Exit(childOpened)
}

// runChild re-executes the test binary as a second process that opens
// path, and returns its exit code, how long its Open took and its message.
func runChild(t *testing.T, path string) (code int, openTook time.Duration, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestOpenInUseByAnotherProcess$")
	cmd.Env = append(os.Environ(), childOpenEnv+"="+path)
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("run child: %v", err)
	}
	line, _, _ := bufio.NewReader(strings.NewReader(string(out))).ReadLine()
	ms, msg, ok := strings.Cut(string(line), " ")
	n, convErr := strconv.Atoi(ms)
	if !ok || convErr != nil {
		t.Fatalf("child exit %d, output %q: want \"MILLISECONDS MESSAGE\"", code, out)
	}
	return code, time.Duration(n) * time.Millisecond, msg
}

func TestOpenInUseByAnotherProcess(t *testing.T) {
	if path := os.Getenv(childOpenEnv); path != "" {
		childOpen(path) // never returns
	}
	path := filepath.Join(t.TempDir(), "atoll.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })

	t.Run("held", func(t *testing.T) {
		code, took, msg := runChild(t, path)
		t.Logf("child: exit %d after %s: %s", code, took, msg)
		if code != childInUse {
			t.Fatalf("child exit %d (%s), want %d (locks.ErrInUse)", code, msg, childInUse)
		}
		if took < 500*time.Millisecond || took > 2500*time.Millisecond {
			t.Errorf("child's Open gave up after %s, want about 1s", took)
		}
		for _, want := range []string{path, "another atoll process holds it", locks.ErrInUse.Error()} {
			if !strings.Contains(msg, want) {
				t.Errorf("child's error %q does not contain %q", msg, want)
			}
		}
	})
	t.Run("released by Close", func(t *testing.T) {
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		code, _, msg := runChild(t, path)
		if code != childOpened {
			t.Fatalf("child exit %d (%s), want %d (opened)", code, msg, childOpened)
		}
	})
}

// TestCancelledAndClosed checks that every method refuses to work with a
// done context, and after Close.
func TestCancelledAndClosed(t *testing.T) {
	k := locks.Key{Repo: "o/r", Dir: ".", Workspace: "default"}
	o := locks.Owner{Repo: "o/r", Number: 1}
	calls := map[string]func(ctx context.Context, db *DB) error{
		"TryLock": func(ctx context.Context, db *DB) error { _, _, err := db.TryLock(ctx, k, o); return err },
		"Unlock":  func(ctx context.Context, db *DB) error { return db.Unlock(ctx, k) },
		"Get":     func(ctx context.Context, db *DB) error { _, _, err := db.Get(ctx, k); return err },
		"List":    func(ctx context.Context, db *DB) error { _, err := db.List(ctx); return err },
		"ListByOwner": func(ctx context.Context, db *DB) error {
			_, err := db.ListByOwner(ctx, "o/r", 1)
			return err
		},
		"UnlockByOwner": func(ctx context.Context, db *DB) error {
			_, err := db.UnlockByOwner(ctx, "o/r", 1)
			return err
		},
		"AddDelivery": func(ctx context.Context, db *DB) error {
			_, err := db.AddDelivery(ctx, "d1", "ping", nil)
			return err
		},
		"PendingDeliveries": func(ctx context.Context, db *DB) error { _, err := db.PendingDeliveries(ctx); return err },
		"GetDelivery":       func(ctx context.Context, db *DB) error { _, _, err := db.GetDelivery(ctx, "d1"); return err },
		"FinishDelivery":    func(ctx context.Context, db *DB) error { return db.FinishDelivery(ctx, "d1", "") },
		"PruneDeliveries": func(ctx context.Context, db *DB) error {
			_, err := db.PruneDeliveries(ctx, time.Now())
			return err
		},
		"PutRecord":    func(ctx context.Context, db *DB) error { return db.PutRecord(ctx, "b", "k", []byte("v")) },
		"GetRecord":    func(ctx context.Context, db *DB) error { _, _, err := db.GetRecord(ctx, "b", "k"); return err },
		"DeleteRecord": func(ctx context.Context, db *DB) error { return db.DeleteRecord(ctx, "b", "k") },
		"ListRecords":  func(ctx context.Context, db *DB) error { _, err := db.ListRecords(ctx, "b", ""); return err },
		"UpdateRecord": func(ctx context.Context, db *DB) error {
			return db.UpdateRecord(ctx, "b", "k", func([]byte, bool) ([]byte, error) { return []byte("v"), nil })
		},
		"NextID": func(ctx context.Context, db *DB) error { _, err := db.NextID(ctx, "b"); return err },
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	db := openDB(t, "", Options{})
	closed := openDB(t, "", Options{})
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(cancelled, db); !errors.Is(err, context.Canceled) {
				t.Errorf("with a cancelled context: %v, want context.Canceled", err)
			}
			if err := call(t.Context(), closed); !errors.Is(err, locks.ErrClosed) {
				t.Errorf("after Close: %v, want ErrClosed", err)
			}
		})
	}
	// Nothing was written by the cancelled calls.
	if l, ok, err := db.Get(t.Context(), k); err != nil || ok {
		t.Errorf("Get after cancelled TryLock = %v, %v, %v; want free", l, ok, err)
	}
	if ds, err := db.PendingDeliveries(t.Context()); err != nil || len(ds) != 0 {
		t.Errorf("PendingDeliveries after cancelled AddDelivery = %v, %v; want none", ds, err)
	}
	if id, err := db.NextID(t.Context(), "b"); err != nil || id != 1 {
		t.Errorf("NextID after cancelled NextID = %d, %v; want 1", id, err)
	}
}
