package github

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/vcs"
)

func TestBranchSHA(t *testing.T) {
	c, f := setup(t)
	f.handle("GET /repos/octo/infra/branches/main", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"name": "main", "commit": map[string]any{"sha": "abc123"}})
	})
	sha, err := c.BranchSHA(context.Background(), testRepo, "main")
	if err != nil || sha != "abc123" {
		t.Fatalf("BranchSHA() = %q, %v", sha, err)
	}
}

// TestBranchSHARedirect: a renamed branch's 301 is followed on the API
// host, never to another host (the credential would go with it).
func TestBranchSHARedirect(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent to another host: %s %s (Authorization set: %v)", r.Method, r.URL.Path, r.Header.Get("Authorization") != "")
		writeJSON(w, 200, map[string]any{"name": "x", "commit": map[string]any{"sha": "stolen"}})
	}))
	t.Cleanup(other.Close)
	c, f := setup(t)
	f.handle("GET /repos/octo/infra/branches/old", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", f.srv.URL+"/repos/octo/infra/branches/new")
		w.WriteHeader(http.StatusMovedPermanently)
	})
	f.handle("GET /repos/octo/infra/branches/new", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"name": "new", "commit": map[string]any{"sha": "def456"}})
	})
	f.handle("GET /repos/octo/infra/branches/away", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", other.URL+"/repos/octo/infra/branches/new")
		w.WriteHeader(http.StatusMovedPermanently)
	})
	ctx := context.Background()
	if sha, err := c.BranchSHA(ctx, testRepo, "old"); err != nil || sha != "def456" {
		t.Errorf("BranchSHA(old) = %q, %v; want def456", sha, err)
	}
	if sha, err := c.BranchSHA(ctx, testRepo, "away"); err == nil || !strings.Contains(err.Error(), "cross-host") {
		t.Errorf("BranchSHA(away) = %q, %v; want a cross-host refusal", sha, err)
	}
}

func TestReadFile(t *testing.T) {
	c, f := setup(t)
	f.handle("GET /repos/octo/infra/contents/atoll.yaml", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("ref") != "feature" {
			t.Errorf("ref = %q", r.URL.Query().Get("ref"))
		}
		writeJSON(w, 200, map[string]any{"type": "file", "encoding": "base64", "size": 8, "sha": "s1",
			"content": base64.StdEncoding.EncodeToString([]byte("version: 1\n"))})
	})
	f.handle("GET /repos/octo/infra/contents/big.tf", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"type": "file", "encoding": "none", "size": 2 << 20, "sha": "bigsha", "content": ""})
	})
	f.handle("GET /repos/octo/infra/git/blobs/bigsha", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept"), "raw") {
			t.Errorf("Accept = %q", r.Header.Get("Accept"))
		}
		fmt.Fprint(w, "big content")
	})
	f.handle("GET /repos/octo/infra/contents/modules", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []map[string]any{{"type": "file", "name": "a.tf"}})
	})
	f.handle("GET /repos/octo/infra/contents/missing.yaml", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]string{"message": "Not Found"})
	})
	ctx := context.Background()
	b, err := c.ReadFile(ctx, testRepo, "feature", "atoll.yaml")
	if err != nil || string(b) != "version: 1\n" {
		t.Errorf("ReadFile() = %q, %v", b, err)
	}
	if b, err := c.ReadFile(ctx, testRepo, "", "big.tf"); err != nil || string(b) != "big content" {
		t.Errorf("ReadFile(big) = %q, %v", b, err)
	}
	if _, err := c.ReadFile(ctx, testRepo, "", "modules"); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("ReadFile(dir) error = %v", err)
	}
	// ".." inside a name is not a traversal (go-github v60 refuses it).
	f.handle("GET /repos/octo/infra/contents/env/v1..2.tfvars", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"type": "file", "encoding": "base64", "size": 2, "sha": "s2",
			"content": base64.StdEncoding.EncodeToString([]byte("x\n"))})
	})
	if b, err := c.ReadFile(ctx, testRepo, "", "env/v1..2.tfvars"); err != nil || string(b) != "x\n" {
		t.Errorf("ReadFile(v1..2) = %q, %v", b, err)
	}
	if _, err := c.ReadFile(ctx, testRepo, "", "missing.yaml"); !errors.Is(err, vcs.ErrNotFound) {
		t.Errorf("ReadFile(missing) error = %v, want vcs.ErrNotFound", err)
	}
}

