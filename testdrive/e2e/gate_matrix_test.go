package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// The authorization matrix: who may get what applied, on every apply path.
// Each row is a pull request (or drift issue) of its own repository on one
// shared server and emulator, and asserts applied or refused, and the
// refusal's reason. The README's security model documents the same table.
//
// Users: alice (author, write), bob (other writer, write), rita (read),
// tom (triage), adam (admin), sec (write, member of acme/security, the
// owner of the policy set `strict`), carol (write, code owner of /owned/),
// sam (write, member of acme/sre), mallory (a fork's owner, read).

// matrixPerms are every row's repository permissions.
var matrixPerms = map[string]string{"alice": "write", "bob": "write", "rita": "read", "tom": "triage",
	"adam": "admin", "sec": "write", "carol": "write", "sam": "write"}

// matrixRow is one row: the dimensions it covers, the pull request it
// plays, and the outcome.
type matrixRow struct {
	name string
	// The dimensions, as the README's table shows them.
	path      string // comment, after_merge, retry
	perm      string // the permission of the person the row is about
	role      string // author, other writer, policy owner, code owner
	fork      bool
	newCommit bool // the author pushes after the approvals
	rename    bool // the pull request renames the base's project
	// The pull request: its project dir (app; owned, of code owner carol;
	// prod, judged by `strict`), whether it is public (fails `strict`).
	dir     string
	public  bool
	author  string
	reviews []string // approving reviews, before the merge for after_merge
	// policy: who comments `atoll approve_policies`, and what they hear.
	policy, policyWant string
	// retryReviews are approving reviews after the merge (retry path,
	// where `atoll approve_policies` comes after the merge too).
	retryReviews []string
	applier      string // who comments `atoll apply`
	// want is "applied", or what the refusal says.
	want string
}

