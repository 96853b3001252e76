package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/atollhq/atoll/vcs"
)

func prJSON(number int, merged bool) map[string]any {
	return map[string]any{
		"number": number, "title": "Add VPC", "state": "open", "draft": false, "merged": merged,
		"html_url":         fmt.Sprintf("https://github.com/octo/infra/pull/%d", number),
		"user":             map[string]any{"login": "alice", "type": "User"},
		"head":             map[string]any{"sha": "aaa", "ref": "feature", "repo": map[string]any{"full_name": "alice/infra"}},
		"base":             map[string]any{"sha": "bbb", "ref": "main", "repo": map[string]any{"name": "infra", "full_name": "octo/infra", "owner": map[string]any{"login": "octo"}, "default_branch": "main"}},
		"merge_commit_sha": "ccc", "mergeable": true, "mergeable_state": "clean",
		"labels":     []map[string]any{{"name": "infra"}},
		"updated_at": "2024-05-01T10:00:00Z",
	}
}

func TestGetPullRequest(t *testing.T) {
	c, f := setup(t)
	f.handle("GET /repos/octo/infra/pulls/7", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, prJSON(7, false))
	})
	f.handle("GET /repos/octo/infra/pulls/8", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]string{"message": "Not Found"})
	})
	pr, err := c.GetPullRequest(context.Background(), testRepo, 7)
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	want := vcs.PullRequest{
		Repo:   vcs.Repo{Owner: "octo", Name: "infra", DefaultBranch: "main", InstallationID: 42},
		Number: 7, Title: "Add VPC", Author: "alice", State: "open", HTMLURL: "https://github.com/octo/infra/pull/7",
		HeadSHA: "aaa", HeadRef: "feature", HeadRepo: "alice/infra", BaseSHA: "bbb", BaseRef: "main",
		Mergeable: &yes, MergeableState: "clean", Labels: []string{"infra"},
		UpdatedAt: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC),
	}
	if got, _ := json.Marshal(pr); string(got) != mustJSON(t, want) {
		t.Errorf("GetPullRequest() =\n%s\nwant\n%s", got, mustJSON(t, want))
	}
	if !pr.Fork() {
		t.Error("a PR from alice/infra should be a fork")
	}
	_, err = c.GetPullRequest(context.Background(), testRepo, 8)
	if !errors.Is(err, vcs.ErrNotFound) {
		t.Errorf("missing PR: error = %v, want vcs.ErrNotFound", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestListOpenPullRequestsPaginates(t *testing.T) {
	c, f := setup(t)
	f.handle("GET /repos/octo/infra/pulls", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != "open" || q.Get("per_page") != "100" {
			t.Errorf("query = %v", q)
		}
		page, _ := strconv.Atoi(q.Get("page"))
		if page < 3 {
			w.Header().Set("Link", fmt.Sprintf(`<%s/repos/octo/infra/pulls?state=open&per_page=100&page=%d>; rel="next"`, f.srv.URL, page+1))
		}
		writeJSON(w, 200, []any{prJSON(page, false)})
	})
	prs, err := c.ListOpenPullRequests(context.Background(), testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if len(prs) != 3 || prs[2].Number != 3 || prs[0].Repo.InstallationID != 42 {
		t.Fatalf("ListOpenPullRequests() = %+v", prs)
	}
}

// filesServer serves n files for PR 1, 100 a page, capped at 3000 like
// GitHub, and says the PR changes n files.
func filesServer(t *testing.T, f *fakeGitHub, n int) {
	f.handle("GET /repos/octo/infra/pulls/1/files", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		listed := min(n, maxPRFiles)
		var files []map[string]any
		for i := (page - 1) * 100; i < min(page*100, listed); i++ {
			f := map[string]any{"filename": fmt.Sprintf("dir%d/main.tf", i), "status": "modified"}
			if i == 0 {
				f["status"], f["previous_filename"] = "renamed", "old/main.tf"
			}
			files = append(files, f)
		}
		if page*100 < listed {
			w.Header().Set("Link", fmt.Sprintf(`<%s/repos/octo/infra/pulls/1/files?per_page=100&page=%d>; rel="next"`, f.srv.URL, page+1))
		}
		writeJSON(w, 200, files)
	})
	f.handle("GET /repos/octo/infra/pulls/1", func(w http.ResponseWriter, r *http.Request) {
		pr := prJSON(1, false)
		pr["changed_files"] = n
		writeJSON(w, 200, pr)
	})
}

func TestListPullRequestFiles(t *testing.T) {
	tests := []struct {
		files        int
		wantListed   int
		wantComplete bool
	}{
		{files: 3, wantListed: 4, wantComplete: true},
		{files: 250, wantListed: 251, wantComplete: true},
		{files: 3000, wantListed: 3001, wantComplete: true},
		{files: 3001, wantListed: 3001, wantComplete: false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.files), func(t *testing.T) {
			c, f := setup(t)
			filesServer(t, f, tt.files)
			files, complete, err := c.ListPullRequestFiles(context.Background(), testRepo, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != tt.wantListed || complete != tt.wantComplete {
				t.Errorf("got %d files, complete=%v; want %d, %v", len(files), complete, tt.wantListed, tt.wantComplete)
			}
			if files[0] != "old/main.tf" || files[1] != "dir0/main.tf" {
				t.Errorf("a rename should give both paths, got %v", files[:2])
			}
		})
	}
}

func TestMergePullRequest(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    map[string]any
		wantSHA string
		wantErr error
	}{
		{"merged", 200, map[string]any{"merged": true, "sha": "mmm", "message": "Pull Request successfully merged"}, "mmm", nil},
		{"not mergeable", 405, map[string]any{"message": "Pull Request is not mergeable"}, "", ErrNotMergeable},
		{"head changed", 409, map[string]any{"message": "Head branch was modified"}, "", ErrHeadChanged},
		{"missing", 404, map[string]any{"message": "Not Found"}, "", vcs.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := setup(t)
			f.handle("PUT /repos/octo/infra/pulls/3/merge", func(w http.ResponseWriter, r *http.Request) {
				var in map[string]string
				_ = json.NewDecoder(r.Body).Decode(&in)
				if in["merge_method"] != "squash" || in["sha"] != "aaa" {
					t.Errorf("request = %v", in)
				}
				writeJSON(w, tt.status, tt.body)
			})
			sha, err := c.MergePullRequest(context.Background(), testRepo, 3, "squash", "aaa")
			if sha != tt.wantSHA || (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("MergePullRequest() = %q, %v; want %q, %v", sha, err, tt.wantSHA, tt.wantErr)
			}
		})
	}
}

func TestListReviews(t *testing.T) {
	c, f := setup(t)
	f.handle("GET /repos/octo/infra/pulls/3/reviews", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []map[string]any{
			{"id": 1, "user": map[string]any{"login": "bob"}, "state": "CHANGES_REQUESTED", "commit_id": "aaa", "submitted_at": "2024-05-01T10:00:00Z"},
			{"id": 2, "user": map[string]any{"login": "bob"}, "state": "approved", "commit_id": "aaa", "submitted_at": "2024-05-01T11:00:00Z"},
		})
	})
	rs, err := c.ListReviews(context.Background(), testRepo, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].State != vcs.ReviewChangesRequested || rs[1].State != vcs.ReviewApproved || rs[1].User != "bob" || rs[1].SubmittedAt.Hour() != 11 {
		t.Fatalf("ListReviews() = %+v", rs)
	}
}
