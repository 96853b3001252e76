package boltdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/atollhq/atoll/locks"
)

func TestRecordsCRUD(t *testing.T) {
	db := openDB(t, "", Options{})
	ctx := t.Context()
	type step struct {
		op    string // put, delete
		key   string
		value []byte
	}
	tests := []struct {
		name   string
		steps  []step
		get    string // key to GetRecord afterwards
		want   []byte
		wantOK bool
		prefix string
		listed []locks.Record
		bucket string
	}{
		{
			name:   "bucket never written",
			bucket: "empty", get: "k", listed: []locks.Record{},
		},
		{
			name:   "put then get",
			bucket: "jobs",
			steps:  []step{{"put", "job/1", []byte(`{"state":"queued"}`)}},
			get:    "job/1", want: []byte(`{"state":"queued"}`), wantOK: true,
			listed: []locks.Record{{Key: "job/1", Value: []byte(`{"state":"queued"}`)}},
		},
		{
			name:   "put replaces",
			bucket: "jobs2",
			steps:  []step{{"put", "k", []byte("v1")}, {"put", "k", []byte("v2")}},
			get:    "k", want: []byte("v2"), wantOK: true,
			listed: []locks.Record{{Key: "k", Value: []byte("v2")}},
		},
		{
			name:   "empty value exists",
			bucket: "flags",
			steps:  []step{{"put", "on", nil}},
			get:    "on", want: []byte{}, wantOK: true,
			listed: []locks.Record{{Key: "on", Value: []byte{}}},
		},
		{
			name:   "delete, and delete again",
			bucket: "plans",
			steps:  []step{{"put", "a", []byte("1")}, {"delete", "a", nil}, {"delete", "a", nil}, {"delete", "never", nil}},
			get:    "a", listed: []locks.Record{},
		},
		{
			name:   "list by prefix in key order",
			bucket: "drift",
			steps: []step{
				{"put", "o/r/b", []byte("2")}, {"put", "o/r/a", []byte("1")},
				{"put", "o/rx/a", []byte("3")}, {"put", "o/q", []byte("0")},
			},
			get: "o/r/a", want: []byte("1"), wantOK: true,
			prefix: "o/r/",
			listed: []locks.Record{{Key: "o/r/a", Value: []byte("1")}, {Key: "o/r/b", Value: []byte("2")}},
		},
		{
			name:   "buckets are separate",
			bucket: "approvals",
			steps:  nil, // "jobs" above holds job/1
			get:    "job/1", listed: []locks.Record{},
		},
		{
			name:   "bucket named like an internal bucket",
			bucket: "locks",
			steps:  []step{{"put", "x", []byte("y")}},
			get:    "x", want: []byte("y"), wantOK: true,
			listed: []locks.Record{{Key: "x", Value: []byte("y")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.steps {
				var err error
				switch s.op {
				case "put":
					err = db.PutRecord(ctx, tt.bucket, s.key, s.value)
				case "delete":
					err = db.DeleteRecord(ctx, tt.bucket, s.key)
				}
				if err != nil {
					t.Fatalf("%s %s: %v", s.op, s.key, err)
				}
			}
			got, ok, err := db.GetRecord(ctx, tt.bucket, tt.get)
			if err != nil || ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("GetRecord(%s) = %q, %v, %v; want %q, %v", tt.get, got, ok, err, tt.want, tt.wantOK)
			}
			listed, err := db.ListRecords(ctx, tt.bucket, tt.prefix)
			if err != nil || !reflect.DeepEqual(listed, tt.listed) {
				t.Fatalf("ListRecords(%q) = %q, %v; want %q", tt.prefix, listed, err, tt.listed)
			}
		})
	}
	// Lock state is untouched by the records bucket named "locks".
	if locks, err := db.List(ctx); err != nil || len(locks) != 0 {
		t.Fatalf("List = %v, %v", locks, err)
	}
}

