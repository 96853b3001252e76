package trail_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/trail"
	"github.com/atollhq/atoll/vcs"
)

// sink keeps what is appended; fail makes every append fail.
type sink struct {
	got  []audit.Entry
	fail bool
}

func (s *sink) Append(_ context.Context, e audit.Entry) (audit.Record, error) {
	if s.fail {
		return audit.Record{}, errors.New("disk full")
	}
	s.got = append(s.got, e)
	return audit.Record{}, nil
}

func (s *sink) Prune(context.Context, time.Time) (int, error) { return 0, nil }

func newTrail(s trail.Sink) *trail.Trail {
	return &trail.Trail{Sink: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}
}

var repo = vcs.Repo{Owner: "acme", Name: "infra"}

// What an auditor reads: who did what to which project, with what
// outcome; atoll's own decisions are atoll's.
func TestDecisionsAreRecorded(t *testing.T) {
	ctx := context.Background()
	s := &sink{}
	tr := newTrail(s)
	job := records.Job{ID: "j1", Kind: records.JobApply, User: "alice", Repo: repo, Number: 7, Commit: "abc",
		Project: records.Project{ProjectCore: config.ProjectCore{Name: "app", Workspace: "default"}}, State: records.JobSucceeded,
		Outcome: records.Outcome{Status: "applied", Policies: []policy.Result{{Set: "sec", Deny: []policy.Message{{Msg: "no"}}}, {Set: "cost"}}}}
	tr.Job(ctx, job)
	tr.Command(ctx, repo, 7, "bob", "apply", "refused", "not approved")
	take := tr.Lock(ctx, job)
	if _, ok, _ := take(locks.Lock{Owner: locks.Owner{Repo: "acme/infra", Number: 3}}, false, nil); ok {
		t.Fatal("Lock changed TryLock's result")
	}
	tr.Released(ctx, "acme/infra", 7, []string{"app", "db"}, "merged")
	tr.Review(ctx, vcs.PullRequest{Repo: repo, Number: 7}, "carol", vcs.PermissionRead)
	want := []struct{ actor, action, outcome, detail, value string }{
		{"alice", "job.apply", "applied", "policy.sec", "failed"},
		{"bob", "command.apply", "refused", "reason", "not approved"},
		{"alice", "lock.refused", "held", "held_by", "acme/infra#3"},
		{"atoll", "lock.released", "ok", "cause", "merged"},
		{"atoll", "lock.released", "ok", "cause", "merged"},
		{"carol", "review.approval", "refused", "permission", "read"},
	}
	if len(s.got) != len(want) {
		t.Fatalf("recorded %d entries, want %d: %+v", len(s.got), len(want), s.got)
	}
	for i, w := range want {
		e := s.got[i]
		if e.Actor != w.actor || e.Action != w.action || e.Outcome != w.outcome || e.Details[w.detail] != w.value {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}
	if s.got[0].Details["policy.cost"] != "passed" {
		t.Errorf("a passed policy set is not recorded: %v", s.got[0].Details)
	}
}

// Without a sink nothing is recorded, and a sink that fails never fails
// the decision.
func TestRecordingNeverFails(t *testing.T) {
	ctx := context.Background()
	newTrail(nil).Command(ctx, repo, 1, "bob", "plan", "ok", "")
	s := &sink{fail: true}
	newTrail(s).Command(ctx, repo, 1, "bob", "plan", "ok", "")
	newTrail(nil).PruneLoop(ctx) // returns at once
}
