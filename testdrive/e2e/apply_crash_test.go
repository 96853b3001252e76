package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A crash during an apply: on restart the job is interrupted, the PR is
// told the infrastructure may be partly applied and that `atoll plan`
// shows what remains; the lock stays held, the plan is not applied again,
// and terraform's own state lock is respected.
func TestApplyCrash(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("crash", map[string]string{"app/main.tf": e.Backend("app")},
		map[string]string{"alice": "write", "bob": "write"})
	started := filepath.Join(e.Dir, "apply-started")
	slow := e.Backend("app") + fmt.Sprintf(`
resource "terraform_data" "x" {
  input = "v1"
  provisioner "local-exec" {
    command = "echo $$ > '%s'; sleep 300; echo v1 >> '%s'"
  }
}
`, started, applyCountFile(e, "app"))
	// The provisioner's shell outlives a killed terraform: end it with the test.
	t.Cleanup(func() { applyKillGroupOf(started) })

	n := e.PR(repo, "slow", "alice", map[string]*string{"app/main.tf": S(slow)})
	e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last := e.Comment(repo, n, "alice", "atoll apply")
	e.Eventually("the apply's provisioner started", func() bool {
		data, err := os.ReadFile(started)
		return err == nil && strings.TrimSpace(string(data)) != ""
	})
	e.Kill()
	applyKillGroupOf(started) // the machine went down with it
	e.StartAtoll()

	cm := e.Wait(repo, n, last, "### atoll apply", "Interrupted")
	applyWant(t, cm.Body, "partly", "`atoll plan`")
	applyWaitCheck(e, repo, e.Head(repo, n), "atoll/apply: app", "failure")

	// The plan is not applied again.
	last = e.Comment(repo, n, "alice", "atoll apply")
	cm = e.Wait(repo, n, last, "interrupted")
	applyWant(t, cm.Body, "`atoll plan`")
	applyNot(t, cm.Body, "Apply complete!")

	// The lock stays held.
	other := e.PR(repo, "other", "bob", map[string]*string{"app/main.tf": S(e.Backend("app") + "# other\n")})
	cm = e.Wait(repo, other, 0, "**done**")
	applyWant(t, cm.Body, fmt.Sprintf("Locked by [#%d]", n))

	// Terraform's state lock is respected: held by someone else, the plan
	// fails rather than ignoring it.
	state, err := os.OpenFile(e.StatePath("app"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK}
	if err := syscall.FcntlFlock(state.Fd(), syscall.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	last = e.Comment(repo, n, "alice", "atoll plan")
	cm = e.Wait(repo, n, last, "### atoll plan", "**done**")
	applyWant(t, cm.Body, "state lock")
	state.Close()

	// `atoll plan` shows what remains to apply.
	last = e.Comment(repo, n, "alice", "atoll plan")
	e.Wait(repo, n, last, "Plan: 1 to add, 0 to change, 0 to destroy.")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 0 {
		t.Fatalf("the interrupted apply finished after all: %q", got)
	}
}

// applyKillGroupOf kills the process group of the pid written in file.
func applyKillGroupOf(file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return
	}
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid > 1 && pgid != syscall.Getpgrp() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
