package records

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atollhq/atoll/locks"
)

// Store is what records need of durable storage: records by bucket and
// key, updated one at a time or in one transaction, and counters.
// locks.Store (bbolt or PostgreSQL) implements it.
type Store interface {
	PutRecord(ctx context.Context, bucket, key string, value []byte) error
	GetRecord(ctx context.Context, bucket, key string) ([]byte, bool, error)
	DeleteRecord(ctx context.Context, bucket, key string) error
	ListRecords(ctx context.Context, bucket, prefix string) ([]locks.Record, error)
	UpdateRecord(ctx context.Context, bucket, key string, fn func(old []byte, exists bool) ([]byte, error)) error
	UpdateRecords(ctx context.Context, updates []locks.RecordUpdate) error
	NextID(ctx context.Context, bucket string) (uint64, error)
	NextIDs(ctx context.Context, buckets ...string) ([]uint64, error)
}

// Buckets of the runner's records in the Store.
const (
	Runs      = "runs"      // run id -> Run
	Jobs      = "jobs"      // job id -> Job
	Plans     = "plans"     // PlanKey -> Plan
	Approvals = "approvals" // ApprovalKey -> PolicyApproval; RemediationApprovalKey -> RemediationApproval
	PRs       = "prs"       // PRKey -> PRState
	Drift     = "drift"     // repo and project -> DriftRecord
	DriftRuns = "driftruns" // run id -> DriftRun
)

// ErrAbort, returned by the function of an Update or TypedUpdate, writes
// nothing; the update then returns nil.
var ErrAbort = errors.New("abort update")

// Records is typed JSON access to a Store. The zero value has no store;
// make one with New.
type Records struct{ s Store }

// New returns Records over s.
func New(s Store) Records { return Records{s: s} }

// Store is the store the records are kept in.
func (r Records) Store() Store { return r.s }

