package emulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// setupRepo creates acme/infra with a main.tf, a feature branch with a
// change, and an open pull request #1 from alice.
func setupRepo(t *testing.T, e *env, private bool) (RepoInfo, string) {
	t.Helper()
	ctx := context.Background()
	info, err := e.ctl.CreateRepo(ctx, CreateRepo{Owner: "acme", Name: "infra", Private: private,
		Files: map[string]string{"main.tf": "resource \"terraform_data\" \"a\" {}\n", "modules/x/x.tf": "# x\n"}})
	if err != nil {
		t.Fatal(err)
	}
	sha, err := e.ctl.Commit(ctx, Commit{Repo: "acme/infra", Branch: "feature", Author: "alice", Message: "change",
		Files: map[string]*string{"main.tf": strp("resource \"terraform_data\" \"b\" {}\n"), "new.tf": strp("# new\n")}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.ctl.OpenPR(ctx, OpenPR{Repo: "acme/infra", Head: "feature", Title: "Add b", Author: "alice", Body: "please"})
	if err != nil || n != 1 {
		t.Fatalf("open PR: %d %v", n, err)
	}
	return info, sha
}

func TestPullRequestFlow(t *testing.T) {
	for _, ghe := range []bool{false, true} {
		name := "github.com"
		if ghe {
			name = "enterprise"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			info, head := setupRepo(t, e, true)
			gh := e.instClient(ghe, e.installationID("acme", "infra"))

			pr, _, err := gh.PullRequests.Get(ctx, "acme", "infra", 1)
			if err != nil {
				t.Fatal(err)
			}
			if pr.GetHead().GetSHA() != head || pr.GetBase().GetSHA() != info.HeadSHA || !pr.GetMergeable() || pr.GetMergeableState() != "clean" {
				t.Errorf("PR head %s base %s mergeable %v %s", pr.GetHead().GetSHA(), pr.GetBase().GetSHA(), pr.GetMergeable(), pr.GetMergeableState())
			}
			if pr.GetUser().GetLogin() != "alice" || pr.GetChangedFiles() != 2 || pr.GetCommits() != 1 {
				t.Errorf("PR user %s changed %d commits %d", pr.GetUser().GetLogin(), pr.GetChangedFiles(), pr.GetCommits())
			}
			open, _, err := gh.PullRequests.List(ctx, "acme", "infra", &github.PullRequestListOptions{State: "open"})
			if err != nil || len(open) != 1 {
				t.Fatalf("list open: %d %v", len(open), err)
			}
			files, _, err := gh.PullRequests.ListFiles(ctx, "acme", "infra", 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range files {
				got[f.GetFilename()] = f.GetStatus()
			}
			if got["main.tf"] != "modified" || got["new.tf"] != "added" || len(got) != 2 {
				t.Errorf("files %v", got)
			}

			if _, err := e.ctl.Review(ctx, Review{Repo: "acme/infra", Number: 1, Author: "bob", State: "APPROVED"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.ctl.Review(ctx, Review{Repo: "acme/infra", Number: 1, Author: "alice", State: "APPROVED"}); err == nil {
				t.Error("the author approved her own pull request")
			}
			reviews, _, err := gh.PullRequests.ListReviews(ctx, "acme", "infra", 1, nil)
			if err != nil || len(reviews) != 1 || reviews[0].GetState() != "APPROVED" || reviews[0].GetCommitID() != head {
				t.Fatalf("reviews %v %v", reviews, err)
			}
			if err := e.ctl.DismissReview(ctx, DismissReview{Repo: "acme/infra", Number: 1, ID: reviews[0].GetID(), Author: "alice"}); err != nil {
				t.Fatal(err)
			}
			if err := e.ctl.DismissReview(ctx, DismissReview{Repo: "acme/infra", Number: 1, ID: reviews[0].GetID(), Author: "alice"}); err == nil {
				t.Error("a dismissed review was dismissed again")
			}
			reviews, _, err = gh.PullRequests.ListReviews(ctx, "acme", "infra", 1, nil)
			if err != nil || len(reviews) != 1 || reviews[0].GetState() != "DISMISSED" {
				t.Fatalf("reviews after dismissal %v %v", reviews, err)
			}

			// sha guard: 409 when the head moved.
			_, resp, err := gh.PullRequests.Merge(ctx, "acme", "infra", 1, "", &github.PullRequestOptions{SHA: info.HeadSHA, MergeMethod: "merge"})
			if err == nil || resp.StatusCode != http.StatusConflict {
				t.Fatalf("merge with a stale sha: %v", err)
			}
			res, _, err := gh.PullRequests.Merge(ctx, "acme", "infra", 1, "", &github.PullRequestOptions{SHA: head, MergeMethod: "merge"})
			if err != nil || !res.GetMerged() || len(res.GetSHA()) != 40 {
				t.Fatalf("merge: %v %v", res, err)
			}
			pr, _, err = gh.PullRequests.Get(ctx, "acme", "infra", 1)
			if err != nil || !pr.GetMerged() || pr.GetMergeCommitSHA() != res.GetSHA() || pr.GetState() != "closed" {
				t.Fatalf("merged PR: %v %v", pr, err)
			}
			br, _, err := gh.Repositories.GetBranch(ctx, "acme", "infra", "main", 0)
			if err != nil || br.GetCommit().GetSHA() != res.GetSHA() || len(br.GetCommit().Parents) != 2 {
				t.Fatalf("main after merge: %v %v", br, err)
			}
			_, resp, err = gh.PullRequests.Merge(ctx, "acme", "infra", 1, "", nil)
			if err == nil || resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("merging a merged PR: %v", err)
			}
			e.flush()
		})
	}
}

func TestMergeConflict(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, false)
	if _, err := e.ctl.Commit(ctx, Commit{Repo: "acme/infra", Author: "carol", Files: map[string]*string{"main.tf": strp("# conflicting\n")}}); err != nil {
		t.Fatal(err)
	}
	gh := e.instClient(false, e.installationID("acme", "infra"))
	pr, _, err := gh.PullRequests.Get(ctx, "acme", "infra", 1)
	if err != nil || pr.Mergeable == nil || pr.GetMergeable() || pr.GetMergeableState() != "dirty" {
		t.Fatalf("conflicting PR: mergeable %v state %s err %v", pr.Mergeable, pr.GetMergeableState(), err)
	}
	_, resp, err := gh.PullRequests.Merge(ctx, "acme", "infra", 1, "", nil)
	if err == nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("merge of a conflicting PR: %v", err)
	}
	// A base that moved without conflict makes the PR "behind" when branch
	// protection requires up-to-date branches.
	if err := e.ctl.ProtectBranch(ctx, BranchProtection{Repo: "acme/infra", Branch: "main", Strict: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.Commit(ctx, Commit{Repo: "acme/infra", Branch: "feature", Author: "alice", Files: map[string]*string{"main.tf": strp("# conflicting\n")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.Commit(ctx, Commit{Repo: "acme/infra", Author: "carol", Files: map[string]*string{"other.tf": strp("# other\n")}}); err != nil {
		t.Fatal(err)
	}
	pr, _, err = gh.PullRequests.Get(ctx, "acme", "infra", 1)
	if err != nil || !pr.GetMergeable() || pr.GetMergeableState() != "behind" {
		t.Fatalf("behind PR: %v %s %v", pr.GetMergeable(), pr.GetMergeableState(), err)
	}
	sha, err := e.ctl.Merge(ctx, Merge{Repo: "acme/infra", Number: 1, Author: "bob", Method: "squash"})
	if err != nil || len(sha) != 40 {
		t.Fatalf("control merge: %q %v", sha, err)
	}
	c, _, _, err := gh.Repositories.GetContents(ctx, "acme", "infra", "other.tf", &github.RepositoryContentGetOptions{Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := c.GetContent(); s != "# other\n" {
		t.Errorf("other.tf = %q", s)
	}
}

func TestPullRequestFilesPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.ctl.CreateRepo(ctx, CreateRepo{Owner: "acme", Name: "big"}); err != nil {
		t.Fatal(err)
	}
	files := map[string]*string{}
	for i := 0; i < 3005; i++ {
		files["f/"+strings.Repeat("x", i%7)+itoa(int64(i))+".tf"] = strp("#\n")
	}
	if _, err := e.ctl.Commit(ctx, Commit{Repo: "acme/big", Branch: "many", Author: "alice", Files: files}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.OpenPR(ctx, OpenPR{Repo: "acme/big", Head: "many", Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	gh := e.instClient(false, e.installationID("acme", "big"))
	opts := &github.ListOptions{PerPage: 100}
	total, pages := 0, 0
	for {
		fs, resp, err := gh.PullRequests.ListFiles(ctx, "acme", "big", 1, opts)
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 && resp.LastPage != 30 {
			t.Errorf("last page %d, want 30", resp.LastPage)
		}
		total += len(fs)
		pages++
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if total != maxPRFiles || pages != 30 {
		t.Errorf("listed %d files in %d pages, want 3000 in 30", total, pages)
	}
	_, resp, err := gh.PullRequests.ListFiles(ctx, "acme", "big", 1, &github.ListOptions{PerPage: 500})
	if err != nil || resp.LastPage != 30 {
		t.Errorf("per_page above 100 is capped: last %d %v", resp.LastPage, err)
	}
	var ge *github.ErrorResponse
	if _, _, err := gh.PullRequests.ListFiles(ctx, "acme", "big", 99, nil); !errors.As(err, &ge) || ge.Response.StatusCode != 404 {
		t.Errorf("files of a missing PR: %v", err)
	}
}