func TestRecordsInvalid(t *testing.T) {
	db := openDB(t, "", Options{})
	ctx := t.Context()
	noop := func([]byte, bool) ([]byte, error) { return nil, nil }
	for name, err := range map[string]error{
		"put empty bucket":    db.PutRecord(ctx, "", "k", nil),
		"put empty key":       db.PutRecord(ctx, "b", "", nil),
		"get empty key":       func() error { _, _, err := db.GetRecord(ctx, "b", ""); return err }(),
		"delete empty bucket": db.DeleteRecord(ctx, "", "k"),
		"list empty bucket":   func() error { _, err := db.ListRecords(ctx, "", ""); return err }(),
		"update empty key":    db.UpdateRecord(ctx, "b", "", noop),
		"next id empty":       func() error { _, err := db.NextID(ctx, ""); return err }(),
	} {
		t.Run(name, func(t *testing.T) {
			if !errors.Is(err, locks.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestUpdateRecord(t *testing.T) {
	errVeto := errors.New("veto")
	tests := []struct {
		name      string
		initial   []byte // nil: absent
		fn        func(old []byte, exists bool) ([]byte, error)
		wantErr   error
		wantValue []byte
		wantOK    bool
	}{
		{
			name: "create",
			fn: func(old []byte, exists bool) ([]byte, error) {
				if exists || old != nil {
					return nil, errors.New("want absent")
				}
				return []byte("new"), nil
			},
			wantValue: []byte("new"), wantOK: true,
		},
		{
			name:    "modify",
			initial: []byte("a"),
			fn: func(old []byte, exists bool) ([]byte, error) {
				if !exists {
					return nil, errors.New("want exists")
				}
				return append(old, 'b'), nil
			},
			wantValue: []byte("ab"), wantOK: true,
		},
		{
			name:    "nil deletes",
			initial: []byte("a"),
			fn:      func([]byte, bool) ([]byte, error) { return nil, nil },
		},
		{
			name: "nil on absent stays absent",
			fn:   func([]byte, bool) ([]byte, error) { return nil, nil },
		},
		{
			name:    "error aborts and is returned",
			initial: []byte("a"),
			fn: func(old []byte, _ bool) ([]byte, error) {
				old[0] = 'z' // a copy: scribbling on it changes nothing
				return []byte("ignored"), errVeto
			},
			wantErr:   errVeto,
			wantValue: []byte("a"), wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, "", Options{})
			ctx := t.Context()
			if tt.initial != nil {
				if err := db.PutRecord(ctx, "b", "k", tt.initial); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.UpdateRecord(ctx, "b", "k", tt.fn); err != tt.wantErr {
				t.Fatalf("UpdateRecord: %v, want %v", err, tt.wantErr)
			}
			got, ok, err := db.GetRecord(ctx, "b", "k")
			if err != nil || ok != tt.wantOK || !reflect.DeepEqual(got, tt.wantValue) {
				t.Fatalf("GetRecord = %q, %v, %v; want %q, %v", got, ok, err, tt.wantValue, tt.wantOK)
			}
		})
	}
}

// TestUpdateRecordConcurrent: 50 goroutines increment one JSON counter;
// no update is lost.
func TestUpdateRecordConcurrent(t *testing.T) {
	const n = 50
	db := openDB(t, "", Options{})
	type counter struct {
		N int `json:"n"`
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			errs <- db.UpdateRecord(t.Context(), "counters", "c", func(old []byte, exists bool) ([]byte, error) {
				var c counter
				if exists {
					if err := json.Unmarshal(old, &c); err != nil {
						return nil, err
					}
				}
				c.N++
				return json.Marshal(c)
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("UpdateRecord: %v", err)
		}
	}
	raw, ok, err := db.GetRecord(t.Context(), "counters", "c")
	if err != nil || !ok {
		t.Fatalf("GetRecord: %v, %v", ok, err)
	}
	var c counter
	if err := json.Unmarshal(raw, &c); err != nil || c.N != n {
		t.Fatalf("counter = %s (%v), want %d", raw, err, n)
	}
}

func TestNextID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atoll.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	next := func(db *DB, bucket string) uint64 {
		t.Helper()
		id, err := db.NextID(ctx, bucket)
		if err != nil {
			t.Fatalf("NextID(%s): %v", bucket, err)
		}
		return id
	}
	t.Run("sequential from 1", func(t *testing.T) {
		for want := uint64(1); want <= 5; want++ {
			if got := next(db, "jobs"); got != want {
				t.Fatalf("NextID = %d, want %d", got, want)
			}
		}
	})
	t.Run("per bucket, and ids are not keys", func(t *testing.T) {
		if got := next(db, "plans"); got != 1 {
			t.Fatalf("NextID(plans) = %d, want 1", got)
		}
		if recs, err := db.ListRecords(ctx, "plans", ""); err != nil || len(recs) != 0 {
			t.Fatalf("ListRecords(plans) = %v, %v; want empty", recs, err)
		}
	})
	t.Run("concurrent ids are unique and in order per caller", func(t *testing.T) {
		const workers, each = 8, 25
		got := make([][]uint64, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for range each {
					id, err := db.NextID(ctx, "jobs")
					if err != nil {
						t.Errorf("NextID: %v", err)
						return
					}
					got[w] = append(got[w], id)
				}
			})
		}
		wg.Wait()
		var all []uint64
		for _, ids := range got {
			if !slices.IsSorted(ids) {
				t.Errorf("one caller's ids %v are not increasing", ids)
			}
			all = append(all, ids...)
		}
		slices.Sort(all)
		for i, id := range all {
			if want := uint64(6 + i); id != want {
				t.Fatalf("ids sorted = %v, want 6..%d without gaps or repeats", all, 5+workers*each)
			}
		}
	})
	t.Run("survives reopen", func(t *testing.T) {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = openDB(t, path, Options{})
		if got := next(db, "jobs"); got != 206 {
			t.Fatalf("NextID after reopen = %d, want 206", got)
		}
	})
}

// UpdateRecords stores all of its updates or none: a veto in the last one
// leaves the first one unwritten.
func TestUpdateRecords(t *testing.T) {
	db := openDB(t, "", Options{})
	ctx := t.Context()
	set := func(v string) func([]byte, bool) ([]byte, error) {
		return func([]byte, bool) ([]byte, error) { return []byte(v), nil }
	}
	errVeto := errors.New("veto")
	err := db.UpdateRecords(ctx, []locks.RecordUpdate{
		{Bucket: "jobs", Key: "j1", Fn: set("queued")},
		{Bucket: "prs", Key: "p1", Fn: func([]byte, bool) ([]byte, error) { return nil, errVeto }},
	})
	if err != errVeto {
		t.Fatalf("got %v, want the veto", err)
	}
	if _, ok, _ := db.GetRecord(ctx, "jobs", "j1"); ok {
		t.Fatal("a vetoed batch wrote its first update")
	}
	err = db.UpdateRecords(ctx, []locks.RecordUpdate{
		{Bucket: "jobs", Key: "j1", Fn: set("queued")},
		{Bucket: "prs", Key: "p1", Fn: set("seen")},
		{Bucket: "prs", Key: "p1", Fn: func(old []byte, exists bool) ([]byte, error) {
			if !exists || string(old) != "seen" {
				return nil, fmt.Errorf("an update did not see the one before it: %q %v", old, exists)
			}
			return append(old, '!'), nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][3]string{{"jobs", "j1", "queued"}, {"prs", "p1", "seen!"}} {
		got, ok, err := db.GetRecord(ctx, want[0], want[1])
		if err != nil || !ok || string(got) != want[2] {
			t.Errorf("%s/%s = %q, %v, %v; want %q", want[0], want[1], got, ok, err, want[2])
		}
	}
	if err := db.UpdateRecords(ctx, []locks.RecordUpdate{{Bucket: "", Key: "k", Fn: set("x")}}); !errors.Is(err, locks.ErrInvalid) {
		t.Errorf("empty bucket: got %v, want ErrInvalid", err)
	}
}
