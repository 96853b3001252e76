package e2e

// The plan half of the pull request workflow, as a user sees it on GitHub:
// autoplan, comment commands, locks, plan comments and check runs. The
// durable half (restarts, reconciliation, redeliveries) and huge plans are
// in planwf_durable_test.go.

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/emulator"
)

// planHeading starts every plan run's comment (command_comment.tmpl).
const planHeading = "### atoll plan"

// Autoplan on opened, synchronize, ready_for_review and reopened; drafts
// and forks are not planned; one comment per run with a summary table,
// folded plans and errors with their step and output; check runs per
// project; a new commit minimizes the old plan comment.
func TestPlanWorkflowAutoplan(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("infra", map[string]string{
		"app/main.tf": e.Backend("app"),
		"net/main.tf": e.Backend("net"),
		"db/main.tf":  e.Backend("db"),
		"web/main.tf": e.Backend("web"),
	}, map[string]string{"alice": "write", "bob": "write"})

	// Three projects in one PR: one with changes, one without, one broken.
	n := e.PR(repo, "multi", "alice", map[string]*string{
		"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"a\" {}\n"),
		"net/main.tf": S(e.Backend("net") + "locals {\n  x = 1\n}\n"),
		"db/main.tf":  S(e.Backend("db") + "resource \"terraform_data\" \"broken\" {\n"),
	})
	head1 := e.Head(repo, n)
	first := e.Wait(repo, n, 0, planHeading, "**done**")
	for _, want := range []string{
		"· `" + head1[:7] + "`",
		"Started by push of " + head1[:7],
		"| Project | Dir | Workspace | Add | Change | Destroy | Result |",
		"[app](#", "[db](#",
		"➖ **No changes:** `net`",
		"Plan: 1 to add, 0 to change, 0 to destroy.",
		"<details><summary>Show plan</summary>",
		"terraform_data.a will be created",
		"❌ **`init` failed**",
		"Unclosed configuration block",
		"on main.tf line 6",
		"Fix the errors above and plan again: `atoll plan`",
	} {
		if !strings.Contains(first.Body, want) {
			t.Errorf("plan comment lacks %q:\n%s", want, first.Body)
		}
	}
	if got := planwfRunComments(e, repo, n); len(got) != 1 {
		t.Errorf("want one comment for the run (edited in place), got %d", len(got))
	}
	planwfChecks(e, repo, head1, map[string]string{
		"atoll/plan: app": "success", "atoll/plan: net": "neutral", "atoll/plan: db": "failure"})

	// A new commit plans the new head and folds the old comment as outdated.
	if _, err := e.C.Control.Commit(e.Ctx(), emulator.Commit{Repo: repo, Branch: "multi", Author: "alice", Files: map[string]*string{
		"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"a\" {}\nresource \"terraform_data\" \"a2\" {}\n"),
		"db/main.tf":  S(e.Backend("db") + "resource \"terraform_data\" \"fixed\" {}\n"),
	}}); err != nil {
		t.Fatal(err)
	}
	head2 := e.Head(repo, n)
	second := e.Wait(repo, n, first.ID, planHeading, "`"+head2[:7]+"`", "**done**")
	for _, want := range []string{"Plan: 2 to add, 0 to change, 0 to destroy.", "Plan: 1 to add, 0 to change, 0 to destroy.", "terraform_data.fixed"} {
		if !strings.Contains(second.Body, want) {
			t.Errorf("plan of the new head lacks %q:\n%s", want, second.Body)
		}
	}
	if strings.Contains(second.Body, "failed") {
		t.Errorf("plan of the fixed head still reports a failure:\n%s", second.Body)
	}
	old, err := e.C.Control.GetComment(e.Ctx(), repo, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !old.IsMinimized || !strings.EqualFold(old.MinimizedReason, "outdated") {
		t.Errorf("the superseded plan comment is not minimized as outdated: minimized=%v reason=%q", old.IsMinimized, old.MinimizedReason)
	}
	if cur, err := e.C.Control.GetComment(e.Ctx(), repo, second.ID); err != nil || cur.IsMinimized {
		t.Errorf("the current plan comment is minimized (err %v)", err)
	}
	planwfChecks(e, repo, head2, map[string]string{
		"atoll/plan: app": "success", "atoll/plan: net": "neutral", "atoll/plan: db": "success"})

	// A draft is not planned until it is ready for review.
	if _, err := e.C.Control.Commit(e.Ctx(), emulator.Commit{Repo: repo, Branch: "draft", Author: "bob",
		Files: map[string]*string{"web/main.tf": S(e.Backend("web") + "resource \"terraform_data\" \"w\" {}\n")}}); err != nil {
		t.Fatal(err)
	}
	d, err := e.C.Control.OpenPR(e.Ctx(), emulator.OpenPR{Repo: repo, Head: "draft", Author: "bob", Draft: true})
	if err != nil {
		t.Fatal(err)
	}
	planwfBarrier(e, repo, d)
	if got := planwfRunComments(e, repo, d); len(got) != 0 {
		t.Errorf("a draft PR was planned:\n%s", got[0].Body)
	}
	if err := e.C.Control.ReadyForReview(e.Ctx(), emulator.PRAction{Repo: repo, Number: d, Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	ready := e.Wait(repo, d, 0, planHeading, "**done**", "Plan: 1 to add, 0 to change, 0 to destroy.")
	// Had the draft been planned, its plan (of the same head) would be here too.
	if got := planwfRunComments(e, repo, d); len(got) != 1 {
		t.Errorf("want the one plan made when the draft became ready, got %d plan comments", len(got))
	}
	if got := planwfCount(planwfCheckRuns(e, repo, e.Head(repo, d)), "atoll/plan: web"); got != 1 {
		t.Errorf("want one check run atoll/plan: web, got %d", got)
	}

	// Closing releases the locks; reopening plans again.
	last := e.C.LastCommentID(e.Ctx(), repo, d)
	if err := e.C.Control.ClosePR(e.Ctx(), emulator.ClosePR{Repo: repo, Number: d, Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	closed := e.Wait(repo, d, last, "Pull request closed: released the locks of `web (default)`")
	if err := e.C.Control.ReopenPR(e.Ctx(), emulator.PRAction{Repo: repo, Number: d, Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	e.Wait(repo, d, closed.ID, planHeading, "**done**", "Plan: 1 to add, 0 to change, 0 to destroy.")
	if ready.ID >= closed.ID {
		t.Fatalf("comment order: plan %d, close notice %d", ready.ID, closed.ID)
	}

	// A PR from a fork is not planned, and says why.
	if _, err := e.C.Control.Commit(e.Ctx(), emulator.Commit{Repo: repo, Branch: "fork-change", Author: "mallory",
		Files: map[string]*string{"web/main.tf": S(e.Backend("web") + "resource \"terraform_data\" \"evil\" {}\n")}}); err != nil {
		t.Fatal(err)
	}
	f, err := e.C.Control.OpenPR(e.Ctx(), emulator.OpenPR{Repo: repo, Head: "fork-change", Author: "mallory", Fork: "mallory"})
	if err != nil {
		t.Fatal(err)
	}
	e.Wait(repo, f, 0, "does not plan pull requests from forks")
	planwfBarrier(e, repo, f)
	if got := planwfRunComments(e, repo, f); len(got) != 0 {
		t.Errorf("a fork PR was planned:\n%s", got[0].Body)
	}
	if runs := planwfCheckRuns(e, repo, e.Head(repo, f)); len(runs) != 0 {
		t.Errorf("a fork PR got check runs: %+v", runs)
	}
}

// The comment commands: `atoll plan` with -p, -d, -w and extra arguments,
// `atoll help`, `atoll version`; accepted commands get 👀; malformed ones
// and refused arguments get the error and the help; a read-only user is
// told what is missing; edited comments and bots are ignored.
func TestPlanWorkflowCommands(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("cmds", map[string]string{"app/main.tf": e.Backend("app")},
		map[string]string{"alice": "write", "bob": "read"})
	two := e.Backend("app") + "resource \"terraform_data\" \"a\" {}\nresource \"terraform_data\" \"b\" {}\n"
	n := e.PR(repo, "two", "alice", map[string]*string{"app/main.tf": S(two)})
	auto := e.Wait(repo, n, 0, planHeading, "**done**", "Plan: 2 to add, 0 to change, 0 to destroy.")

	// -p with -- -target: only the target is planned.
	id, before := planwfPost(e, repo, n, "alice", "atoll plan -p app -- -target=terraform_data.a")
	targeted := e.Wait(repo, n, before, planHeading, "Requested by @alice", "**done**")
	if !strings.Contains(targeted.Body, "Plan: 1 to add, 0 to change, 0 to destroy.") ||
		!strings.Contains(targeted.Body, "`terraform_data.a`") || strings.Contains(targeted.Body, "terraform_data.b") {
		t.Errorf("`-- -target=terraform_data.a` did not plan only terraform_data.a:\n%s", targeted.Body)
	}
	if r := planwfReactions(e, repo, id); !slices.Contains(r, "eyes") {
		t.Errorf("accepted command has reactions %v, want eyes", r)
	}
	if cur, err := e.C.Control.GetComment(e.Ctx(), repo, auto.ID); err != nil || cur.IsMinimized {
		t.Errorf("a plan of the same head minimized the autoplan comment (err %v)", err)
	}

	// -d and -w select a directory and a workspace.
	_, before = planwfPost(e, repo, n, "alice", "atoll plan -d app -w staging")
	ws := e.Wait(repo, n, before, planHeading, "**done**")
	if !strings.Contains(ws.Body, "`staging`") || !strings.Contains(ws.Body, "Plan: 2 to add, 0 to change, 0 to destroy.") {
		t.Errorf("`atoll plan -d app -w staging` did not plan app in workspace staging:\n%s", ws.Body)
	}

	// A refused extra argument and a malformed command: the error and the help.
	id, before = planwfPost(e, repo, n, "alice", "atoll plan -- -chdir=x")
	refused := e.Wait(repo, n, before, "-chdir")
	if !strings.Contains(refused.Body, "| `atoll plan` |") || strings.Contains(refused.Body, planHeading) {
		t.Errorf("`atoll plan -- -chdir=x` is not refused with the help:\n%s", refused.Body)
	}
	if r := planwfReactions(e, repo, id); slices.Contains(r, "eyes") {
		t.Errorf("a refused command got 👀")
	}
	_, before = planwfPost(e, repo, n, "alice", "atoll plan --bogus")
	bad := e.Wait(repo, n, before, "That atoll command is not valid")
	for _, want := range []string{"--bogus", "| `atoll plan` |", "`-- EXTRA ARGS`"} {
		if !strings.Contains(bad.Body, want) {
			t.Errorf("reply to a malformed command lacks %q:\n%s", want, bad.Body)
		}
	}

	// help and version.
	id, before = planwfPost(e, repo, n, "alice", "atoll help")
	help := e.Wait(repo, n, before, "### atoll help")
	if !strings.Contains(help.Body, "| `atoll unlock` |") {
		t.Errorf("help lacks the commands:\n%s", help.Body)
	}
	if r := planwfReactions(e, repo, id); !slices.Contains(r, "eyes") {
		t.Errorf("`atoll help` has reactions %v, want eyes", r)
	}
	_, before = planwfPost(e, repo, n, "alice", "atoll version")
	if v := e.Wait(repo, n, before, "built with go"); !strings.HasPrefix(v.Body, "atoll ") {
		t.Errorf("version reply: %q", v.Body)
	}

	// A read-only user is told what is missing, and nothing is planned.
	plans := len(planwfRunComments(e, repo, n))
	id, before = planwfPost(e, repo, n, "bob", "atoll plan")
	denied := e.Wait(repo, n, before, "@bob")
	for _, want := range []string{"`atoll plan`", "write permission on acme/cmds", "you have read"} {
		if !strings.Contains(denied.Body, want) {
			t.Errorf("refusal lacks %q:\n%s", want, denied.Body)
		}
	}
	if r := planwfReactions(e, repo, id); slices.Contains(r, "eyes") {
		t.Errorf("a refused command got 👀")
	}

	// An edited comment and a bot's comment are ignored.
	id, _ = planwfPost(e, repo, n, "alice", "looks good")
	if err := e.C.Control.EditComment(e.Ctx(), emulator.EditComment{Repo: repo, ID: id, Author: "alice", Body: "atoll plan"}); err != nil {
		t.Fatal(err)
	}
	botID, _ := planwfPost(e, repo, n, "dependabot[bot]", "atoll plan")
	// A plan asked for afterwards runs terraform: by the time it is done,
	// a plan started by either comment would have posted its comment.
	_, before = planwfPost(e, repo, n, "alice", "atoll plan")
	e.Wait(repo, n, before, planHeading, "Requested by @alice", "**done**")
	if got := len(planwfRunComments(e, repo, n)); got != plans+1 {
		t.Errorf("a refused, edited or bot's comment started a plan: %d plan comments, want %d", got, plans+1)
	}
	for _, c := range []int64{id, botID} {
		if r := planwfReactions(e, repo, c); len(r) != 0 {
			t.Errorf("an ignored comment got reactions %v", r)
		}
	}
	if len(planwfAfter(e, repo, n, denied.ID, "you may not run")) != 0 {
		t.Errorf("a bot's comment got a refusal")
	}
}

// A project is locked by the first PR that plans it: another PR is told
// which PR holds it, with a link; `atoll unlock` releases it and discards
// the plans; closing a PR releases its locks.
func TestPlanWorkflowLocks(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("locks", map[string]string{"app/main.tf": e.Backend("app")},
		map[string]string{"alice": "write", "carol": "write"})
	one := e.PR(repo, "first", "alice", map[string]*string{
		"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"first\" {}\n")})
	e.Wait(repo, one, 0, planHeading, "**done**", "Plan: 1 to add, 0 to change, 0 to destroy.")

	two := e.PR(repo, "second", "carol", map[string]*string{
		"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"second\" {}\n")})
	locked := e.Wait(repo, two, 0, planHeading, "**done**")
	link := fmt.Sprintf("🔒 **Locked by [#%d](%s/%s/pull/%d)**", one, e.GitHub.URL, repo, one)
	for _, want := range []string{link, "`atoll unlock` on #" + fmt.Sprint(one)} {
		if !strings.Contains(locked.Body, want) {
			t.Errorf("locked plan comment lacks %q:\n%s", want, locked.Body)
		}
	}
	if strings.Contains(locked.Body, "Plan: ") {
		t.Errorf("a locked project was planned:\n%s", locked.Body)
	}
	planwfChecks(e, repo, e.Head(repo, two), map[string]string{"atoll/plan: app": "failure"})

	// `atoll unlock` releases the lock and discards the plan.
	_, before := planwfPost(e, repo, one, "alice", "atoll unlock")
	e.Wait(repo, one, before, "Released the locks of `app (default)` and discarded their plans.")
	_, before = planwfPost(e, repo, one, "alice", "atoll apply")
	e.Wait(repo, one, before, "There is no plan to apply")

	// Now the second PR gets the lock, and the first is told.
	_, before = planwfPost(e, repo, two, "carol", "atoll plan")
	e.Wait(repo, two, before, planHeading, "**done**", "Plan: 1 to add, 0 to change, 0 to destroy.", "terraform_data.second")
	_, before = planwfPost(e, repo, one, "alice", "atoll plan")
	e.Wait(repo, one, before, planHeading, "**done**", fmt.Sprintf("🔒 **Locked by [#%d](", two))

	// Closing the second PR releases its lock.
	before = e.C.LastCommentID(e.Ctx(), repo, two)
	if err := e.C.Control.ClosePR(e.Ctx(), emulator.ClosePR{Repo: repo, Number: two, Author: "carol"}); err != nil {
		t.Fatal(err)
	}
	e.Wait(repo, two, before, "Pull request closed: released the locks of `app (default)`")
	_, before = planwfPost(e, repo, one, "alice", "atoll plan")
	e.Wait(repo, one, before, planHeading, "**done**", "Plan: 1 to add, 0 to change, 0 to destroy.", "terraform_data.first")
}

// Which projects a PR plans, and what it plans: without atoll.yaml a
// change to a local module plans every project calling it; the default
// merge strategy plans the PR merged into its base, so the plan sees a
// change merged into the base after the branch was cut; a broken
// atoll.yaml gets a comment naming file, line and key, and nothing runs.
func TestPlanWorkflowRepoConfig(t *testing.T) {
	e := Start(t, Options{})
	module := func(name string) string {
		return e.Backend(name) + "module \"shared\" {\n  source = \"../../modules/shared\"\n  name   = \"" + name + "\"\n}\n"
	}
	shared := "variable \"name\" {\n  type = string\n}\n"
	repo := e.Repo("cfg", map[string]string{
		"modules/shared/main.tf": shared,
		"envs/a/main.tf":         module("a"),
		"envs/b/main.tf":         module("b"),
		"app/main.tf":            e.Backend("app"),
		"svc/main.tf":            e.Backend("svc"),
	}, map[string]string{"alice": "write"})

	// A module change plans both callers, and the module is no project.
	n := e.PR(repo, "module", "alice", map[string]*string{
		"modules/shared/main.tf": S(shared + "resource \"terraform_data\" \"m\" {\n  input = var.name\n}\n")})
	cm := e.Wait(repo, n, 0, planHeading, "**done**")
	for _, want := range []string{"[envs/a](#", "[envs/b](#", "module.shared.terraform_data.m will be created"} {
		if !strings.Contains(cm.Body, want) {
			t.Errorf("module change: plan comment lacks %q:\n%s", want, cm.Body)
		}
	}
	if strings.Contains(cm.Body, "modules/shared") {
		t.Errorf("the module was planned as a project:\n%s", cm.Body)
	}
	head := e.Head(repo, n)
	planwfChecks(e, repo, head, map[string]string{"atoll/plan: envs/a": "success", "atoll/plan: envs/b": "success"})
	if got := planwfCount(planwfCheckRuns(e, repo, head), "atoll/plan: modules/shared"); got != 0 {
		t.Errorf("the module got a check run")
	}

	// The branch is cut, then the base gets terraform_data.base: the plan of
	// the PR, merged into its base, adds both.
	ctx := e.Ctx()
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: "late", Author: "alice",
		Files: map[string]*string{"app/branch.tf": S("resource \"terraform_data\" \"branch\" {}\n")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Author: "alice",
		Files: map[string]*string{"app/base.tf": S("resource \"terraform_data\" \"base\" {}\n")}}); err != nil {
		t.Fatal(err)
	}
	m, err := e.C.Control.OpenPR(ctx, emulator.OpenPR{Repo: repo, Head: "late", Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	merged := e.Wait(repo, m, 0, planHeading, "**done**")
	for _, want := range []string{"Plan: 2 to add, 0 to change, 0 to destroy.", "`terraform_data.base`", "`terraform_data.branch`"} {
		if !strings.Contains(merged.Body, want) {
			t.Errorf("merge strategy: plan lacks %q:\n%s", want, merged.Body)
		}
	}

	// A broken atoll.yaml: one comment naming file, line and key; no plan.
	broken := "version: 1\nprojects:\n  - dir: svc\n    autoplan:\n      when_modifed: [\"*.tf\"]\n"
	b := e.PR(repo, "broken-config", "alice", map[string]*string{
		"atoll.yaml":  S(broken),
		"svc/main.tf": S(e.Backend("svc") + "resource \"terraform_data\" \"x\" {}\n")})
	bh := e.Head(repo, b)
	bad := e.Wait(repo, b, 0, "is not valid")
	for _, want := range []string{"`atoll.yaml` is not valid at `" + bh[:7] + "`: no plan ran.", "line 5", "`projects[0].autoplan`", `unknown key "when_modifed" (did you mean "when_modified"?)`} {
		if !strings.Contains(bad.Body, want) {
			t.Errorf("config error comment lacks %q:\n%s", want, bad.Body)
		}
	}
	_, before := planwfPost(e, repo, b, "alice", "atoll plan")
	again := e.Wait(repo, b, before, "is not valid")
	if !strings.Contains(again.Body, "line 5") {
		t.Errorf("`atoll plan` with a broken atoll.yaml:\n%s", again.Body)
	}
	if got := planwfRunComments(e, repo, b); len(got) != 0 {
		t.Errorf("a plan ran with a broken atoll.yaml:\n%s", got[0].Body)
	}
	if runs := planwfCheckRuns(e, repo, bh); len(runs) != 0 {
		t.Errorf("check runs with a broken atoll.yaml: %+v", runs)
	}

	// Fixed, it plans.
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: "broken-config", Author: "alice",
		Files: map[string]*string{"atoll.yaml": S("version: 1\nprojects:\n  - dir: svc\n")}}); err != nil {
		t.Fatal(err)
	}
	e.Wait(repo, b, again.ID, planHeading, "**done**", "`terraform_data.x`")
}

// planwfCount counts the check runs named name.
func planwfCount(runs []testdrive.CheckRun, name string) int {
	n := 0
	for _, r := range runs {
		if r.Name == name {
			n++
		}
	}
	return n
}

// planwfAfter are atoll's comments on repo#n after id that contain sub.
func planwfAfter(e *Env, repo string, n int, id int64, sub string) []testdrive.Comment {
	e.t.Helper()
	var out []testdrive.Comment
	for _, c := range e.BotComments(repo, n) {
		if c.ID > id && strings.Contains(c.Body, sub) {
			out = append(out, c)
		}
	}
	return out
}

// planwfRunComments are atoll's plan run comments on repo#n (first parts).
func planwfRunComments(e *Env, repo string, n int) []testdrive.Comment {
	e.t.Helper()
	var out []testdrive.Comment
	for _, c := range e.BotComments(repo, n) {
		if strings.Contains(c.Body, planHeading) {
			out = append(out, c)
		}
	}
	return out
}

// planwfBarrier asks atoll for its version on repo#n and waits for the
// answer: webhooks sent before it have been received by then, so a test
// can check that they changed nothing.
func planwfBarrier(e *Env, repo string, n int) {
	e.t.Helper()
	ctx := e.Ctx()
	if err := e.C.Control.FlushDeliveries(ctx); err != nil {
		e.t.Fatal(err)
	}
	last := e.Comment(repo, n, "alice", "atoll version")
	e.Wait(repo, n, last, "built with go")
}

// planwfCheckRuns lists the check runs of a commit.
func planwfCheckRuns(e *Env, repo, sha string) []testdrive.CheckRun {
	e.t.Helper()
	runs, err := e.C.CheckRuns(e.Ctx(), repo, sha)
	if err != nil {
		e.t.Fatal(err)
	}
	return runs
}

// planwfChecks waits until the named check runs on sha are completed and
// checks their conclusions.
func planwfChecks(e *Env, repo, sha string, want map[string]string) {
	e.t.Helper()
	got := map[string]string{}
	e.Eventually("check runs completed on "+sha[:7], func() bool {
		runs, err := e.C.CheckRuns(e.Ctx(), repo, sha)
		if err != nil {
			return false
		}
		clear(got)
		for _, r := range runs {
			if r.Status == "completed" {
				got[r.Name] = r.Conclusion
			}
		}
		for name := range want {
			if _, ok := got[name]; !ok {
				return false
			}
		}
		return true
	})
	for name, c := range want {
		if got[name] != c {
			e.t.Errorf("check run %q on %s: conclusion %q, want %q", name, sha[:7], got[name], c)
		}
	}
}

// planwfPost comments as author and returns the new comment's id and the
// id of the newest comment before it.
func planwfPost(e *Env, repo string, n int, author, body string) (id, before int64) {
	e.t.Helper()
	ctx := e.Ctx()
	before = e.C.LastCommentID(ctx, repo, n)
	id, err := e.C.Control.Comment(ctx, emulator.Comment{Repo: repo, Number: n, Author: author, Body: body})
	if err != nil {
		e.t.Fatal(err)
	}
	return id, before
}

// planwfReactions are the reactions on a comment.
func planwfReactions(e *Env, repo string, id int64) []string {
	e.t.Helper()
	c, err := e.C.Control.GetComment(e.Ctx(), repo, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.Reactions
}
