package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/emulator"
)

// The requirements of an apply, seen from the pull request: who may ask,
// what is checked, that a refusal lists everything unmet, and that the
// apply then runs once, with its comment and its check run.
func TestApplyRequirements(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("reqs", map[string]string{
		"atoll.yaml":    "version: 1\napply_requirements: [undiverged]\n",
		"app/main.tf":   e.Backend("app"),
		"stale/main.tf": e.Backend("stale"),
	}, map[string]string{"alice": "write", "bob": "write", "carol": "read", "dana": "maintain"})

	// #1 is cut before main moves on: it does not contain main's head.
	ctx := e.Ctx()
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: "behind", Author: "alice",
		Files: map[string]*string{"stale/main.tf": S(applyTF(e, "stale", "v1"))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Author: "bob", Message: "docs",
		Files: map[string]*string{"README.md": S("moved on\n")}}); err != nil {
		t.Fatal(err)
	}
	behind, err := e.C.Control.OpenPR(ctx, emulator.OpenPR{Repo: repo, Head: "behind", Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	// #2 is cut after it.
	n := e.PR(repo, "add-app", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "app", "v1"))})
	e.Wait(repo, behind, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")

	// A read-only user may not apply.
	last := e.Comment(repo, n, "carol", "atoll apply")
	e.Wait(repo, n, last, "@carol", "may not run `atoll apply`", "write")

	// The author, before any approval: refused, naming `approved`.
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm := e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`approved`", "0 of 1")
	applyNot(t, cm.Body, "`undiverged`", "`mergeable`", "`plan`")

	// An approval by a reader does not count.
	if _, err := e.C.Control.Review(ctx, reviewOf(repo, n, "carol")); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`approved`", "0 of 1")

	// #1 misses two requirements: the refusal names both.
	last = e.Comment(repo, behind, "alice", "atoll apply")
	cm = e.Wait(repo, behind, last, "Apply refused")
	applyWant(t, cm.Body, "`approved`", "`undiverged`")
	if _, err := e.C.Control.Review(ctx, reviewOf(repo, behind, "bob")); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, behind, "alice", "atoll apply")
	cm = e.Wait(repo, behind, last, "Apply refused")
	applyWant(t, cm.Body, "`undiverged`")
	applyNot(t, cm.Body, "`approved`")
	if got := applyLines(t, applyCountFile(e, "stale")); len(got) != 0 {
		t.Fatalf("a refused apply ran terraform: %q", got)
	}

	// A dismissed approval does not count.
	id, err := e.C.Control.Review(ctx, reviewOf(repo, n, "bob"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.C.Control.DismissReview(ctx, emulator.DismissReview{Repo: repo, Number: n, ID: id, Author: "dana"}); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`approved`", "0 of 1")

	// An approving review by another writer: the apply runs.
	if _, err := e.C.Control.Review(ctx, reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 0 {
		t.Fatalf("applied before anyone asked: %q", got)
	}
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "Apply complete!")
	applyWant(t, cm.Body, "### atoll apply", "@alice", "Resources: 1 added")
	applyNot(t, cm.Body, "Apply refused")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 || got[0] != "v1" {
		t.Fatalf("the apply ran %d times, want once: %q", len(got), got)
	}
	applyWaitCheck(e, repo, e.Head(repo, n), "atoll/apply: app", "success")

	// Asking again applies nothing and says why.
	last = e.Comment(repo, n, "bob", "atoll apply")
	e.Wait(repo, n, last, "already running or done")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 {
		t.Fatalf("a second apply comment applied again: %q", got)
	}

	// A plan file changed on disk since it was made is never applied.
	files, err := filepath.Glob(filepath.Join(e.DataDir(), "plans", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no plan files in atoll's data dir (%v)", err)
	}
	for _, f := range files {
		fh, err := os.OpenFile(f, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fh.Write([]byte("tampered"))
		fh.Close()
	}
	last = e.Comment(repo, behind, "alice", "atoll apply")
	cm = e.Wait(repo, behind, last, "Apply refused")
	applyWant(t, cm.Body, "`undiverged`", "does not match the one recorded")
	if got := applyLines(t, applyCountFile(e, "stale")); len(got) != 0 {
		t.Fatalf("a refused apply ran terraform: %q", got)
	}
}

// One apply per plan: -p selects a project; twenty concurrent apply
// comments apply the others once, in one comment with each project's
// result, and every other comment gets a reply that it is running or done;
// redelivered webhooks apply nothing.
func TestApplyExactlyOnce(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("once", map[string]string{"one/main.tf": e.Backend("one"), "two/main.tf": e.Backend("two"),
		"three/main.tf": e.Backend("three")}, map[string]string{"alice": "write", "bob": "write"})
	n := e.PR(repo, "all", "alice", map[string]*string{
		"one/main.tf":   S(applyTF(e, "one", "v1")),
		"two/main.tf":   S(applyTF(e, "two", "v1")),
		"three/main.tf": S(applyTF(e, "three", "v1")),
	})
	e.Wait(repo, n, 0, "**done**: 3 planned")
	ctx := e.Ctx()
	if _, err := e.C.Control.Review(ctx, reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}

	// -p one applies one only.
	last := e.Comment(repo, n, "alice", "atoll apply -p one")
	cm := e.Wait(repo, n, last, "Apply complete!", "**done**")
	applyNot(t, cm.Body, "two", "three")
	if got := applyLines(t, applyCountFile(e, "one")); len(got) != 1 {
		t.Fatalf("project one applied %d times, want 1", len(got))
	}
	if got := applyLines(t, applyCountFile(e, "two")); len(got) != 0 {
		t.Fatalf("`atoll apply -p one` applied two")
	}
	head := e.Head(repo, n)
	applyWaitCheck(e, repo, head, "atoll/apply: one", "success")
	if applyHasCheck(e, repo, head, "atoll/apply: two") {
		t.Errorf("check run atoll/apply: two exists though two was not applied")
	}

	// Twenty writers' comments at once.
	last = e.C.LastCommentID(ctx, repo, n)
	var wg sync.WaitGroup
	ids := make(chan int64, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := e.C.Control.Comment(ctx, emulator.Comment{Repo: repo, Number: n, Author: "alice", Body: "atoll apply"})
			if err != nil {
				t.Error(err)
			}
			ids <- id
		}()
	}
	wg.Wait()
	close(ids)
	cm = e.Wait(repo, n, last, "### atoll apply", "**done**")
	applyWant(t, cm.Body, "**done**: 2 applied")
	if got := strings.Count(cm.Body, "✅ **Apply complete! Resources: 1 added"); got != 2 {
		t.Errorf("the apply comment shows %d applied projects, want two and three:\n%s", got, cm.Body)
	}
	applyWant(t, cm.Body, "#### two", "#### three", "Show apply output")
	applyNot(t, cm.Body, "#### one")
	var replies, applies []testdrive.Comment
	e.Eventually("a reply to each of the 19 other apply comments", func() bool {
		replies, applies = nil, nil
		for _, c := range e.BotComments(repo, n) {
			switch {
			case c.ID <= last:
			case strings.Contains(c.Body, "### atoll apply"):
				applies = append(applies, c)
			case strings.Contains(c.Body, "already running or done"):
				replies = append(replies, c)
			}
		}
		return len(replies) >= 19
	})
	if len(applies) != 1 || len(replies) != 19 {
		var bodies []string
		for _, c := range append(applies, replies...) {
			bodies = append(bodies, c.Body)
		}
		t.Fatalf("20 apply comments gave %d apply runs and %d replies, want 1 and 19:\n%s",
			len(applies), len(replies), strings.Join(bodies, "\n-----\n"))
	}
	for _, p := range []string{"one", "two", "three"} {
		if got := applyLines(t, applyCountFile(e, p)); len(got) != 1 {
			t.Fatalf("project %s applied %d times, want 1", p, len(got))
		}
	}
	applyWaitCheck(e, repo, head, "atoll/apply: two", "success")
	applyWaitCheck(e, repo, head, "atoll/apply: three", "success")

	// GitHub redelivers every apply comment: nothing is applied again.
	dels, err := e.C.Control.Deliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	redelivered := 0
	for _, d := range dels {
		if d.Event == "issue_comment" && strings.Contains(string(d.Payload), "atoll apply") {
			if _, err := e.C.Control.Redeliver(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
			redelivered++
		}
	}
	if redelivered < 21 {
		t.Fatalf("found %d apply comment deliveries to redeliver, want 21", redelivered)
	}
	last = e.Comment(repo, n, "bob", "atoll apply")
	e.Wait(repo, n, last, "already running or done")
	for _, p := range []string{"one", "two", "three"} {
		if got := applyLines(t, applyCountFile(e, p)); len(got) != 1 {
			t.Fatalf("after redeliveries project %s applied %d times, want 1", p, len(got))
		}
	}
}

// applyTF is a project whose one resource appends line to its count file
// when it is created, that is at apply.
func applyTF(e *Env, project, line string) string {
	cmd := fmt.Sprintf("echo %s >> '%s'", line, applyCountFile(e, project))
	return e.Backend(project) + fmt.Sprintf(`
resource "terraform_data" "x" {
  input = %q
  provisioner "local-exec" {
    command = %q
  }
}
`, line, cmd)
}

// applyCountFile is where a project made by applyTF records its applies.
func applyCountFile(e *Env, project string) string {
	return filepath.Join(e.Dir, "applied-"+project)
}

// applyLines are the lines of file; none when it does not exist.
func applyLines(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

func applyWant(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("comment lacks %q:\n%s", s, body)
		}
	}
}

func applyNot(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("comment has %q:\n%s", s, body)
		}
	}
}