var matrixRows = []matrixRow{
	{name: "writer approves", path: "comment", perm: "write", role: "other writer", dir: "app", author: "alice", reviews: []string{"bob"}, applier: "alice", want: "applied"},
	{name: "reader approves", path: "comment", perm: "read", role: "other writer", dir: "app", author: "alice", reviews: []string{"rita"}, applier: "alice", want: "`approved`: 0 of 1"},
	{name: "triager approves", path: "comment", perm: "triage", role: "other writer", dir: "app", author: "alice", reviews: []string{"tom"}, applier: "alice", want: "`approved`: 0 of 1"},
	{name: "admin approves and applies", path: "comment", perm: "admin", role: "other writer", dir: "app", author: "alice", reviews: []string{"adam"}, applier: "adam", want: "applied"},
	{name: "reader applies", path: "comment", perm: "read", role: "other writer", dir: "app", author: "alice", reviews: []string{"bob"}, applier: "rita", want: "may not run `atoll apply`"},
	{name: "triager applies", path: "comment", perm: "triage", role: "other writer", dir: "app", author: "alice", reviews: []string{"bob"}, applier: "tom", want: "may not run `atoll apply`"},
	{name: "author approves own policy failure", path: "comment", perm: "write", role: "author", dir: "prod", public: true, author: "sec", reviews: []string{"bob"},
		policy: "sec", policyWant: "cannot approve its own policy failures", applier: "sec", want: "policy set `strict` failed"},
	{name: "policy owner approves", path: "comment", perm: "write", role: "policy owner", dir: "prod", public: true, author: "alice", reviews: []string{"bob"},
		policy: "sec", policyWant: "Approved the failing policy sets", applier: "alice", want: "applied"},
	{name: "policy failure without owner", path: "comment", perm: "write", role: "policy owner", dir: "prod", public: true, author: "alice", reviews: []string{"bob"},
		policy: "bob", policyWant: "is not an owner of", applier: "alice", want: "policy set `strict` failed"},
	{name: "code owner missing", path: "comment", perm: "write", role: "code owner", dir: "owned", author: "alice", reviews: []string{"bob"}, applier: "alice", want: "`code_owners`: no approval by a code owner of `/owned/`"},
	{name: "code owner approves", path: "comment", perm: "write", role: "code owner", dir: "owned", author: "alice", reviews: []string{"carol"}, applier: "alice", want: "applied"},
	{name: "new commit after approval", path: "comment", perm: "write", role: "other writer", newCommit: true, dir: "app", author: "alice", reviews: []string{"bob"}, applier: "alice", want: "`approved`: 0 of 1 approving reviews by writers other than the author of the planned commit"},
	{name: "renamed project", path: "comment", perm: "write", role: "other writer", rename: true, dir: "prod", author: "alice", reviews: []string{"bob"}, applier: "alice", want: "rule of project `prod` of atoll.yaml on the base branch"},
	{name: "renamed project, base reviewer", path: "comment", perm: "write", role: "other writer", rename: true, dir: "prod", author: "alice", reviews: []string{"sam"}, applier: "alice", want: "applied"},
	{name: "fork", path: "comment", perm: "read", role: "author", fork: true, dir: "app", author: "mallory", reviews: []string{"bob"}, applier: "alice", want: "fork"},

	{name: "merged approved", path: "after_merge", perm: "write", role: "other writer", dir: "app", author: "alice", reviews: []string{"bob"}, want: "applied"},
	{name: "merged unreviewed", path: "after_merge", perm: "write", role: "author", dir: "app", author: "alice", want: "`approved`: 0 of 1"},
	{name: "merged by reader's approval", path: "after_merge", perm: "read", role: "other writer", dir: "app", author: "alice", reviews: []string{"rita"}, want: "`approved`: 0 of 1"},
	{name: "merged after a new commit", path: "after_merge", perm: "write", role: "other writer", newCommit: true, dir: "app", author: "alice", reviews: []string{"bob"}, want: "`approved`: 0 of 1"},
	{name: "merged renamed", path: "after_merge", perm: "write", role: "other writer", rename: true, dir: "prod", author: "alice", reviews: []string{"bob"}, want: "`required_reviewers`: 0 of 1 approvals from @acme/sre"},
	{name: "merged without code owner", path: "after_merge", perm: "write", role: "code owner", dir: "owned", author: "alice", reviews: []string{"bob"}, want: "`code_owners`"},
	{name: "merged policy failure", path: "after_merge", perm: "write", role: "policy owner", dir: "prod", public: true, author: "alice", reviews: []string{"bob"}, want: "policy set `strict` failed"},

	{name: "retry after approval", path: "retry", perm: "write", role: "other writer", dir: "app", author: "alice", retryReviews: []string{"bob"}, applier: "alice", want: "applied"},
	{name: "retry after reader's approval", path: "retry", perm: "read", role: "other writer", dir: "app", author: "alice", retryReviews: []string{"rita"}, applier: "alice", want: "`approved`: 0 of 1"},
	{name: "retry by triager", path: "retry", perm: "triage", role: "other writer", dir: "app", author: "alice", retryReviews: []string{"bob"}, applier: "tom", want: "may not run `atoll apply`"},
	{name: "retry after code owner", path: "retry", perm: "write", role: "code owner", dir: "owned", author: "alice", retryReviews: []string{"carol"}, applier: "alice", want: "applied"},
	{name: "retry after policy owner", path: "retry", perm: "write", role: "policy owner", dir: "prod", public: true, author: "alice", reviews: []string{"bob"},
		policy: "sec", policyWant: "Approved the failing policy sets", applier: "alice", want: "applied"},
}