// Get decodes the record at bucket and key into v; false when there is
// none.
func (r Records) Get(ctx context.Context, bucket, key string, v any) (bool, error) {
	b, ok, err := r.s.GetRecord(ctx, bucket, key)
	if err != nil || !ok {
		return ok, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// Put stores v at bucket and key, replacing what was there.
func (r Records) Put(ctx context.Context, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	return r.s.PutRecord(ctx, bucket, key, b)
}

// Delete removes the record at bucket and key; a missing one is no error.
func (r Records) Delete(ctx context.Context, bucket, key string) error {
	return r.s.DeleteRecord(ctx, bucket, key)
}

// List decodes every record of bucket under prefix into a new T each, in
// key order.
func List[T any](ctx context.Context, r Records, bucket, prefix string) ([]T, error) {
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

// Update runs fn on the decoded record (zero T when absent) in one
// transaction and writes the result. fn returns ErrAbort to write nothing;
// Update then returns nil.
func Update[T any](ctx context.Context, r Records, bucket, key string, fn func(v *T, exists bool) error) error {
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
	if errors.Is(err, ErrAbort) {
		return nil
	}
	return err
}

// PutUpdate is one update of a batch (Store.UpdateRecords) that stores v
// under key.
func PutUpdate(bucket, key string, v any) locks.RecordUpdate {
	return locks.RecordUpdate{Bucket: bucket, Key: key, Fn: func([]byte, bool) ([]byte, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s/%s: %w", bucket, key, err)
		}
		return b, nil
	}}
}

// TypedUpdate is Update as one update of a batch: fn returning ErrAbort
// leaves this record as it is (absent stays absent), and the rest of the
// batch goes on.
func TypedUpdate[T any](bucket, key string, fn func(v *T, exists bool) error) locks.RecordUpdate {
	return locks.RecordUpdate{Bucket: bucket, Key: key, Fn: func(old []byte, exists bool) ([]byte, error) {
		var v T
		if exists {
			if err := json.Unmarshal(old, &v); err != nil {
				return nil, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
			}
		}
		if err := fn(&v, exists); err != nil {
			if errors.Is(err, ErrAbort) {
				return old, nil
			}
			return nil, err
		}
		return json.Marshal(v)
	}}
}

// NewID makes a job, run or drift run id: the day and a counter of
// bucket, so ids sort by age, then 128 random bits, so that an id seen
// nowhere cannot be guessed (job pages and logs are addressed by it).
func (r Records) NewID(ctx context.Context, bucket string, now time.Time) (string, error) {
	n, err := r.s.NextID(ctx, bucket)
	if err != nil {
		return "", err
	}
	return formatID(n, now)
}

// NewIDs makes one id as NewID would for each entry of buckets, in
// order, with one store transaction for all: a run and its jobs get
// their ids in one commit rather than one each.
func (r Records) NewIDs(ctx context.Context, now time.Time, buckets ...string) ([]string, error) {
	ns, err := r.s.NextIDs(ctx, buckets...)
	if err != nil {
		return nil, err
	}
	if len(ns) != len(buckets) {
		return nil, fmt.Errorf("new ids: the store gave %d numbers for %d buckets", len(ns), len(buckets))
	}
	ids := make([]string, len(ns))
	for i, n := range ns {
		if ids[i], err = formatID(n, now); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// formatID is the id of number n of a sequence, made at now (see NewID).
func formatID(n uint64, now time.Time) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%06d-%x", now.UTC().Format("20060102"), n, b), nil
}

// PRKey is the key of pull request (or drift issue) number of repo
// ("owner/name") in PRs, and the prefix of its plans and approvals.
func PRKey(repo string, number int) string { return fmt.Sprintf("%s#%07d", repo, number) }

// PlanKey is the key of a pull request's plan of project in Plans: one
// plan a project, the latest.
func PlanKey(repo string, number int, project string) string {
	return PRKey(repo, number) + "#" + project
}

// ApprovalPrefix is the prefix of a pull request's policy approvals at
// headSHA in Approvals: an approval binds to the head it was given at.
func ApprovalPrefix(repo string, number int, headSHA string) string {
	return PRKey(repo, number) + "#" + headSHA + "#"
}

// ApprovalKey is the key of the approvals of policy set on project at
// headSHA.
func ApprovalKey(repo string, number int, headSHA, project, set string) string {
	return ApprovalPrefix(repo, number, headSHA) + project + "#" + set
}

// RemediationApprovalKey is the key of the remediation approvals of a
// drift issue's project.
func RemediationApprovalKey(repo string, issue int, project string) string {
	return PRKey(repo, issue) + "#remediation#" + project
}

// DriftKey is the key of a project's DriftRecord in Drift.
func DriftKey(repo, project string) string { return repo + "#" + project }

// PlansOf lists the stored plans of pull request (or drift issue) number
// of repo ("owner/name"), of every head, ordered by project.
func (r Records) PlansOf(ctx context.Context, repo string, number int) ([]Plan, error) {
	return List[Plan](ctx, r, Plans, PRKey(repo, number)+"#")
}

// SetPlanState moves the plan at key (a PlanKey) to st and, when jobID is
// not empty, names jobID its apply job. A plan that is gone stays gone.
// It is the only write of a plan's state besides the claim that moves it
// to applying.
func (r Records) SetPlanState(ctx context.Context, key string, st PlanState, jobID string) error {
	return Update(ctx, r, Plans, key, func(p *Plan, exists bool) error {
		if !exists {
			return ErrAbort
		}
		p.State = st
		if jobID != "" {
			p.ApplyJob = jobID
		}
		return nil
	})
}

// RecordApproval records user's approval of policy set on project under
// key (an ApprovalKey), or withdraws it when clear. An approval given
// twice is recorded once; letter case does not tell users apart.
func (r Records) RecordApproval(ctx context.Context, key, set, project, user string, clear bool) error {
	return Update(ctx, r, Approvals, key, func(a *PolicyApproval, _ bool) error {
		a.Set, a.Project = set, project
		a.Users = approvers(a.Users, user, clear)
		return nil
	})
}

// RecordRemediationApproval records user's approval of the remediation
// plan planJob of a drift issue's project, or withdraws it when clear.
// Approvals bind to the plan job: those of an earlier plan are dropped.
func (r Records) RecordRemediationApproval(ctx context.Context, repo string, issue int, project, planJob, user string, clear bool) error {
	return Update(ctx, r, Approvals, RemediationApprovalKey(repo, issue, project), func(a *RemediationApproval, _ bool) error {
		if a.PlanJob != planJob {
			a.PlanJob, a.Users = planJob, nil
		}
		a.Users = approvers(a.Users, user, clear)
		return nil
	})
}

// approvers is users with user added once (letter case ignored), or
// without user when clear.
func approvers(users []string, user string, clear bool) []string {
	var out []string
	for _, u := range users {
		if !strings.EqualFold(u, user) {
			out = append(out, u)
		}
	}
	if !clear {
		out = append(out, user)
	}
	return out
}

// Once marks key of pull request (or drift issue) number of repo in PRs
// with value, in one transaction, unless it is marked already; first
// reports whether this call marked it. Things said or done once a pull
// request (a note, a handled merge) are claimed through it.
func (r Records) Once(ctx context.Context, repo string, number int, key string, value []byte) (first bool, err error) {
	err = r.s.UpdateRecord(ctx, PRs, PRKey(repo, number)+"#"+key, func(_ []byte, exists bool) ([]byte, error) {
		if exists {
			return nil, ErrAbort
		}
		first = true
		return value, nil
	})
	if errors.Is(err, ErrAbort) {
		err = nil
	}
	return first && err == nil, err
}

// ApplyClaimed is a plan's ApplyJob between its claim (ClaimPlan) and its
// apply job's creation, when the run binds the plan to its job
// (SetPlanState).
const ApplyClaimed = "claimed"

// ClaimPlan moves the plan at key (a PlanKey) from planned to applying in
// one transaction, when it is still planned and still the plan the caller
// decided on (same reports whether the stored plan is it). claimed is
// false when it is gone, not planned any more or another plan: someone
// else applies it, or it was replaced. This claim is what makes a plan
// applied once; its apply job is named later (SetPlanState).
func (r Records) ClaimPlan(ctx context.Context, key string, same func(stored Plan) bool) (claimed bool, err error) {
	err = Update(ctx, r, Plans, key, func(cur *Plan, exists bool) error {
		if !exists || cur.State != PlanPlanned || !same(*cur) {
			return ErrAbort
		}
		cur.State, cur.ApplyJob, claimed = PlanApplying, ApplyClaimed, true
		return nil
	})
	return claimed && err == nil, err
}

// MarkPlansMerged settles each stored plan of a merged pull request, one
// store update each: a plan not applied (planned, or its apply failed)
// moves to merged, so an apply comment racing the merge can no longer
// claim it. It returns the plans' projects that are applied with changes
// or being applied (applied), and of those the ones being applied now
// (applying): their own apply goes on.
func (r Records) MarkPlansMerged(ctx context.Context, repo string, number int) (applied map[string]bool, applying []Project, err error) {
	plans, err := r.PlansOf(ctx, repo, number)
	if err != nil {
		return nil, nil, err
	}
	applied = map[string]bool{}
	for _, p := range plans {
		err := Update(ctx, r, Plans, PlanKey(p.Repo, p.Number, p.Project.Name), func(cur *Plan, exists bool) error {
			switch {
			case !exists:
			case cur.State == PlanApplying:
				applied[cur.Project.Name] = true
				applying = append(applying, cur.Project)
			case cur.State == PlanApplied && cur.HasChanges:
				applied[cur.Project.Name] = true
			case cur.State == PlanPlanned || cur.State == PlanApplyFailed:
				cur.State = PlanMerged
				return nil
			}
			return ErrAbort
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return applied, applying, nil
}
