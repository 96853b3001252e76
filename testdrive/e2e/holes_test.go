package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/testdrive/emulator"
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

// Reconciliation releases what closed PRs hold before it plans what it
// finds new: the locking PR closed and a new PR opened while atoll was
// down, the new PR is planned, never told it is locked.
func TestReconcileReleasesBeforePlanning(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("reorder", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write", "bob": "write"})
	one := e.PR(repo, "one", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "app", "one"))})
	e.Wait(repo, one, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")

	e.Stop()
	if err := e.C.Control.ClosePR(e.Ctx(), emulator.ClosePR{Repo: repo, Number: one, Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	// Other PRs found new around it keep reconciliation busy: had it
	// planned first, the new PR's plan would meet the lock of the closed one.
	other := func(name string) {
		e.PR(repo, name, "bob", map[string]*string{name + "/main.tf": S(e.Backend(name) + "resource \"terraform_data\" \"o\" {}\n")})
	}
	other("before1")
	other("before2")
	two := e.PR(repo, "two", "bob", map[string]*string{"app/main.tf": S(applyTF(e, "app", "two"))})
	other("after1")
	other("after2")
	e.StartAtoll()

	e.Wait(repo, two, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	for _, c := range e.BotComments(repo, two) {
		applyNot(t, c.Body, "Locked")
	}
}

// The plan queue: a PR refused for a lock says it waits, and behind whom,
// and is planned by itself once the lock is released, by a merge, a close
// or `atoll unlock`; in the order the PRs asked, and across a restart.
func TestPlanQueue(t *testing.T) {
	e := Start(t, Options{})
	for _, release := range []string{"merge", "close", "unlock"} {
		t.Run(release, func(t *testing.T) {
			repo := e.Repo("queue-"+release, map[string]string{"atoll.yaml": "version: 1\napply_mode: both\n", "app/main.tf": e.Backend(release)},
				map[string]string{"alice": "write", "bob": "write", "carol": "write"})
			// Each PR adds a file of its own, so that they merge cleanly.
			change := func(name string) map[string]*string {
				return map[string]*string{"app/" + name + ".tf": S("resource \"terraform_data\" \"" + name + "\" {}\n")}
			}
			one := e.PR(repo, "one", "alice", change("one"))
			e.Wait(repo, one, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
			two := e.PR(repo, "two", "bob", change("two"))
			cm := e.Wait(repo, two, 0, "**done**")
			applyWant(t, cm.Body, fmt.Sprintf("🔒 **Locked by [#%d]", one), "⏳ **Waiting** in the plan queue, behind [#"+fmt.Sprint(one))
			applyNot(t, cm.Body, "Plan: 1 to add")
			three := e.PR(repo, "three", "carol", change("three"))
			cm = e.Wait(repo, three, 0, "**done**")
			applyWant(t, cm.Body, fmt.Sprintf("behind [#%d](%s/%s/pull/%d), [#%d]", one, e.GitHub.URL, repo, one, two))
			if release == "unlock" {
				// The queue survives a restart.
				e.Stop()
				e.StartAtoll()
			}
			lastTwo := e.C.LastCommentID(e.Ctx(), repo, two)
			lastThree := e.C.LastCommentID(e.Ctx(), repo, three)
			switch release {
			case "merge":
				if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, one, "bob")); err != nil {
					t.Fatal(err)
				}
				if _, err := e.C.Control.Merge(e.Ctx(), emulator.Merge{Repo: repo, Number: one, Author: "alice"}); err != nil {
					t.Fatal(err)
				}
				e.Wait(repo, one, 0, "### atoll apply", "Apply complete!")
			case "close":
				if err := e.C.Control.ClosePR(e.Ctx(), emulator.ClosePR{Repo: repo, Number: one, Author: "alice"}); err != nil {
					t.Fatal(err)
				}
			case "unlock":
				l := e.Comment(repo, one, "alice", "atoll unlock")
				e.Wait(repo, one, l, "Released the locks")
			}
			cm = e.Wait(repo, two, lastTwo, "Plan: 1 to add")
			applyWant(t, cm.Body, "Started by the plan queue", "terraform_data.two")
			// #3 waits behind #2 now; it is planned after #2 is closed.
			time.Sleep(3 * time.Second)
			for _, c := range e.BotComments(repo, three) {
				if c.ID > lastThree {
					t.Fatalf("#3 was planned before #2 let the lock go:\n%s", c.Body)
				}
			}
			if err := e.C.Control.ClosePR(e.Ctx(), emulator.ClosePR{Repo: repo, Number: two, Author: "bob"}); err != nil {
				t.Fatal(err)
			}
			e.Wait(repo, three, lastThree, "Plan: 1 to add", "Started by the plan queue")
		})
	}
}

// An apply stopped while a local-exec provisioner runs (the server killed,
// or stopped gracefully): after the restart the provisioner's command is
// gone and never finishes its work, and the interrupted comment names the
// resource whose provisioners may have run outside the state.
func TestStoppedApplyStopsProvisioners(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			// A graceful stop gives a running apply shutdown_grace to finish:
			// a short one cuts it off, as a long apply meets a long one.
			e := Start(t, Options{ServerConfig: "shutdown_grace: 2s\n"})
			repo := e.Repo("provisioners", map[string]string{"app/main.tf": e.Backend("app")},
				map[string]string{"alice": "write", "bob": "write"})
			started := filepath.Join(e.Dir, "provisioner-started")
			const sleep = 30 * time.Second
			tf := e.Backend("app") + fmt.Sprintf(`
resource "terraform_data" "x" {
  input = "v1"
  provisioner "local-exec" {
    command = "echo $$ > '%s'; sleep %d; echo v1 >> '%s'"
  }
}
`, started, int(sleep.Seconds()), applyCountFile(e, "app"))
			// Should the test fail, nothing outlives it.
			t.Cleanup(func() { applyKillGroupOf(started) })
			n := e.PR(repo, "slow", "alice", map[string]*string{"app/main.tf": S(tf)})
			e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
			if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, "bob")); err != nil {
				t.Fatal(err)
			}
			last := e.Comment(repo, n, "alice", "atoll apply")
			var pid int
			e.Eventually("the provisioner started", func() bool {
				data, err := os.ReadFile(started)
				pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
				return err == nil && pid > 1
			})
			at := time.Now()
			e.signal(sig)
			e.StartAtoll()

			cm := e.Wait(repo, n, last, "### atoll apply", "Interrupted")
			applyWant(t, cm.Body, "Provisioners may have run outside the state", "`terraform_data.x`")
			if alive(pid) {
				t.Errorf("the provisioner's command (pid %d) still runs after the restart", pid)
			}
			time.Sleep(time.Until(at.Add(sleep + 5*time.Second)))
			if got := applyLines(t, applyCountFile(e, "app")); len(got) != 0 {
				t.Fatalf("the provisioner of the interrupted apply finished its work: %q", got)
			}
		})
	}
}

// alive reports whether process pid runs (a zombie does not).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...
	s := string(data)
	i := strings.LastIndex(s, ")")
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