func TestUserPermission(t *testing.T) {
	tests := []struct {
		permission, role string
		want             vcs.Permission
	}{
		{"admin", "admin", vcs.PermissionAdmin},
		{"write", "maintain", vcs.PermissionMaintain},
		{"write", "write", vcs.PermissionWrite},
		{"read", "triage", vcs.PermissionTriage},
		{"write", "deployer", vcs.PermissionWrite}, // a custom role
		{"none", "", vcs.PermissionNone},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			c, f := setup(t)
			f.handle("GET /repos/octo/infra/collaborators/bob/permission", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]any{"permission": tt.permission, "role_name": tt.role, "user": map[string]any{"login": "bob"}})
			})
			got, err := c.UserPermission(context.Background(), testRepo, "bob")
			if err != nil || got != tt.want {
				t.Fatalf("UserPermission() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestIsTeamMember(t *testing.T) {
	c, f := setup(t)
	f.handle("GET /orgs/octo/teams/security/memberships/{user}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("user") {
		case "alice":
			writeJSON(w, 200, map[string]any{"state": "active", "role": "member"})
		case "carol":
			writeJSON(w, 200, map[string]any{"state": "pending", "role": "member"})
		default:
			writeJSON(w, 404, map[string]any{"message": "Not Found"})
		}
	})
	for user, want := range map[string]bool{"alice": true, "carol": false, "dave": false} {
		got, err := c.IsTeamMember(context.Background(), testRepo, "octo", "security", user)
		if err != nil || got != want {
			t.Errorf("IsTeamMember(%s) = %v, %v; want %v", user, got, err, want)
		}
	}
}

func TestCheckRuns(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	var created, updated map[string]any
	f.handle("POST /repos/octo/infra/check-runs", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&created)
		created["id"] = 77
		writeJSON(w, 201, created)
	})
	f.handle("PATCH /repos/octo/infra/check-runs/77", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&updated)
		writeJSON(w, 200, updated)
	})
	f.handle("GET /repos/octo/infra/commits/aaa/check-runs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"total_count": 1, "check_runs": []map[string]any{
			{"id": 77, "name": "atoll/plan: net", "head_sha": "aaa", "status": "completed", "conclusion": "success",
				"output": map[string]any{"title": "1 to add", "summary": "s"}},
		}})
	})
	cr, err := c.CreateCheckRun(ctx, testRepo, vcs.CheckRun{Name: "atoll/plan: net", HeadSHA: "aaa", Status: vcs.CheckInProgress, Title: "planning"})
	if err != nil || cr.ID != 77 || cr.Status != "in_progress" || cr.Summary != "planning" {
		t.Fatalf("CreateCheckRun() = %+v, %v", cr, err)
	}
	long := strings.Repeat("é", maxCheckText+10)
	err = c.UpdateCheckRun(ctx, testRepo, vcs.CheckRun{ID: 77, Conclusion: vcs.ConclusionSuccess, Title: "1 to add", Summary: long})
	if err != nil {
		t.Fatal(err)
	}
	if updated["status"] != "completed" || updated["conclusion"] != "success" || updated["completed_at"] == nil {
		t.Errorf("update body = %v", updated)
	}
	if _, ok := updated["name"]; ok {
		t.Errorf("an empty name should not be sent: %v", updated)
	}
	if s := updated["output"].(map[string]any)["summary"].(string); len([]rune(s)) != maxCheckText {
		t.Errorf("summary has %d characters, want %d", len([]rune(s)), maxCheckText)
	}
	crs, err := c.ListCheckRuns(ctx, testRepo, "aaa")
	if err != nil || len(crs) != 1 || crs[0].Conclusion != "success" || crs[0].Title != "1 to add" {
		t.Fatalf("ListCheckRuns() = %+v, %v", crs, err)
	}
}

