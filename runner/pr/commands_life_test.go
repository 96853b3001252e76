package pr

import (
	"context"
	"testing"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// A comment's command is routed by its name, refused with a reply when
// the commenter may not run it or the server does not allow it, ignored
// when not addressed to atoll or written by a bot, and run once per
// comment whatever delivery brings it.
func TestCommentRouting(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, func(s *config.Server) { s.AllowCommands = []string{"plan", "apply", "unlock"} })
	w.openPR(1, "h1")
	at := w.now
	steps := []struct {
		name  string
		e     *vcs.CommentEvent
		reply string // the reply's template, "" for none
		plans int    // plan runs started so far
	}{
		{"not a command", comment(1, 1, "dev", "looks good", "d1", at), "", 0},
		{"a writer's plan", comment(1, 2, "dev", "atoll plan", "d2", at), "", 1},
		{"the same comment again under another delivery", comment(1, 2, "dev", "atoll plan", "d3", at), "", 1},
		{"the same delivery again (a redelivery) runs", comment(1, 2, "dev", "atoll plan", "d2", at), "", 2},
		{"a reader may not plan", comment(1, 3, "reader", "atoll plan", "d4", at), "permission_denied.tmpl", 2},
		{"a command the server does not allow", comment(1, 4, "dev", "atoll approve_policies", "d5", at), "command_not_allowed.tmpl", 2},
		{"help is always allowed", comment(1, 5, "reader", "atoll help", "d6", at), "help.tmpl", 2},
		{"a misspelt command", comment(1, 6, "dev", "atoll plna", "d7", at), "command_error.tmpl", 2},
		{"a comment too old for the inbox's memory", comment(1, 7, "dev", "atoll plan", "d8", at.Add(-config.DefaultServer().InboxRetention-1e9)), "", 2},
	}
	for _, st := range steps {
		before := len(w.replies.said)
		if err := w.life.OnComment(ctx, st.e); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := ""
		if len(w.replies.said) > before {
			got = w.lastSaid()
		}
		if got != st.reply || len(w.engine.plans) != st.plans {
			t.Errorf("%s: reply %q, %d plan runs; want %q, %d", st.name, got, len(w.engine.plans), st.reply, st.plans)
		}
	}
	bot := comment(1, 8, "atoll[bot]", "atoll plan", "d9", at)
	bot.Sender.Bot = true
	edited := comment(1, 9, "dev", "atoll plan", "d10", at)
	edited.Action = "edited"
	for _, e := range []*vcs.CommentEvent{bot, edited} {
		if err := w.life.OnComment(ctx, e); err != nil || len(w.engine.plans) != 2 {
			t.Errorf("comment %d (%s by %s) ran: %d plan runs, err %v", e.Comment.ID, e.Action, e.Sender.Login, len(w.engine.plans), err)
		}
	}
	// A command on an issue (a drift issue) is the issues' to handle.
	issue := comment(7, 10, "dev", "atoll plan", "d11", at)
	issue.IsPR = false
	if err := w.life.OnComment(ctx, issue); err != nil || len(w.issues.commands) != 1 {
		t.Errorf("issue command: handed %v, err %v; want [plan]", w.issues.commands, err)
	}
}

// A fork's pull request is not planned when forks are not allowed: it is
// told so once, and every plan or apply command on it is refused.
func TestForkRefused(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil)
	pr := w.openPR(2, "f1")
	pr.HeadRepo = "mallory/infra"
	w.host.prs[2] = pr
	for _, action := range []string{"opened", "synchronize"} {
		if err := w.life.OnPullRequest(ctx, &vcs.PullRequestEvent{Action: action, PR: pr}); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.engine.plans) != 0 || len(w.replies.said) != 1 || w.lastSaid() != "fork_refused.tmpl" {
		t.Fatalf("fork opened and pushed: %d plan runs, replies %v; want none and one fork_refused", len(w.engine.plans), w.replies.said)
	}
	for i, body := range []string{"atoll plan", "atoll apply"} {
		if err := w.life.OnComment(ctx, comment(2, int64(20+i), "dev", body, "f"+body, w.now)); err != nil {
			t.Fatal(err)
		}
		if w.lastSaid() != "fork_refused.tmpl" || len(w.engine.plans)+len(w.engine.apply) != 0 {
			t.Errorf("%q on a fork: last reply %q, %d runs; want fork_refused and none", body, w.lastSaid(), len(w.engine.plans)+len(w.engine.apply))
		}
	}
}