// applyWaitCheck waits until the check run name on sha is completed with
// conclusion.
func applyWaitCheck(e *Env, repo, sha, name, conclusion string) {
	e.t.Helper()
	e.Eventually(fmt.Sprintf("check run %q %s on %s", name, conclusion, sha), func() bool {
		runs, err := e.C.CheckRuns(e.Ctx(), repo, sha)
		if err != nil {
			return false
		}
		for _, r := range runs {
			if r.Name == name && r.Status == "completed" && r.Conclusion == conclusion {
				return true
			}
		}
		return false
	})
}

func applyHasCheck(e *Env, repo, sha, name string) bool {
	e.t.Helper()
	runs, err := e.C.CheckRuns(e.Ctx(), repo, sha)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range runs {
		if r.Name == name {
			return true
		}
	}
	return false
}

// apply_mode after_merge: a comment is refused with the reason; merging
// applies the merge commit's plan and comments on the merged PR, once even
// when GitHub redelivers the event; a failed apply keeps its lock and a
// later `atoll apply` on the merged PR applies the default branch head.
func TestApplyAfterMerge(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("aftermerge", map[string]string{
		"atoll.yaml":    "version: 1\napply_mode: after_merge\n",
		"app/main.tf":   e.Backend("app"),
		"flaky/main.tf": e.Backend("flaky"),
	}, map[string]string{"alice": "write", "bob": "write"})
	ctx := e.Ctx()
	n := e.PR(repo, "add-app", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "app", "v1"))})
	e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	if _, err := e.C.Control.Review(ctx, reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}

	// A comment is refused, saying why.
	last := e.Comment(repo, n, "alice", "atoll apply")
	cm := e.Wait(repo, n, last, "after_merge")
	applyWant(t, cm.Body, "refused", "merged")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 0 {
		t.Fatalf("`atoll apply` applied in after_merge mode: %q", got)
	}

	// Merging applies, and says so on the merged PR.
	last = e.C.LastCommentID(ctx, repo, n)
	if _, err := e.C.Control.Merge(ctx, emulator.Merge{Repo: repo, Number: n, Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	cm = e.Wait(repo, n, last, "Apply complete!", "**done**")
	applyWant(t, cm.Body, "### atoll apply", "merge of #", "Resources: 1 added")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 {
		t.Fatalf("the merge applied %d times, want once", len(got))
	}
	// GitHub redelivers the merge: nothing more happens.
	applyRedeliver(e, "pull_request", fmt.Sprintf(`"number":%d`, n), "closed")

	// A project whose apply fails after merge keeps its lock.
	ok := filepath.Join(e.Dir, "flaky-may-apply")
	flaky := e.Backend("flaky") + fmt.Sprintf(`
resource "terraform_data" "x" {
  input = "v1"
  provisioner "local-exec" {
    command = "test -f '%s' && echo v1 >> '%s'"
  }
}
`, ok, applyCountFile(e, "flaky"))
	f := e.PR(repo, "add-flaky", "alice", map[string]*string{"flaky/main.tf": S(flaky)})
	e.Wait(repo, f, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	if _, err := e.C.Control.Review(ctx, reviewOf(repo, f, "bob")); err != nil { // a merge lifts no requirement
		t.Fatal(err)
	}
	last = e.C.LastCommentID(ctx, repo, f)
	if _, err := e.C.Control.Merge(ctx, emulator.Merge{Repo: repo, Number: f, Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	cm = e.Wait(repo, f, last, "### atoll apply", "**done**")
	applyWant(t, cm.Body, "failed")
	applyNot(t, cm.Body, "Apply complete!")
	e.Wait(repo, f, last, "locks stay held", "`atoll apply`")
	applyWaitCheck(e, repo, e.Head(repo, f), "atoll/apply: flaky", "failure")

	// A later PR finds app released and flaky still locked by the merged PR.
	later := e.PR(repo, "later", "bob", map[string]*string{
		"app/main.tf":   S(applyTF(e, "app", "v1") + "# later\n"),
		"flaky/main.tf": S(flaky + "# later\n"),
	})
	cm = e.Wait(repo, later, 0, "**done**")
	applyWant(t, cm.Body, fmt.Sprintf("Locked by [#%d]", f))
	applyNot(t, cm.Body, fmt.Sprintf("Locked by [#%d]", n))

	// Once the cause is fixed, `atoll apply` on the merged PR applies the
	// default branch head and releases the lock.
	if err := os.WriteFile(ok, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, f, "alice", "atoll apply")
	cm = e.Wait(repo, f, last, "Apply complete!", "**done**")
	applyWant(t, cm.Body, "Resources: 1 added")
	if got := applyLines(t, applyCountFile(e, "flaky")); len(got) != 1 {
		t.Fatalf("the retry applied %d times, want once", len(got))
	}
	last = e.Comment(repo, later, "bob", "atoll plan")
	cm = e.Wait(repo, later, last, "**done**")
	applyNot(t, cm.Body, "Locked by")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 {
		t.Fatalf("app applied %d times in all, want once", len(got))
	}
}

// apply_mode both: an `atoll apply` comment racing the merge applies the
// plan once, and every lock is released afterwards.
func TestApplyMergeRacesComment(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("race", map[string]string{
		"atoll.yaml":  "version: 1\napply_mode: both\n",
		"app/main.tf": e.Backend("app"),
	}, map[string]string{"alice": "write", "bob": "write"})
	ctx := e.Ctx()
	n := e.PR(repo, "add-app", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "app", "v1"))})
	e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	if _, err := e.C.Control.Review(ctx, reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last := e.C.LastCommentID(ctx, repo, n)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if _, err := e.C.Control.Comment(ctx, emulator.Comment{Repo: repo, Number: n, Author: "alice", Body: "atoll apply"}); err != nil {
			t.Error(err)
		}
	}()
	go func() {
		defer wg.Done()
		if _, err := e.C.Control.Merge(ctx, emulator.Merge{Repo: repo, Number: n, Author: "bob"}); err != nil {
			t.Error(err)
		}
	}()
	wg.Wait()
	e.Wait(repo, n, last, "Apply complete!", "**done**")
	// The comment gets an answer: its own apply, a reply that the apply
	// runs or is done, or a refusal (the merge moved main under its plan).
	e.WaitMatch(repo, n, last, func(b string) bool {
		return strings.Contains(b, "Requested by @alice") || strings.Contains(b, "already running") ||
			strings.Contains(b, "nothing to retry") || strings.Contains(b, "Apply refused")
	})
	// Every lock is released in the end: a new PR on the project plans.
	probe := e.PR(repo, "probe", "bob", map[string]*string{"app/main.tf": S(applyTF(e, "app", "v1") + "# probe\n")})
	cm := e.Wait(repo, probe, 0, "**done**")
	for i := 0; strings.Contains(cm.Body, "Locked by") && i < 20; i++ {
		l := e.Comment(repo, probe, "bob", "atoll plan")
		cm = e.Wait(repo, probe, l, "**done**")
	}
	applyNot(t, cm.Body, "Locked by")
	var runs []string
	for _, c := range e.BotComments(repo, n) {
		if c.ID > last && strings.Contains(c.Body, "### atoll apply") {
			runs = append(runs, c.Body)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("a merge racing a comment gave %d apply runs, want 1:\n%s", len(runs), strings.Join(runs, "\n-----\n"))
	}
	applyWant(t, runs[0], "Resources: 1 added")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 {
		t.Fatalf("applied %d times, want once", len(got))
	}
}

// applyRedeliver redelivers every delivery of event whose payload holds
// match and whose action is action.
func applyRedeliver(e *Env, event, match, action string) {
	e.t.Helper()
	dels, err := e.C.Control.Deliveries(e.Ctx())
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, d := range dels {
		if d.Event == event && d.Action == action && strings.Contains(string(d.Payload), match) {
			if _, err := e.C.Control.Redeliver(e.Ctx(), d.ID); err != nil {
				e.t.Fatal(err)
			}
			n++
		}
	}
	if n == 0 {
		e.t.Fatalf("no %s %s delivery holds %s", event, action, match)
	}
}
