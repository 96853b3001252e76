package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// openForkPR pushes a change to branch and opens it as a pull request from
// mallory's fork.
func openForkPR(e *Env, repo, branch, body string) int {
	e.t.Helper()
	if _, err := e.C.Control.Commit(e.Ctx(), emulator.Commit{Repo: repo, Branch: branch, Author: "mallory",
		Files: map[string]*string{"app/main.tf": S(body)}}); err != nil {
		e.t.Fatal(err)
	}
	n, err := e.C.Control.OpenPR(e.Ctx(), emulator.OpenPR{Repo: repo, Head: branch, Author: "mallory", Fork: "mallory"})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// Attack 3, with allow_fork_prs off: neither a writer's `atoll plan` nor
// the fork author's (plan needs only read here) plans a fork's code.
func TestForkPlanByCommentRefused(t *testing.T) {
	e := Start(t, Options{ServerConfig: "permissions:\n  plan:\n    permission: read\n"})
	repo := e.Repo("forkoff", map[string]string{"app/main.tf": e.Backend("app")},
		map[string]string{"alice": "write", "mallory": "read"})
	f := openForkPR(e, repo, "evil", e.Backend("app")+"resource \"terraform_data\" \"evil\" {}\n")
	e.Wait(repo, f, 0, "does not plan pull requests from forks")
	for _, who := range []string{"alice", "mallory"} {
		last := e.Comment(repo, f, who, "atoll plan")
		e.Wait(repo, f, last, "does not plan pull requests from forks", "so `atoll plan` was not run", "`mallory/forkoff`")
	}
	last := e.Comment(repo, f, "alice", "atoll apply")
	e.Wait(repo, f, last, "does not plan pull requests from forks", "so `atoll apply` was not run")
	planwfBarrier(e, repo, f)
	if got := planwfRunComments(e, repo, f); len(got) != 0 {
		t.Errorf("a fork's PR was planned by comment:\n%s", got[0].Body)
	}
	if runs := planwfCheckRuns(e, repo, e.Head(repo, f)); len(runs) != 0 {
		t.Errorf("a fork's PR got check runs: %+v", runs)
	}
	if _, err := os.Stat(e.StatePath("app")); err == nil {
		t.Error("a fork's code ran: the project's state exists")
	}
}

// Attack 3, with allow_fork_prs on: a comment plans the head the PR had
// when it was written. A push after the comment, before atoll handles it,
// makes atoll refuse and say so; a new comment then plans the new head.
func TestForkPlanByCommentPinsHead(t *testing.T) {
	e := Start(t, Options{ServerConfig: "allow_fork_prs: true\n"})
	repo := e.Repo("forkon", map[string]string{"app/main.tf": e.Backend("app")},
		map[string]string{"alice": "write", "mallory": "read"})
	f := openForkPR(e, repo, "change", e.Backend("app")+"resource \"terraform_data\" \"a\" {}\n")
	e.Wait(repo, f, 0, planHeading, "**done**", "Plan: 1 to add, 0 to change, 0 to destroy.")
	reviewed := e.Head(repo, f)

	// GitHub dates in seconds: keep the comment and the push apart.
	time.Sleep(1100 * time.Millisecond)
	ctx := e.Ctx()
	if err := e.C.Control.PauseDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	before := e.Comment(repo, f, "alice", "atoll plan")
	time.Sleep(1100 * time.Millisecond)
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: "change", Author: "mallory",
		Files: map[string]*string{"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"a\" {}\nresource \"terraform_data\" \"sneaky\" {}\n")}}); err != nil {
		t.Fatal(err)
	}
	pushed := e.Head(repo, f)
	if pushed == reviewed {
		t.Fatal("the push did not move the PR head")
	}
	if err := e.C.Control.ResumeDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	moved := e.Wait(repo, f, before, "`atoll plan` was not run", "pushed after your comment", "`"+pushed[:7]+"`")
	for _, c := range planwfAfter(e, repo, f, before, "Requested by @alice") {
		t.Errorf("the comment written before the push planned the pushed head:\n%s", c.Body)
	}

	// Once the push is older than a comment, the comment plans it.
	time.Sleep(1100 * time.Millisecond)
	last := e.Comment(repo, f, "alice", "atoll plan")
	cm := e.Wait(repo, f, last, planHeading, "Requested by @alice", "**done**", "Plan: 2 to add")
	if !strings.Contains(cm.Body, pushed[:7]) {
		t.Errorf("the new comment's plan does not name the head %s:\n%s", pushed[:7], cm.Body)
	}
	_ = moved
}

