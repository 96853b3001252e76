package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/testdrive/emulator"
)

// Every webhook delivered three times, each copy under a delivery id of
// its own: every event and command still runs once.
func TestRedeliverEachCommandRunsOnce(t *testing.T) {
	e := Start(t, Options{})
	if err := e.C.Control.SetSettings(e.Ctx(), emulator.Settings{RedeliverEach: 3}); err != nil {
		t.Fatal(err)
	}
	repo := e.Repo("thrice", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write", "bob": "write"})
	n := e.PR(repo, "feature", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "app", "v1"))})
	e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	racesSettle(e)
	racesCount(t, e, repo, n, 0, "### atoll plan", 1)

	last := e.Comment(repo, n, "alice", "atoll plan")
	e.Wait(repo, n, last, "### atoll plan", "Plan: 1 to add")
	racesSettle(e)
	racesCount(t, e, repo, n, last, "### atoll plan", 1)

	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, n, "alice", "atoll apply")
	e.Wait(repo, n, last, "### atoll apply", "Apply complete!")
	racesSettle(e)
	racesCount(t, e, repo, n, last, "### atoll apply", 1)
	racesCount(t, e, repo, n, last, "already running or done", 0)
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 {
		t.Fatalf("applied %d times, want once", len(got))
	}

	last = e.C.LastCommentID(e.Ctx(), repo, n)
	if _, err := e.C.Control.Merge(e.Ctx(), emulator.Merge{Repo: repo, Number: n, Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	e.Wait(repo, n, last, "Merged: released the locks")
	racesSettle(e)
	racesCount(t, e, repo, n, last, "Merged: released the locks", 1)
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 {
		t.Fatalf("applied %d times after the merge, want once", len(got))
	}
}

// A push racing an apply: the apply was asked for and claimed, the push
// lands before terraform runs, and the old plan is never applied; the new
// head is planned.
func TestPushRacingApply(t *testing.T) {
	e := Start(t, Options{NoStart: true})
	release := filepath.Join(e.Dir, "release-apply")
	e.AtollEnv = []string{"ATOLL_TEST_CRASHPOINT=" + crashpoint.BeforeApply, "ATOLL_TEST_CRASHPOINT_RELEASE=" + release}
	e.StartAtoll()
	repo := e.Repo("push-race", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write", "bob": "write"})
	n := e.PR(repo, "feature", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "app", "old"))})
	e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last := e.Comment(repo, n, "alice", "atoll apply")
	e.WaitLog(crashpoint.Reached + crashpoint.BeforeApply)
	if _, err := e.C.Control.Commit(e.Ctx(), emulator.Commit{Repo: repo, Branch: "feature", Author: "alice",
		Files: map[string]*string{"app/main.tf": S(applyTF(e, "app", "new"))}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cm := e.Wait(repo, n, last, "### atoll apply", "**done**")
	applyWant(t, cm.Body, "was pushed after this plan was made")
	applyNot(t, cm.Body, "Apply complete!")
	e.Wait(repo, n, last, "### atoll plan", "Plan: 1 to add", `"new"`)
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 0 {
		t.Fatalf("the old plan was applied: %q", got)
	}
	// The new head's plan applies.
	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, n, "alice", "atoll apply")
	e.Wait(repo, n, last, "### atoll apply", "Apply complete!")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 || got[0] != "new" {
		t.Fatalf("applied %q, want the new plan once", got)
	}
}

// racesSettle waits until every webhook was delivered and atoll had time
// to handle the copies.
func racesSettle(e *Env) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.C.Control.FlushDeliveries(ctx); err != nil {
		e.t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
}

// racesCount checks that want of atoll's comments after `after` hold sub.
func racesCount(t *testing.T, e *Env, repo string, n int, after int64, sub string, want int) {
	t.Helper()
	var got []string
	for _, c := range e.BotComments(repo, n) {
		if c.ID > after && strings.Contains(c.Body, sub) {
			got = append(got, c.Body)
		}
	}
	if len(got) != want {
		t.Fatalf("%d comments hold %q, want %d:\n%s", len(got), sub, want, strings.Join(got, "\n-----\n"))
	}
}
