package e2e

import (
	"strings"
	"testing"
)

// A PR that adds one resource gets its plan as a comment and a check run
// named after the project on its head.
func TestPlanCommentAndCheck(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("plan", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write"})
	n := e.PR(repo, "add", "alice", map[string]*string{"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"x\" {}\n")})
	cm := e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	if !strings.Contains(cm.Body, "app") {
		t.Errorf("plan comment does not name the project:\n%s", cm.Body)
	}
	head := e.Head(repo, n)
	e.Eventually("check run atoll/plan: app completed", func() bool {
		runs, err := e.C.CheckRuns(e.Ctx(), repo, head)
		if err != nil {
			return false
		}
		for _, r := range runs {
			if r.Name == "atoll/plan: app" && r.Status == "completed" && r.Conclusion == "success" {
				return true
			}
		}
		return false
	})
	e.Eventually("the PR labelled atoll:changes", func() bool {
		pr, err := e.C.PullRequest(e.Ctx(), repo, n)
		if err != nil {
			return false
		}
		for _, l := range pr.Labels {
			if l.GetName() == "atoll:changes" {
				return true
			}
		}
		return false
	})
}