// Attack 7: a signed comment body sent again under a new delivery id is
// accepted by the webhook endpoint (the signature holds) but its command
// does not run a second time.
func TestCommentReplayRunsOnce(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("replay", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write"})
	n := e.PR(repo, "add", "alice", map[string]*string{"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"x\" {}\n")})
	e.Wait(repo, n, 0, planHeading, "**done**")
	last := e.Comment(repo, n, "alice", "atoll plan")
	e.Wait(repo, n, last, planHeading, "Requested by @alice", "**done**")

	ctx := e.Ctx()
	ds, err := e.C.Control.Deliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var orig string
	for _, d := range ds {
		var p struct {
			Action  string `json:"action"`
			Comment struct {
				Body string `json:"body"`
			} `json:"comment"`
		}
		if d.Event == "issue_comment" && json.Unmarshal(d.Payload, &p) == nil && p.Action == "created" && p.Comment.Body == "atoll plan" {
			orig = d.ID
		}
	}
	if orig == "" {
		t.Fatal("no issue_comment delivery for the command")
	}
	replay, err := e.C.Control.ReplayDelivery(ctx, orig)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.C.Control.FlushDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	ds, _ = e.C.Control.Deliveries(ctx)
	for _, d := range ds {
		if d.ID == replay.ID && d.StatusCode != http.StatusAccepted {
			t.Fatalf("the replay was answered %d, want 202: the test must reach the runner", d.StatusCode)
		}
	}
	e.Eventually("atoll to drop the replay", func() bool { return strings.Contains(e.Log(), "replay ignored") })
	planwfBarrier(e, repo, n)
	time.Sleep(2 * time.Second) // a second run would have posted its comment by now
	if got := planwfAfter(e, repo, n, last, "Requested by @alice"); len(got) != 1 {
		t.Errorf("the command ran %d times, want once", len(got))
	}
}

// Attack 8: a terraform.env value marked secret (and a longer secret that
// contains it), the webhook secret, the API token and a line of the App's
// private key, all printed by a plan, never reach a comment, a check run,
// a job page or log, or atoll's own log.
func TestSecretsNeverWritten(t *testing.T) {
	short := "tfsec-" + randomHex(8)
	long := short + "TAIL"
	e := Start(t, Options{ServerConfig: "terraform:\n  env:\n    TF_VAR_token: {value: " + short + ", secret: true}\n" +
		"    TF_VAR_long: {value: " + long + ", secret: true}\n"})
	pemData, err := os.ReadFile(filepath.Join(e.Private, "app.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keyLine := strings.Split(string(pemData), "\n")[2] // a later line of the multi-line key
	secrets := map[string]string{"terraform.env secret": short, "webhook secret": e.Secret, "API token": e.Token, "private key line": keyLine}

	repo := e.Repo("secrets", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write"})
	tf := e.Backend("app") + `variable "token" {}
variable "long" {}
resource "terraform_data" "env" {
  input = "${var.token} and ${var.long}"
}
resource "terraform_data" "own" {
  input = "` + e.Secret + ` ` + e.Token + ` ` + keyLine + `"
}
output "leak" {
  value = var.long
}
`
	n := e.PR(repo, "leak", "alice", map[string]*string{"app/main.tf": S(tf)})
	cm := e.Wait(repo, n, 0, planHeading, "**done**", "Plan: 2 to add")
	if !strings.Contains(cm.Body, "***") {
		t.Errorf("the plan comment shows no masked value:\n%s", cm.Body)
	}
	check := func(where, text string) {
		t.Helper()
		for name, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows the %s", where, name)
			}
		}
		if strings.Contains(text, "***TAIL") {
			t.Errorf("%s shows the tail of the longer secret (not longest-first)", where)
		}
	}
	var jobs []string
	for _, c := range e.BotComments(repo, n) {
		check(fmt.Sprintf("comment %d", c.ID), c.Body)
		for _, m := range regexp.MustCompile(`/jobs/([A-Za-z0-9_-]+)`).FindAllStringSubmatch(c.Body, -1) {
			jobs = append(jobs, m[1])
		}
	}
	owner, name, _ := strings.Cut(repo, "/")
	runs, _, err := e.C.REST.Checks.ListCheckRunsForRef(e.Ctx(), owner, name, e.Head(repo, n), &gh.ListCheckRunsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs.CheckRuns {
		out := r.GetOutput()
		check("check run "+r.GetName(), out.GetTitle()+"\n"+out.GetSummary()+"\n"+out.GetText())
	}
	if len(jobs) == 0 {
		t.Fatal("no job link in the comments")
	}
	alice := e.Login("alice") // job pages need a signed-in reader
	for _, id := range jobs {
		for _, path := range []string{"/jobs/" + id, "/jobs/" + id + "/log"} {
			code, body := e.page(alice, path)
			if code != http.StatusOK {
				t.Errorf("GET %s: %d", path, code)
			}
			check("page "+path, body)
		}
	}
	check("atoll's log", e.Log())
}
