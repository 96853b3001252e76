package e2e

// The plan workflow across crashes, restarts and webhooks lost or sent
// twice, and a plan too big for one comment.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/testdrive/emulator"
)

// planwfSlowTerraform writes a terraform wrapper for the server config's
// terraform.binary: while the file gate exists, `terraform plan` touches
// started and waits for gate to go before running the real terraform. It
// returns the wrapper's path.
func planwfSlowTerraform(t *testing.T, gate, started string) string {
	t.Helper()
	real, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal(err)
	}
	if real, err = filepath.Abs(real); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/sh
if [ "$1" = plan ] && [ -e %[1]q ]; then
  : > %[2]q
  while [ -e %[1]q ]; do sleep 0.1; done
fi
exec %[3]q "$@"
`, gate, started, real)
	path := filepath.Join(t.TempDir(), "terraform")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// shimSandbox is the server config that lets the sandboxed shim of
// planwfSlowTerraform run the real terraform and touch its files in dir.
func shimSandbox(t *testing.T, dir string) string {
	t.Helper()
	real, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal(err)
	}
	if real, err = filepath.Abs(real); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("sandbox_read_paths: [%q]\nsandbox_write_paths: [%q]\n", filepath.Dir(real), dir)
}

// A plan cut off by a crash is reported as interrupted, with how to retry;
// a PR opened while atoll was down is planned when it starts; webhooks
// delivered again plan nothing twice. The server plans branches as they
// are (checkout_strategy: branch), so a change merged into the base after
// the branch was cut is not in the plan.
func TestPlanWorkflowDurable(t *testing.T) {
	dir := t.TempDir()
	gate, started := filepath.Join(dir, "gate"), filepath.Join(dir, "started")
	wrapper := planwfSlowTerraform(t, gate, started)
	e := Start(t, Options{ServerConfig: fmt.Sprintf("terraform:\n  binary: %s\ncheckout_strategy: branch\n", wrapper) + shimSandbox(t, dir)})
	repo := e.Repo("durable", map[string]string{"app/main.tf": e.Backend("app"), "svc/main.tf": e.Backend("svc")},
		map[string]string{"alice": "write"})

	// atoll is killed while terraform plans.
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n := e.PR(repo, "crash", "alice", map[string]*string{
		"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"x\" {}\n")})
	e.Eventually("terraform plan started", func() bool { _, err := os.Stat(started); return err == nil })
	running := e.Wait(repo, n, 0, planHeading, "🔄 **running**: 0 of 1 project finished", "🔄 running…")
	e.Kill()
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	e.StartAtoll()
	cm := e.Wait(repo, n, 0, planHeading, "**done**", "interrupted")
	if cm.ID != running.ID {
		t.Errorf("the interrupted run's comment is a new one (%d), not the running one (%d) edited", cm.ID, running.ID)
	}
	for _, want := range []string{
		"This run was interrupted by a restart of atoll. Comment `atoll plan` to plan again.",
		"⚠️ **Interrupted**: atoll stopped during this plan. Comment `atoll plan -p app` to run it again.",
	} {
		if !strings.Contains(cm.Body, want) {
			t.Errorf("interrupted plan comment lacks %q:\n%s", want, cm.Body)
		}
	}
	if strings.Contains(cm.Body, "Plan: ") {
		t.Errorf("an interrupted plan shows a plan:\n%s", cm.Body)
	}
	head := e.Head(repo, n)
	planwfChecks(e, repo, head, map[string]string{"atoll/plan: app": "failure"})
	_, before := planwfPost(e, repo, n, "alice", "atoll plan")
	e.Wait(repo, n, before, planHeading, "**done**", "Plan: 1 to add, 0 to change, 0 to destroy.")

	// A PR opened while atoll is stopped is planned when it starts.
	e.Stop()
	ctx := e.Ctx()
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: "offline", Author: "alice",
		Files: map[string]*string{"svc/branch.tf": S("resource \"terraform_data\" \"branch\" {}\n")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Author: "alice",
		Files: map[string]*string{"svc/base.tf": S("resource \"terraform_data\" \"base\" {}\n")}}); err != nil {
		t.Fatal(err)
	}
	off, err := e.C.Control.OpenPR(ctx, emulator.OpenPR{Repo: repo, Head: "offline", Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.C.Control.FlushDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	e.StartAtoll()
	offPlan := e.Wait(repo, off, 0, planHeading, "**done**")
	if !strings.Contains(offPlan.Body, "Plan: 1 to add, 0 to change, 0 to destroy.") ||
		!strings.Contains(offPlan.Body, "`terraform_data.branch`") || strings.Contains(offPlan.Body, "terraform_data.base") {
		t.Errorf("the PR opened while atoll was down is not planned as its branch is:\n%s", offPlan.Body)
	}

	// Webhooks sent again: the PR's opening (handled, and lost), and the
	// `atoll plan` comment.
	deliveries, err := e.C.Control.Deliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var again []string
	for _, d := range deliveries {
		var p struct {
			Number int `json:"number"`
			Issue  struct {
				Number int `json:"number"`
			} `json:"issue"`
			Comment struct {
				Body string `json:"body"`
			} `json:"comment"`
		}
		if err := json.Unmarshal(d.Payload, &p); err != nil {
			t.Fatal(err)
		}
		switch {
		case d.Event == "pull_request" && d.Action == "opened",
			d.Event == "issue_comment" && d.Action == "created" && p.Issue.Number == n && p.Comment.Body == "atoll plan":
			again = append(again, d.ID)
		}
	}
	if len(again) != 3 {
		t.Fatalf("want 3 deliveries to send again (2 PRs opened, 1 comment), found %d", len(again))
	}
	for _, id := range again {
		if _, err := e.C.Control.Redeliver(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	// A plan asked for afterwards runs terraform: by the time it is done,
	// a plan started by a redelivery would have posted its comment.
	_, before = planwfPost(e, repo, off, "alice", "atoll plan")
	e.Wait(repo, off, before, planHeading, "Requested by @alice", "**done**")
	if got := len(planwfRunComments(e, repo, n)); got != 2 {
		t.Errorf("#%d: %d plan comments, want 2 (the interrupted one and `atoll plan`)", n, got)
	}
	if got := len(planwfRunComments(e, repo, off)); got != 2 {
		t.Errorf("#%d: %d plan comments, want 2 (at start-up and `atoll plan`)", off, got)
	}
	if got := planwfCount(planwfCheckRuns(e, repo, head), "atoll/plan: app"); got != 2 {
		t.Errorf("#%d: %d check runs atoll/plan: app, want 2", n, got)
	}
}

// A plan of 3,000 resources is split across comments, each under GitHub's
// limit, numbered "Part i of n", and no resource is lost.
func TestPlanWorkflowHugePlan(t *testing.T) {
	const count = 3000
	e := Start(t, Options{})
	repo := e.Repo("huge", map[string]string{"big/main.tf": e.Backend("big")}, map[string]string{"alice": "write"})
	n := e.PR(repo, "huge", "alice", map[string]*string{
		"big/main.tf": S(e.Backend("big") + fmt.Sprintf("resource \"terraform_data\" \"r\" {\n  count = %d\n}\n", count))})
	first := e.Wait(repo, n, 0, planHeading, "**done**", fmt.Sprintf("Plan: %d to add, 0 to change, 0 to destroy.", count))
	var parts []string
	for _, c := range e.BotComments(repo, n) {
		if c.ID >= first.ID {
			parts = append(parts, c.Body)
		}
	}
	if len(parts) < 2 {
		t.Fatalf("a plan of %d resources fits in %d comment", count, len(parts))
	}
	for i, p := range parts {
		if len(p) >= templates.CommentLimit {
			t.Errorf("part %d has %d characters, over GitHub's limit", i+1, len(p))
		}
		if i > 0 && !strings.Contains(p, fmt.Sprintf("Part %d of %d", i+1, len(parts))) {
			t.Errorf("part %d does not say \"Part %d of %d\":\n%.300s", i+1, i+1, len(parts), p)
		}
	}
	all := strings.Join(parts, "\n")
	// The plan text is capped per project; what is cut says where it is.
	if strings.Contains(all, "<summary>Show plan (first ") &&
		!strings.Contains(all, "not shown here: [the full plan is on the job page](") {
		t.Errorf("the plan text is cut without saying where the rest is")
	}
	missing := 0
	for i := range count {
		if !strings.Contains(all, fmt.Sprintf("`terraform_data.r[%d]`", i)) {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d resource addresses are missing from the comments", missing, count)
	}
	planwfChecks(e, repo, e.Head(repo, n), map[string]string{"atoll/plan: big": "success"})
}
