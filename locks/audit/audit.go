// Package audit is atoll's audit trail: an append-only, hash-chained list
// of every decision atoll takes and every action people take through it.
//
// Each Record carries the SHA-256 of the previous record (Prev) and its
// own (Hash, over its canonical JSON with Hash left empty), so a changed,
// inserted or removed record breaks the chain and Verify names it. Pruning
// replaces a prefix of the chain with one checkpoint record that keeps the
// hash of the last pruned record, so what is left still verifies.
//
// Storage is behind Store (locks/boltdb and locks/postgres implement it,
// appends serialised across processes); Trail adds the chaining.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ActionCheckpoint is the action of the record that stands for a pruned
// prefix of the trail.
const ActionCheckpoint = "audit.checkpoint"

// Entry is what a caller records; Trail.Append adds the sequence number,
// time and hashes.
type Entry struct {
	// Actor is who acted: a GitHub login, "atoll" for atoll's own
	// decisions, "api:NAME" for an API token.
	Actor string `json:"actor"`
	// Action names what happened, "area.verb" ("command.apply",
	// "lock.released", "job.finished", "login").
	Action string `json:"action"`
	// Repo is "owner/name" when the action concerns a repository.
	Repo string `json:"repo,omitempty"`
	// Number is the pull request or issue number, when there is one.
	Number    int    `json:"number,omitempty"`
	Project   string `json:"project,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	SHA       string `json:"sha,omitempty"`
	// Outcome is the result ("ok", "refused", "failed", "planned", ...).
	Outcome string `json:"outcome,omitempty"`
	// Details are further facts, kept small.
	Details map[string]string `json:"details,omitempty"`
}

// Record is one entry of the trail as stored.
type Record struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Entry
	// Prev is the hex SHA-256 of the previous record ("" for the first).
	Prev string `json:"prev"`
	// Hash is the hex SHA-256 of this record's canonical JSON with Hash
	// empty.
	Hash string `json:"hash"`
}

// ComputeHash returns the hash a record must carry: the SHA-256 of its
// canonical JSON (encoding/json's, fields in declaration order and map
// keys sorted) with Hash empty.
func ComputeHash(r Record) string {
	r.Hash = ""
	b, _ := json.Marshal(r) // a Record always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Store keeps the raw records, keyed by sequence number, in order.
type Store interface {
	// AppendAudit calls build with the next sequence number and the last
	// record's bytes (nil when there is none) and stores what it returns,
	// in one transaction.
	AppendAudit(ctx context.Context, build func(seq uint64, last []byte) ([]byte, error)) error
	// ReadAudit calls fn for each record with seq >= since, in order,
	// until fn returns an error, which it returns.
	ReadAudit(ctx context.Context, since uint64, fn func(seq uint64, raw []byte) error) error
	// PruneAudit deletes the records with seq < before except the one at
	// before-1, which it replaces with checkpoint.
	PruneAudit(ctx context.Context, before uint64, checkpoint func(last []byte) ([]byte, error)) error
}

// Log is what records audit entries; a nil *Trail is a Log that drops
// them, so callers need no check.
type Log interface {
	Append(ctx context.Context, e Entry) (Record, error)
}

// Trail is the hash-chained audit trail over a Store.
type Trail struct {
	store Store
	now   func() time.Time
}

// New returns a trail over s; now is its clock (nil: time.Now).
func New(s Store, now func() time.Time) *Trail {
	if now == nil {
		now = time.Now
	}
	return &Trail{store: s, now: now}
}

// Append adds e to the trail and returns the stored record.
func (t *Trail) Append(ctx context.Context, e Entry) (Record, error) {
	if t == nil {
		return Record{}, nil
	}
	if e.Action == "" {
		return Record{}, errors.New("audit: an entry needs an action")
	}
	var rec Record
	err := t.store.AppendAudit(ctx, func(seq uint64, last []byte) ([]byte, error) {
		rec = Record{Seq: seq, Time: t.now().UTC(), Entry: e}
		if last != nil {
			var prev Record
			if err := json.Unmarshal(last, &prev); err != nil {
				return nil, fmt.Errorf("audit: the last record is not JSON: %w", err)
			}
			rec.Prev = prev.Hash
		}
		rec.Hash = ComputeHash(rec)
		return json.Marshal(rec)
	})
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Filter selects records; empty fields match everything.
type Filter struct {
	Since               uint64
	Repo, Actor, Action string
	From, To            time.Time // zero: unbounded; To is exclusive
}

// Match reports whether r passes f.
func (f Filter) Match(r Record) bool {
	return r.Seq >= f.Since && (f.Repo == "" || r.Repo == f.Repo) && (f.Actor == "" || r.Actor == f.Actor) &&
		(f.Action == "" || r.Action == f.Action) && (f.From.IsZero() || !r.Time.Before(f.From)) &&
		(f.To.IsZero() || r.Time.Before(f.To))
}

// Read calls fn with each record that passes f, in order.
func (t *Trail) Read(ctx context.Context, f Filter, fn func(Record) error) error {
	return t.store.ReadAudit(ctx, f.Since, func(seq uint64, raw []byte) error {
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("audit: record %d is not JSON: %w", seq, err)
		}
		if !f.Match(r) {
			return nil
		}
		return fn(r)
	})
}

// Prune removes the records older than cutoff, keeping the chain
// verifiable with a checkpoint record in place of the last pruned one.
// It returns how many records it removed.
func (t *Trail) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	var last uint64
	n := 0
	stop := errors.New("stop")
	err := t.store.ReadAudit(ctx, 0, func(seq uint64, raw []byte) error {
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("audit: record %d is not JSON: %w", seq, err)
		}
		if !r.Time.Before(cutoff) {
			return stop
		}
		if r.Action != ActionCheckpoint {
			n++
		}
		last = seq
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	err = t.store.PruneAudit(ctx, last+1, func(raw []byte) ([]byte, error) {
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		pruned := n
		if r.Action == ActionCheckpoint {
			fmt.Sscan(r.Details["pruned"], &pruned)
			pruned += n - 1
		}
		// The checkpoint keeps the pruned record's Hash, which the next
		// record's Prev names: the rest of the chain still verifies.
		cp := Record{Seq: r.Seq, Time: r.Time, Entry: Entry{Actor: "atoll", Action: ActionCheckpoint,
			Details: map[string]string{"pruned": fmt.Sprint(pruned), "before": cutoff.UTC().Format(time.RFC3339)}},
			Prev: r.Prev, Hash: r.Hash}
		return json.Marshal(cp)
	})
	return n, err
}

// BadRecord is Verify's error: the first record that breaks the chain.
type BadRecord struct {
	Seq    uint64
	Reason string
}

func (e *BadRecord) Error() string { return fmt.Sprintf("audit record %d: %s", e.Seq, e.Reason) }

// Verify checks the chain of raw records read from s and returns how many
// it checked, or a *BadRecord naming the first one that is wrong.
func Verify(ctx context.Context, s Store) (int, error) {
	n := 0
	var prev *Record
	err := s.ReadAudit(ctx, 0, func(seq uint64, raw []byte) error {
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return &BadRecord{seq, "not valid JSON: " + err.Error()}
		}
		if err := check(seq, r, prev); err != nil {
			return err
		}
		prev = &r
		n++
		return nil
	})
	return n, err
}

// VerifyRecords checks a chain already decoded, such as an export.
func VerifyRecords(rs []Record) error {
	var prev *Record
	for i := range rs {
		if err := check(rs[i].Seq, rs[i], prev); err != nil {
			return err
		}
		prev = &rs[i]
	}
	return nil
}

func check(seq uint64, r Record, prev *Record) error {
	switch {
	case r.Seq != seq:
		return &BadRecord{seq, fmt.Sprintf("stored under %d but says %d", seq, r.Seq)}
	case prev != nil && r.Seq != prev.Seq+1:
		return &BadRecord{seq, fmt.Sprintf("follows record %d: records are missing", prev.Seq)}
	case prev != nil && r.Prev != prev.Hash:
		return &BadRecord{seq, "its prev hash does not match the previous record"}
	case prev == nil && r.Action != ActionCheckpoint && r.Prev != "":
		return &BadRecord{seq, "the first record names a previous one: records before it are missing"}
	case prev == nil && r.Action == ActionCheckpoint:
		// The head of a pruned trail: its hash is the pruned record's,
		// which the next record's prev checks.
	case prev != nil && r.Action == ActionCheckpoint:
		return &BadRecord{seq, "a checkpoint in the middle of the trail"}
	case r.Hash != ComputeHash(r):
		return &BadRecord{seq, "its content does not match its hash"}
	}
	return nil
}