// storePlan stores a plan of project for PR number at head, in state st.
func (w *world) storePlan(t *testing.T, number int, head, project string, st records.PlanState, changes bool) {
	t.Helper()
	p := records.Plan{Repo: testRepo.FullName(), Number: number,
		Project: records.Project{ProjectCore: config.ProjectCore{Name: project, Dir: project, Workspace: "default"}},
		HeadSHA: head, SHA256: "sum-" + project, HasChanges: changes, State: st}
	if err := w.rec.Put(context.Background(), records.Plans, records.PlanKey(p.Repo, number, project), p); err != nil {
		t.Fatal(err)
	}
}

// `atoll apply` asks the gate: a refused project is not applied (all or
// nothing by default); cleared plans are claimed and applied in one run
// of apply jobs carrying the gate's clearances.
func TestApplyCommandAsksTheGate(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil)
	w.openPR(3, "h3")
	w.storePlan(t, 3, "h3", "app", records.PlanPlanned, true)
	w.storePlan(t, 3, "h3", "net", records.PlanPlanned, true)
	w.gate.refuse["net"] = true
	if err := w.life.OnComment(ctx, comment(3, 30, "dev", "atoll apply", "a1", w.now)); err != nil {
		t.Fatal(err)
	}
	if len(w.engine.apply) != 0 || w.lastSaid() != "apply_refused.tmpl" {
		t.Fatalf("one project refused: %d apply runs, last reply %q; want none and apply_refused", len(w.engine.apply), w.lastSaid())
	}
	delete(w.gate.refuse, "net")
	if err := w.life.OnComment(ctx, comment(3, 31, "dev", "atoll apply -p app", "a2", w.now)); err != nil {
		t.Fatal(err)
	}
	if len(w.engine.apply) != 1 {
		t.Fatalf("cleared apply: %d apply runs, want 1 (replies %v)", len(w.engine.apply), w.replies.said)
	}
	spec, cleared := w.engine.apply[0], w.engine.clear[0]
	if len(spec.Jobs) != 1 || spec.Jobs[0].Kind != records.JobApply || spec.Jobs[0].Project.Name != "app" || len(cleared) != 1 {
		t.Errorf("apply run: jobs %+v, %d clearances; want one apply job of app, cleared", spec.Jobs, len(cleared))
	}
	var p records.Plan
	if _, err := w.rec.Get(ctx, records.Plans, records.PlanKey(testRepo.FullName(), 3, "app"), &p); err != nil || p.State != records.PlanApplying {
		t.Errorf("app's plan is %q after its apply was started, want applying", p.State)
	}
	// A second apply finds the plan taken: nothing is applied twice.
	if err := w.life.OnComment(ctx, comment(3, 32, "dev", "atoll apply -p app", "a3", w.now)); err != nil {
		t.Fatal(err)
	}
	if len(w.engine.apply) != 1 || w.lastSaid() != "notice_nothing_to_apply_busy.tmpl" {
		t.Errorf("apply again: %d apply runs, last reply %q; want 1 and nothing_to_apply_busy", len(w.engine.apply), w.lastSaid())
	}
	// Applies stopped server-wide: refused before anything is claimed.
	w.engine.blocked = &templates.ApplyDisabled{Disabled: true}
	if err := w.life.OnComment(ctx, comment(3, 33, "dev", "atoll apply -p net", "a4", w.now)); err != nil {
		t.Fatal(err)
	}
	if len(w.engine.apply) != 1 || w.lastSaid() != "apply_disabled.tmpl" {
		t.Errorf("apply while disabled: %d apply runs, last reply %q; want 1 and apply_disabled", len(w.engine.apply), w.lastSaid())
	}
}