func TestIssues(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	var edit map[string]any
	f.handle("POST /repos/octo/infra/issues", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		writeJSON(w, 201, map[string]any{"number": 9, "title": in["title"], "body": in["body"], "state": "open",
			"labels": []map[string]any{{"name": "atoll:drift"}}})
	})
	f.handle("PATCH /repos/octo/infra/issues/9", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&edit)
		writeJSON(w, 200, map[string]any{"number": 9})
	})
	f.handle("GET /repos/octo/infra/issues", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("labels") != "atoll:drift" || r.URL.Query().Get("state") != "all" {
			t.Errorf("query = %v", r.URL.Query())
		}
		writeJSON(w, 200, []map[string]any{
			{"number": 9, "title": "Drift", "state": "open"},
			{"number": 10, "title": "A PR", "state": "open", "pull_request": map[string]any{"url": "x"}},
		})
	})
	is, err := c.CreateIssue(ctx, testRepo, vcs.Issue{Title: "Drift", Body: "b", Labels: []string{"atoll:drift"}})
	if err != nil || is.Number != 9 || is.Labels[0] != "atoll:drift" {
		t.Fatalf("CreateIssue() = %+v, %v", is, err)
	}
	closed, reason := "closed", "completed"
	if err := c.UpdateIssue(ctx, testRepo, 9, vcs.IssueUpdate{State: &closed, StateReason: &reason, Labels: []string{}}); err != nil {
		t.Fatal(err)
	}
	if edit["state"] != "closed" || edit["state_reason"] != "completed" || fmt.Sprint(edit["labels"]) != "[]" {
		t.Errorf("edit body = %v", edit)
	}
	if _, ok := edit["title"]; ok {
		t.Errorf("a nil title should not be sent: %v", edit)
	}
	list, err := c.ListIssues(ctx, testRepo, "atoll:drift", "all")
	if err != nil || len(list) != 1 || list[0].Number != 9 {
		t.Fatalf("ListIssues() = %+v, %v", list, err)
	}
}

func TestSetLabels(t *testing.T) {
	c, f := setup(t)
	var added []string
	var removed []string
	f.handle("POST /repos/octo/infra/issues/4/labels", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Labels []string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		added = in.Labels
		writeJSON(w, 200, []map[string]any{})
	})
	f.handle("DELETE /repos/octo/infra/issues/4/labels/{name}", func(w http.ResponseWriter, r *http.Request) {
		removed = append(removed, r.PathValue("name"))
		if r.PathValue("name") == "absent" {
			writeJSON(w, 404, map[string]string{"message": "Label does not exist"})
			return
		}
		writeJSON(w, 200, []map[string]any{})
	})
	err := c.SetLabels(context.Background(), testRepo, 4, []string{"atoll:planned"}, []string{"atoll:plan-failed", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(added) != "[atoll:planned]" || fmt.Sprint(removed) != "[atoll:plan-failed absent]" {
		t.Errorf("added %v, removed %v", added, removed)
	}
}

// TestPathTraversalRefused: a value that would put a ".." segment into a
// request path is refused before any request, with gh.ErrPathForbidden.
func TestPathTraversalRefused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(c *Client) error
	}{
		{"ReadFile", func(c *Client) error { _, err := c.ReadFile(ctx, testRepo, "", "../../../user"); return err }},
		{"BranchSHA", func(c *Client) error { _, err := c.BranchSHA(ctx, testRepo, ".."); return err }},
		{"ListCheckRuns", func(c *Client) error { _, err := c.ListCheckRuns(ctx, testRepo, "main/../../x"); return err }},
		{"SetLabels", func(c *Client) error { return c.SetLabels(ctx, testRepo, 1, nil, []string{"../../../../x"}) }},
		{"UserPermission", func(c *Client) error { _, err := c.UserPermission(ctx, testRepo, ".."); return err }},
		{"IsTeamMember", func(c *Client) error { _, err := c.IsTeamMember(ctx, testRepo, "octo", "../../x", "alice"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := setup(t)
			f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("request sent: %s %s", r.Method, r.URL.Path)
				writeJSON(w, 200, map[string]any{})
			})
			if err := tt.call(c); !errors.Is(err, gh.ErrPathForbidden) {
				t.Errorf("error = %v, want gh.ErrPathForbidden", err)
			}
		})
	}
}
