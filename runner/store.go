package runner

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/atollhq/atoll/locks"
)

// Store is the durable state the runner needs. locks.DB implements it; a
// later PostgreSQL store will too. No storage type leaks through it.
type Store interface {
	TryLock(ctx context.Context, k locks.Key, o locks.Owner) (locks.Lock, bool, error)
	Unlock(ctx context.Context, k locks.Key) error
	Get(ctx context.Context, k locks.Key) (locks.Lock, bool, error)
	List(ctx context.Context) ([]locks.Lock, error)
	ListByOwner(ctx context.Context, repo string, number int) ([]locks.Lock, error)
	UnlockByOwner(ctx context.Context, repo string, number int) ([]locks.Lock, error)

	PendingDeliveries(ctx context.Context) ([]locks.Delivery, error)
	FinishDelivery(ctx context.Context, id string, errMsg string) error
	PruneDeliveries(ctx context.Context, olderThan time.Time) (int, error)

	PutRecord(ctx context.Context, bucket, key string, value []byte) error
	GetRecord(ctx context.Context, bucket, key string) ([]byte, bool, error)
	DeleteRecord(ctx context.Context, bucket, key string) error
	ListRecords(ctx context.Context, bucket, prefix string) ([]locks.Record, error)
	UpdateRecord(ctx context.Context, bucket, key string, fn func(old []byte, exists bool) ([]byte, error)) error
	UpdateRecords(ctx context.Context, updates []locks.RecordUpdate) error
	NextID(ctx context.Context, bucket string) (uint64, error)
}

// Buckets of the runner's records in the Store.
const (
	bucketRuns      = "runs"      // runID -> Run
	bucketJobs      = "jobs"      // jobID -> Job
	bucketPlans     = "plans"     // planKey -> Plan
	bucketApprovals = "approvals" // approvalKey -> PolicyApproval
	bucketPRs       = "prs"       // prKey -> PRState
	bucketDrift     = "drift"     // driftKey -> DriftRecord
	bucketDriftRuns = "driftruns" // runID -> DriftRun
)

// errAbort stops an UpdateRecord without writing.
var errAbort = errors.New("abort update")

// records wraps a Store with typed JSON access.
type records struct{ s Store }

func (r records) get(ctx context.Context, bucket, key string, v any) (bool, error) {
	b, ok, err := r.s.GetRecord(ctx, bucket, key)
	if err != nil || !ok {
		return ok, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return true, nil
}

func (r records) put(ctx context.Context, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	return r.s.PutRecord(ctx, bucket, key, b)
}

// list decodes every record under prefix into a new T each.
func list[T any](ctx context.Context, r records, bucket, prefix string) ([]T, error) {
	recs, err := r.s.ListRecords(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(recs))
	for _, rec := range recs {
		var v T
		if err := json.Unmarshal(rec.Value, &v); err != nil {
			return nil, fmt.Errorf("decode %s/%s: %w", bucket, rec.Key, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// update runs fn on the decoded record (zero T when absent) in one
// transaction and writes the result. fn returns errAbort to write nothing;
// update then returns nil.
func update[T any](ctx context.Context, r records, bucket, key string, fn func(v *T, exists bool) error) error {
	err := r.s.UpdateRecord(ctx, bucket, key, func(old []byte, exists bool) ([]byte, error) {
		var v T
		if exists {
			if err := json.Unmarshal(old, &v); err != nil {
				return nil, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
			}
		}
		if err := fn(&v, exists); err != nil {
			return nil, err
		}
		return json.Marshal(v)
	})
	if errors.Is(err, errAbort) {
		return nil
	}
	return err
}

// newID makes a job, run or drift run id: the day and a counter, so ids
// sort by age, then 128 random bits, so that an id seen nowhere cannot be
// guessed (job pages and logs are addressed by it).
func (r records) newID(ctx context.Context, bucket string, now time.Time) (string, error) {
	n, err := r.s.NextID(ctx, bucket)
	if err != nil {
		return "", err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%06d-%x", now.UTC().Format("20060102"), n, b), nil
}

// putUpdate is a batch update that stores v under key.
func putUpdate(bucket, key string, v any) locks.RecordUpdate {
	return locks.RecordUpdate{Bucket: bucket, Key: key, Fn: func([]byte, bool) ([]byte, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s/%s: %w", bucket, key, err)
		}
		return b, nil
	}}
}

// typedUpdate is update (see above) as one update of a batch: fn returning
// errAbort leaves this record as it is, and the rest of the batch goes on.
func typedUpdate[T any](bucket, key string, fn func(v *T, exists bool) error) locks.RecordUpdate {
	return locks.RecordUpdate{Bucket: bucket, Key: key, Fn: func(old []byte, exists bool) ([]byte, error) {
		var v T
		if exists {
			if err := json.Unmarshal(old, &v); err != nil {
				return nil, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
			}
		}
		if err := fn(&v, exists); err != nil {
			if errors.Is(err, errAbort) {
				return old, nil // nil when absent: it stays absent
			}
			return nil, err
		}
		return json.Marshal(v)
	}}
}

// plansOf lists the stored plans of pull request (or drift issue) number
// of repo ("owner/name"), of every head, ordered by project.
func (r records) plansOf(ctx context.Context, repo string, number int) ([]Plan, error) {
	return list[Plan](ctx, r, bucketPlans, prKey(repo, number)+"#")
}