// After a merge (apply_mode after_merge), the merged PR's projects not
// applied before are planned and applied at the merge commit, each
// through the gate's after-merge path; a project applied by comment
// before the merge is released, not applied again; a redelivered merge
// applies nothing more.
func TestAfterMergeSelection(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, func(s *config.Server) { s.ApplyMode = config.ApplyAfterMerge })
	pr := w.openPR(4, "h4")
	for _, name := range []string{"app", "net"} {
		if _, _, err := w.db.TryLock(ctx, locks.Key{Repo: testRepo.FullName(), Dir: name, Workspace: "default"},
			locks.Owner{Repo: testRepo.FullName(), Number: 4, Author: "author", HeadSHA: "h4"}); err != nil {
			t.Fatal(err)
		}
	}
	w.repos.touched = []records.Project{{ProjectCore: config.ProjectCore{Name: "app", Dir: "app", Workspace: "default"}},
		{ProjectCore: config.ProjectCore{Name: "net", Dir: "net", Workspace: "default"}}}
	if err := w.rec.Store().UpdateRecords(ctx, []locks.RecordUpdate{records.HeadUpdate(pr, w.repos.touched)}); err != nil {
		t.Fatal(err)
	}
	w.storePlan(t, 4, "h4", "app", records.PlanPlanned, true)
	w.storePlan(t, 4, "h4", "net", records.PlanApplied, true)
	pr.State, pr.Merged, pr.MergeCommitSHA = "closed", true, "m4"
	w.host.prs[4] = pr
	for i := 0; i < 2; i++ {
		if err := w.life.OnPullRequest(ctx, &vcs.PullRequestEvent{Action: "closed", PR: pr}); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.engine.apply) != 1 {
		t.Fatalf("merged twice: %d apply runs, want 1", len(w.engine.apply))
	}
	spec := w.engine.apply[0]
	if spec.Command != "apply-after-merge" || len(spec.Jobs) != 1 || spec.Jobs[0].Project.Name != "app" ||
		spec.Jobs[0].Kind != records.JobPlanApply || spec.Jobs[0].Commit != "m4" || len(w.engine.clear[0]) != 1 {
		t.Errorf("after merge: %s run of %+v; want one plan-and-apply job of app at the merge commit, cleared", spec.Command, spec.Jobs)
	}
	if len(w.gate.asked) == 0 || w.gate.asked[0] != gate.PathAfterMerge {
		t.Errorf("the gate was asked on %v, want the after-merge path", w.gate.asked)
	}
	held, err := w.db.ListByOwner(ctx, testRepo.FullName(), 4)
	if err != nil || len(held) != 1 || held[0].Key.Dir != "app" {
		t.Errorf("locks held after the merge: %+v (err %v); want app's only (net was applied before the merge)", held, err)
	}
}

// `atoll unlock` releases the PR's locks and discards its plans.
func TestUnlock(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, nil)
	w.openPR(5, "h5")
	if _, _, err := w.db.TryLock(ctx, locks.Key{Repo: testRepo.FullName(), Dir: "app", Workspace: "default"},
		locks.Owner{Repo: testRepo.FullName(), Number: 5, HeadSHA: "h5"}); err != nil {
		t.Fatal(err)
	}
	w.storePlan(t, 5, "h5", "app", records.PlanPlanned, true)
	if err := w.life.OnComment(ctx, comment(5, 50, "dev", "atoll unlock", "u1", w.now)); err != nil {
		t.Fatal(err)
	}
	held, _ := w.db.ListByOwner(ctx, testRepo.FullName(), 5)
	plans, _ := w.rec.PlansOf(ctx, testRepo.FullName(), 5)
	if len(held) != 0 || len(plans) != 0 || w.lastSaid() != "notice_unlocked.tmpl" {
		t.Errorf("after unlock: %d locks, %d plans, reply %q; want none, none, unlocked", len(held), len(plans), w.lastSaid())
	}
	if err := w.life.OnComment(ctx, comment(5, 51, "dev", "atoll unlock", "u2", w.now)); err != nil || w.lastSaid() != "notice_no_locks.tmpl" {
		t.Errorf("unlock again: reply %q, err %v; want no_locks", w.lastSaid(), err)
	}
}
