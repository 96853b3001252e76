package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/atollhq/atoll/vcs"
)

func TestComments(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	var edited string
	f.handle("POST /repos/octo/infra/issues/5/comments", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		writeJSON(w, 201, map[string]any{"id": 11, "node_id": "IC_11", "body": in["body"], "html_url": "https://x/11",
			"user": map[string]any{"login": "atoll[bot]", "type": "Bot"}})
	})
	f.handle("PATCH /repos/octo/infra/issues/comments/11", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		edited = in["body"]
		writeJSON(w, 200, map[string]any{"id": 11, "body": in["body"]})
	})
	f.handle("GET /repos/octo/infra/issues/5/comments", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			writeJSON(w, 200, []map[string]any{{"id": 12, "body": "b", "user": map[string]any{"login": "bob", "type": "User"}}})
			return
		}
		w.Header().Set("Link", fmt.Sprintf(`<%s/repos/octo/infra/issues/5/comments?page=2&per_page=100>; rel="next"`, f.srv.URL))
		writeJSON(w, 200, []map[string]any{{"id": 11, "body": "a", "user": map[string]any{"login": "atoll[bot]", "type": "Bot"}}})
	})
	cm, err := c.CreateComment(ctx, testRepo, 5, "hello")
	if err != nil {
		t.Fatal(err)
	}
	want := vcs.Comment{ID: 11, NodeID: "IC_11", Body: "hello", HTMLURL: "https://x/11", Author: vcs.User{Login: "atoll[bot]", Bot: true}}
	if cm != want {
		t.Errorf("CreateComment() = %+v, want %+v", cm, want)
	}
	if err := c.UpdateComment(ctx, testRepo, 11, "hello again"); err != nil || edited != "hello again" {
		t.Errorf("UpdateComment() = %v, body %q", err, edited)
	}
	cs, err := c.ListComments(ctx, testRepo, 5)
	if err != nil || len(cs) != 2 || cs[1].Author.Login != "bob" || cs[1].Author.Bot || !cs[0].Author.Bot {
		t.Errorf("ListComments() = %+v, %v", cs, err)
	}
}

func TestAddReaction(t *testing.T) {
	c, f := setup(t)
	var got string
	f.handle("POST /repos/octo/infra/issues/comments/11/reactions", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		got = in["content"]
		writeJSON(w, 201, map[string]any{"id": 1, "content": in["content"]})
	})
	if err := c.AddReaction(context.Background(), testRepo, 11, "eyes"); err != nil || got != "eyes" {
		t.Errorf("AddReaction() = %v, content %q", err, got)
	}
	if err := c.AddReaction(context.Background(), testRepo, 11, "thumbsup"); err == nil {
		t.Error("an unknown reaction should be refused")
	}
}

func TestMinimizeComment(t *testing.T) {
	tests := []struct {
		name       string
		classifier string
		answer     string
		wantErr    string
	}{
		{"ok", "outdated", `{"data":{"minimizeComment":{"minimizedComment":{"isMinimized":true}}}}`, ""},
		{"graphql error", "OUTDATED", `{"data":null,"errors":[{"type":"NOT_FOUND","message":"Could not resolve to a node"}]}`, "Could not resolve"},
		{"bad classifier", "BORING", ``, "unknown classifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := setup(t)
			f.mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
				var in struct {
					Query     string         `json:"query"`
					Variables map[string]any `json:"variables"`
				}
				_ = json.NewDecoder(r.Body).Decode(&in)
				if !strings.Contains(in.Query, "minimizeComment") || in.Variables["id"] != "IC_11" || in.Variables["classifier"] != "OUTDATED" {
					t.Errorf("request = %+v", in)
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tt.answer)
			})
			err := c.MinimizeComment(context.Background(), testRepo, "IC_11", tt.classifier)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("MinimizeComment() = %v, want %q", err, tt.wantErr)
			}
			if tt.name == "graphql error" && !errors.Is(err, vcs.ErrNotFound) {
				t.Errorf("NOT_FOUND should wrap vcs.ErrNotFound: %v", err)
			}
		})
	}
}

// TestMinimizeCommentUsesInstallationToken: GraphQL goes through the
// installation's transport, so a missing token is a 401 from the fake.
func TestMinimizeCommentUsesInstallationToken(t *testing.T) {
	c, f := setup(t)
	f.mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "token ghs_test42_") {
			t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
		}
		fmt.Fprint(w, `{"data":{"minimizeComment":{"minimizedComment":{"isMinimized":true}}}}`)
	})
	if err := c.MinimizeComment(context.Background(), testRepo, "IC_1", "RESOLVED"); err != nil {
		t.Fatal(err)
	}
}
