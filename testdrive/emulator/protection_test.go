package emulator

import (
	"context"
	"net/http"
	"testing"
)

// mergeable_state follows the base branch's protection as GitHub's does:
// blocked while required reviews or required checks are missing, unstable
// when a check that is not required fails, clean otherwise. The branch
// and its required status checks are served as GitHub serves them (every
// response is validated against the OpenAPI description by the harness).
func TestMergeableStateFollowsProtection(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, head := setupRepo(t, e, false)
	gh := e.instClient(false, e.installationID("acme", "infra"))
	state := func(want string) {
		t.Helper()
		pr, _, err := gh.PullRequests.Get(ctx, "acme", "infra", 1)
		if err != nil || pr.GetMergeableState() != want {
			t.Fatalf("mergeable_state = %q (%v), want %q", pr.GetMergeableState(), err, want)
		}
	}
	state("clean")
	_, resp, err := gh.Repositories.GetRequiredStatusChecks(ctx, "acme", "infra", "main")
	if err == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("required checks of an unprotected branch: %v", err)
	}
	if err := e.ctl.ProtectBranch(ctx, BranchProtection{Repo: "acme/infra", Branch: "main",
		RequiredChecks: []string{"ci", "atoll/plan: infra"}, RequiredApprovals: 1}); err != nil {
		t.Fatal(err)
	}
	rsc, _, err := gh.Repositories.GetRequiredStatusChecks(ctx, "acme", "infra", "main")
	if err != nil || rsc.Contexts == nil || len(*rsc.Contexts) != 2 {
		t.Fatalf("required checks: %v %v", rsc, err)
	}
	br, _, err := gh.Repositories.GetBranch(ctx, "acme", "infra", "main", 0)
	if err != nil || !br.GetProtected() {
		t.Fatalf("protected branch: %v %v", br, err)
	}
	state("blocked") // no review, no check
	if err := e.ctl.SetPermission(ctx, "acme/infra", "bob", "write"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.Review(ctx, Review{Repo: "acme/infra", Number: 1, Author: "bob", State: "APPROVED"}); err != nil {
		t.Fatal(err)
	}
	state("blocked") // required checks missing
	for _, name := range []string{"ci", "atoll/plan: infra"} {
		if err := e.ctl.ExternalCheck(ctx, ExternalCheck{Repo: "acme/infra", Name: name, HeadSHA: head, Status: "completed", Conclusion: "success"}); err != nil {
			t.Fatal(err)
		}
	}
	state("clean")
	if err := e.ctl.ExternalCheck(ctx, ExternalCheck{Repo: "acme/infra", Name: "lint", HeadSHA: head, Status: "completed", Conclusion: "failure"}); err != nil {
		t.Fatal(err)
	}
	state("unstable")
	if err := e.ctl.ExternalCheck(ctx, ExternalCheck{Repo: "acme/infra", Name: "ci", HeadSHA: head, Status: "in_progress"}); err != nil {
		t.Fatal(err)
	}
	state("blocked") // the latest "ci" is not done
}