func TestGateAuthorizationMatrix(t *testing.T) {
	strict := policyDir(t, map[string]string{"public.rego": policyPublic})
	e := Start(t, Options{ServerConfig: fmt.Sprintf(`
apply_mode: both
code_owners: true
policy_sets:
  - name: strict
    path: %s
    owners: [acme/security]
    projects: ["prod"]
`, strict)})
	gateTeam(e, "security", "sec")
	gateTeam(e, "sre", "sam")
	for i, row := range matrixRows {
		t.Run(row.name, func(t *testing.T) { matrixPlay(t, e.on(t), i, row) })
	}
	t.Run("remediation", func(t *testing.T) { matrixRemediation(t, e.on(t)) })
}

// on points e's helpers at subtest t (they fail the test they run in),
// back to the parent when t ends. Subtests using it run one at a time.
func (e *Env) on(t *testing.T) *Env {
	parent := e.t
	e.t = t
	t.Cleanup(func() { e.t = parent })
	return e
}

// matrixBase is the base atoll.yaml of rename rows: prod requires acme/sre.
const matrixBase = "version: 1\nprojects:\n  - name: prod\n    dir: prod\n    required_reviewers:\n      - teams: [acme/sre]\n"

func matrixPlay(t *testing.T, e *Env, i int, row matrixRow) {
	key := fmt.Sprintf("m%02d", i)
	files := map[string]string{".github/CODEOWNERS": "/owned/ @carol\n", row.dir + "/main.tf": e.Backend(key)}
	if row.rename {
		files["atoll.yaml"] = matrixBase
	}
	repo := e.Repo(key, files, matrixPerms)
	ctx := e.Ctx()
	input := "private"
	if row.public {
		input = "public"
	}
	change := map[string]*string{row.dir + "/main.tf": S(strings.Replace(applyTF(e, key, "x"), `input = "x"`, `input = "`+input+`"`, 1))}
	if row.rename {
		change["atoll.yaml"] = S("version: 1\nprojects:\n  - name: prod-renamed\n    dir: prod\n")
	}
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: "change", Author: row.author, Message: "change", Files: change}); err != nil {
		t.Fatal(err)
	}
	pr := emulator.OpenPR{Repo: repo, Head: "change", Title: "change", Author: row.author}
	if row.fork {
		pr.Fork = row.author
	}
	n, err := e.C.Control.OpenPR(ctx, pr)
	if err != nil {
		t.Fatal(err)
	}
	if row.fork {
		// A writer asks for a plan of the fork.
		last := e.Comment(repo, n, "alice", "atoll plan")
		e.WaitMatch(repo, n, last, func(b string) bool { return !isRunningRun(b) })
	} else {
		e.WaitMatch(repo, n, 0, func(b string) bool { return strings.Contains(b, "**done**") })
	}
	review := func(users []string) {
		for _, u := range users {
			if _, err := e.C.Control.Review(ctx, reviewOf(repo, n, u)); err != nil {
				t.Fatal(err)
			}
		}
	}
	review(row.reviews)
	approvePolicies := func() {
		if row.policy != "" {
			last := e.Comment(repo, n, row.policy, "atoll approve_policies")
			e.Wait(repo, n, last, row.policyWant)
		}
	}
	if row.path != "retry" {
		approvePolicies()
	}
	if row.newCommit {
		last := e.C.LastCommentID(ctx, repo, n)
		if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: "change", Author: row.author, Message: "more",
			Files: map[string]*string{"README.md": S("more\n"), row.dir + "/main.tf": change[row.dir+"/main.tf"]}}); err != nil {
			t.Fatal(err)
		}
		e.WaitMatch(repo, n, last, func(b string) bool { return strings.Contains(b, "**done**") })
	}
	var body string
	switch row.path {
	case "comment":
		last := e.Comment(repo, n, row.applier, "atoll apply")
		body = matrixOutcome(e, repo, n, last, row.want)
	case "after_merge", "retry":
		last := e.C.LastCommentID(ctx, repo, n)
		if _, err := e.C.Control.Merge(ctx, emulator.Merge{Repo: repo, Number: n, Author: "adam"}); err != nil {
			t.Fatal(err)
		}
		if row.path == "after_merge" {
			body = matrixOutcome(e, repo, n, last, row.want)
			break
		}
		// The merge is refused first; approvals arrive on the merged pull
		// request, then someone comments `atoll apply`.
		e.Wait(repo, n, last, "Apply refused", "This pull request is merged")
		review(row.retryReviews)
		approvePolicies()
		last = e.Comment(repo, n, row.applier, "atoll apply")
		body = matrixOutcome(e, repo, n, last, row.want)
	}
	applied := len(applyLines(t, applyCountFile(e, key)))
	if row.want == "applied" {
		if applied != 1 {
			t.Fatalf("applied %d times, want once; last answer:\n%s", applied, body)
		}
		return
	}
	if applied != 0 {
		t.Fatalf("applied %d times, want refused (%q); last answer:\n%s", applied, row.want, body)
	}
	if row.fork { // the refusal of the plan or of the apply says why
		var all []string
		for _, c := range e.BotComments(repo, n) {
			all = append(all, c.Body)
		}
		body = strings.Join(all, "\n---\n")
	}
	if !strings.Contains(body, row.want) {
		t.Fatalf("the refusal does not say %q:\n%s", row.want, body)
	}
}

