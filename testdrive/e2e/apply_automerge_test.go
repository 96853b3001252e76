package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// Server rules an atoll.yaml can relax or not, stale approvals and plans,
// mergeable, and automerge with its method.
func TestApplyAutomergeAndStaleness(t *testing.T) {
	e := Start(t, Options{ServerConfig: `
apply_requirements: [approved, mergeable]
dismiss_stale_approvals: true
repo_may_relax: [approved]
automerge: {enabled: true, method: squash}
`})
	perms := map[string]string{"alice": "write", "bob": "write"}
	ctx := e.Ctx()

	// An atoll.yaml may remove what repo_may_relax lists...
	relaxed := e.Repo("relaxed", map[string]string{
		"atoll.yaml":  "version: 1\napply_requirements: [\"!approved\"]\n",
		"app/main.tf": e.Backend("relaxed"),
	}, perms)
	r := e.PR(relaxed, "add", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "relaxed", "v1"))})
	e.Wait(relaxed, r, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	last := e.Comment(relaxed, r, "alice", "atoll apply")
	e.Wait(relaxed, r, last, "Apply complete!", "**done**")
	applyWaitMerged(e, relaxed, r)

	// ...and nothing else.
	strict := e.Repo("norelax", map[string]string{"atoll.yaml": "version: 1\napply_requirements: [\"!mergeable\"]\n",
		"app/main.tf": e.Backend("norelax")}, perms)
	s := e.PR(strict, "add", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "norelax", "v1"))})
	e.Wait(strict, s, 0, "repo_may_relax", "mergeable")

	// A PR cannot relax its own requirements: atoll.yaml counts as on the
	// base branch.
	const gap = "\n\n\n\n\n\n"
	base := e.Backend("app") + "# owner: nobody" + gap
	repo := e.Repo("strict", map[string]string{"app/main.tf": base}, perms)
	n := e.PR(repo, "change", "alice", map[string]*string{
		"atoll.yaml":  S("version: 1\napply_requirements: [\"!approved\"]\n"),
		"app/main.tf": S(e.Backend("app") + "# owner: alice" + gap + applyTF(e, "app", "v1")[len(e.Backend("app")):]),
	})
	e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm := e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`approved`")

	// main changes the same line: the PR no longer merges, and its plan
	// was made on an older main.
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Author: "bob", Message: "owner",
		Files: map[string]*string{"app/main.tf": S(e.Backend("app") + "# owner: platform" + gap)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.C.Control.Review(ctx, reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`mergeable`", "conflicts", "`plan`")
	applyNot(t, cm.Body, "`approved`")

	// The author resolves the conflict and changes the resource: a new
	// plan, and the approval of the old head no longer counts.
	last = e.C.LastCommentID(ctx, repo, n)
	head, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: "change", Author: "alice", Message: "resolve",
		Files: map[string]*string{"app/main.tf": S(e.Backend("app") + "# owner: platform" + gap + applyTF(e, "app", "v2")[len(e.Backend("app")):])}})
	if err != nil {
		t.Fatal(err)
	}
	e.Wait(repo, n, last, "### atoll plan", head[:7], "Plan: 1 to add, 0 to change, 0 to destroy.")
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "Apply refused")
	applyWant(t, cm.Body, "`approved`")
	applyNot(t, cm.Body, "`mergeable`", "`plan`")

	// Approved again: the new plan is applied, and the PR is merged.
	if _, err := e.C.Control.Review(ctx, reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, n, "alice", "atoll apply")
	e.Wait(repo, n, last, "Apply complete!", "**done**")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 || got[0] != "v2" {
		t.Fatalf("applied %q, want the new plan once: [v2]", got)
	}
	applyWaitMerged(e, repo, n)
	pr, err := e.C.PullRequest(ctx, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	br, _, err := e.C.REST.Repositories.GetBranch(ctx, Org, "strict", "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	if br.GetCommit().GetSHA() != pr.GetMergeCommitSHA() {
		t.Fatalf("main is at %s, not at the merge commit %s", br.GetCommit().GetSHA(), pr.GetMergeCommitSHA())
	}
	if ps := br.GetCommit().Parents; len(ps) != 1 || !strings.Contains(br.GetCommit().GetCommit().GetMessage(), fmt.Sprintf("(#%d)", n)) {
		t.Errorf("automerge did not squash: main's head has %d parents, message %q", len(ps), br.GetCommit().GetCommit().GetMessage())
	}
}

// applyWaitMerged waits until repo#n is merged.
func applyWaitMerged(e *Env, repo string, n int) {
	e.t.Helper()
	e.Eventually(fmt.Sprintf("%s#%d merged", repo, n), func() bool {
		pr, err := e.C.PullRequest(e.Ctx(), repo, n)
		return err == nil && pr.GetMerged()
	})
}
