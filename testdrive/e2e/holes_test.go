package e2e

import (
	"syscall"
	"testing"

	"github.com/atollhq/atoll/runner/crashpoint"
)

// A pull request whose first check run was being opened when the server
// stopped (killed, or stopped gracefully) is planned after the restart:
// its job was durable before its head was recorded as seen.
func TestStopWhileOpeningFirstCheckRun(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			e := Start(t, Options{NoStart: true})
			e.AtollEnv = []string{"ATOLL_TEST_CRASHPOINT=" + crashpoint.OpenCheck}
			e.StartAtoll()
			repo := e.Repo("first-check", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write"})
			n := e.PR(repo, "feature", "alice", map[string]*string{
				"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"x\" {\n  input = \"v1\"\n}\n")})
			e.WaitLog(crashpoint.Reached + crashpoint.OpenCheck)
			e.signal(sig)

			e.AtollEnv = nil
			e.StartAtoll()
			cm := e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
			applyWant(t, cm.Body, "atoll apply")
			applyWaitCheck(e, repo, e.Head(repo, n), "atoll/plan: app", "success")
			if got := len(e.BotComments(repo, n)); got != 1 {
				t.Errorf("%d comments from atoll, want one plan comment", got)
			}
		})
	}
}