// matrixOutcome waits for atoll's answer to an apply: the expected words,
// an apply, or a refusal, and returns it.
func matrixOutcome(e *Env, repo string, n int, after int64, want string) string {
	e.t.Helper()
	return e.WaitMatch(repo, n, after, func(b string) bool {
		if isRunningRun(b) {
			return false
		}
		for _, s := range []string{want, "Apply complete!", "Apply refused", "may not run", "fork", "no plan to apply"} {
			if s != "applied" && strings.Contains(b, s) {
				return true
			}
		}
		return false
	}).Body
}

// matrixRemediation plays the remediation path on a drift issue, step by
// step: each step is a row of the README's table.
func matrixRemediation(t *testing.T, e *Env) {
	file := filepath.Join(e.Dir, "remedy-out.txt")
	repo := e.Repo("remedy", map[string]string{"app/main.tf": localFilesTF(e, "remedy", [2]string{"out", file})}, matrixPerms)
	dr := e.driftRun(repo, "app")
	if st, _ := driftStatus(t, dr, "app"); st != "drifted" { // the file does not exist yet
		t.Fatalf("drift status %q", st)
	}
	_, issue := driftStatus(t, dr, "app")
	steps := []struct {
		who, cmd, want string
	}{
		{"alice", "atoll apply", "no plan is shown on this issue"},
		{"alice", "atoll plan", "Plan: 1 to add"},
		{"alice", "atoll apply", "no approval by a second person with the apply permission"},
		{"alice", "atoll approve", "approved the remediation plan"},
		{"alice", "atoll apply", "no approval by a second person with the apply permission"},
		{"rita", "atoll approve", "may not run `atoll approve`"},
		{"tom", "atoll apply", "may not run `atoll apply`"},
		{"bob", "atoll approve", "approved the remediation plan"},
		{"adam", "atoll apply", "Apply complete!"},
	}
	for i, s := range steps {
		last := e.Comment(repo, issue, s.who, s.cmd)
		cm := e.WaitMatch(repo, issue, last, func(b string) bool {
			return !isRunningRun(b) && (strings.Contains(b, s.want) || strings.Contains(b, "Apply refused") || strings.Contains(b, "Apply complete!") || strings.Contains(b, "may not run"))
		})
		if !strings.Contains(cm.Body, s.want) {
			t.Fatalf("step %d (%s: %s): answer lacks %q:\n%s", i, s.who, s.cmd, s.want, cm.Body)
		}
		if _, err := os.Stat(file); (err == nil) != (s.want == "Apply complete!") {
			t.Fatalf("step %d (%s: %s): the remediation wrote the file: %v", i, s.who, s.cmd, err == nil)
		}
	}
}
