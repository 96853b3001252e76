package testdrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// Demo walks through atoll against the emulator, printing what happens:
// a PR planned, a lock conflict, approval and apply, merge, a policy
// failure approved by the security team, apply after merge in a second
// repository, and drift found, reported and closed. Run fails at the
// first step that does not do what it should.
type Demo struct {
	GitHubURL, AtollURL, APIToken, DataDir string
	Out                                    io.Writer
	// Timeout bounds each wait (default 3 minutes).
	Timeout time.Duration

	c    *Client
	step int
}

const (
	infra    = DemoOrg + "/infra"
	platform = DemoOrg + "/platform"
)

// Run runs the demo.
func (d *Demo) Run(ctx context.Context) error {
	c, err := NewClient(d.GitHubURL, d.AtollURL, d.APIToken)
	if err != nil {
		return err
	}
	d.c = c
	if d.Timeout == 0 {
		d.Timeout = 3 * time.Minute
	}
	for _, s := range []func(context.Context) error{d.setup, d.planPR, d.lockConflict, d.applyPR, d.policy, d.afterMerge, d.drift} {
		if err := s(ctx); err != nil {
			fmt.Fprintf(d.Out, "\n✗ demo failed: %v\n", err)
			return err
		}
	}
	fmt.Fprintf(d.Out, "\n✓ demo complete: every step did what it should.\n")
	return nil
}

func (d *Demo) say(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.Out, "\n── %d. %s\n", d.step, fmt.Sprintf(format, args...))
}

// show prints a comment, shortened: its first lines, then any later line
// holding what the step waited for (say, a policy's message), so what the
// step is about is on screen. atoll's hidden markers are left out.
func (d *Demo) show(cm Comment, subs ...string) {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(cm.Body), "\n") {
		if !strings.HasPrefix(l, "<!-- atoll:") {
			lines = append(lines, l)
		}
	}
	const max = 25
	for i, l := range lines {
		if i < max || containsAny(l, subs) {
			if i >= max && !containsAny(lines[i-1], subs) {
				fmt.Fprintf(d.Out, "   │ …\n")
			}
			fmt.Fprintf(d.Out, "   │ %s\n", l)
		}
	}
	if len(lines) > max {
		fmt.Fprintf(d.Out, "   │ … (%s)\n", "the full comment is on the pull request")
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (d *Demo) wait(ctx context.Context, repo string, n int, after int64, subs ...string) (Comment, error) {
	cm, err := d.c.WaitComment(ctx, repo, n, after, d.Timeout, Contains(subs...))
	if err == nil {
		d.show(cm, subs...)
	}
	return cm, err
}

// waitRun waits until a run's comment (edited in place as each project
// finishes) is done and contains every one of subs.
func (d *Demo) waitRun(ctx context.Context, repo string, n int, after int64, subs ...string) (Comment, error) {
	return d.wait(ctx, repo, n, after, append([]string{"**done**"}, subs...)...)
}

func (d *Demo) comment(ctx context.Context, repo string, n int, author, body string) (int64, error) {
	last := d.c.LastCommentID(ctx, repo, n)
	fmt.Fprintf(d.Out, "   @%s comments: %s\n", author, body)
	_, err := d.c.Control.Comment(ctx, emulator.Comment{Repo: repo, Number: n, Author: author, Body: body})
	return last, err
}

func (d *Demo) setup(ctx context.Context) error {
	d.say("Create %s (projects app and db sharing modules/shared) and %s (apply after merge)", infra, platform)
	if _, err := d.c.Control.CreateRepo(ctx, emulator.CreateRepo{Owner: DemoOrg, Name: "infra", Files: demoInfra(d.DataDir)}); err != nil {
		return err
	}
	if _, err := d.c.Control.CreateRepo(ctx, emulator.CreateRepo{Owner: DemoOrg, Name: "platform", Files: demoPlatform(d.DataDir)}); err != nil {
		return err
	}
	for _, repo := range []string{infra, platform} {
		for user, perm := range map[string]string{"alice": "write", "bob": "write", "carol": "write", "dave": "read"} {
			if err := d.c.Control.SetPermission(ctx, repo, user, perm); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(d.Out, "   alice, bob and carol can write; dave can read; carol is in the security team")
	return d.c.Control.AddTeamMember(ctx, DemoOrg, "security", "carol")
}

func (d *Demo) planPR(ctx context.Context) error {
	d.say("alice changes the shared module and opens PR #1: atoll plans every project that uses it")
	if _, err := d.c.Control.Commit(ctx, emulator.Commit{Repo: infra, Branch: "shared-v2", Author: "alice", Message: "shared: v2",
		Files: map[string]*string{"modules/shared/main.tf": Str(strings.Replace(demoInfra(d.DataDir)["modules/shared/main.tf"], `"shared-${var.name}"`, `"shared-v2-${var.name}"`, 1))}}); err != nil {
		return err
	}
	n, err := d.c.Control.OpenPR(ctx, emulator.OpenPR{Repo: infra, Head: "shared-v2", Title: "Shared module v2", Author: "alice"})
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("expected PR #1, got #%d", n)
	}
	cm, err := d.c.WaitComment(ctx, infra, 1, 0, d.Timeout, func(body string) bool {
		// The comment is edited as each project finishes: wait for the run to
		// be done, with both projects planned.
		return strings.Contains(body, "**done**") && !strings.Contains(body, "running") &&
			strings.Count(body, "| 2 | 0 | 0 | ✅ planned |") == 2
	})
	if err == nil {
		d.show(cm)
	}
	return err
}

func (d *Demo) lockConflict(ctx context.Context) error {
	d.say("bob opens PR #2 that changes app: app is locked by PR #1, so atoll does not plan it; PR #2 waits in the plan queue")
	if _, err := d.c.Control.Commit(ctx, emulator.Commit{Repo: infra, Branch: "app-motd", Author: "bob", Message: "app: new motd",
		Files: map[string]*string{"app/main.tf": Str(strings.Replace(demoInfra(d.DataDir)["app/main.tf"], "hello from atoll", "hello again", 1))}}); err != nil {
		return err
	}
	if _, err := d.c.Control.OpenPR(ctx, emulator.OpenPR{Repo: infra, Head: "app-motd", Title: "New motd", Author: "bob"}); err != nil {
		return err
	}
	_, err := d.wait(ctx, infra, 2, 0, "#1", "Waiting")
	return err
}

func (d *Demo) applyPR(ctx context.Context) error {
	d.say("dave (read only) tries `atoll apply` on PR #1: refused")
	last, err := d.comment(ctx, infra, 1, "dave", "atoll apply")
	if err != nil {
		return err
	}
	if _, err := d.wait(ctx, infra, 1, last, "write"); err != nil {
		return err
	}
	d.say("alice tries `atoll apply` before any review: refused, `approved` is unmet")
	if last, err = d.comment(ctx, infra, 1, "alice", "atoll apply"); err != nil {
		return err
	}
	if _, err := d.wait(ctx, infra, 1, last, "approved"); err != nil {
		return err
	}
	d.say("bob approves PR #1 and alice applies")
	if _, err := d.c.Control.Review(ctx, emulator.Review{Repo: infra, Number: 1, Author: "bob", State: "APPROVED"}); err != nil {
		return err
	}
	if last, err = d.comment(ctx, infra, 1, "alice", "atoll apply"); err != nil {
		return err
	}
	if _, err := d.waitRun(ctx, infra, 1, last, "Apply complete!"); err != nil {
		return err
	}
	if _, err := os.Stat(DemoMotdPath(d.DataDir)); err != nil {
		return fmt.Errorf("the apply did not create %s: %w", DemoMotdPath(d.DataDir), err)
	}
	fmt.Fprintf(d.Out, "   %s now exists\n", DemoMotdPath(d.DataDir))
	d.say("alice merges PR #1: its locks are released, and the plan queue plans PR #2 by itself; bob then closes it")
	last = d.c.LastCommentID(ctx, infra, 1)
	lastTwo := d.c.LastCommentID(ctx, infra, 2)
	if _, err := d.c.Control.Merge(ctx, emulator.Merge{Repo: infra, Number: 1, Author: "alice"}); err != nil {
		return err
	}
	if _, err := d.wait(ctx, infra, 1, last, "released"); err != nil {
		return err
	}
	if _, err := d.waitRun(ctx, infra, 2, lastTwo, "Started by the plan queue", "Plan:"); err != nil {
		return err
	}
	return d.c.Control.ClosePR(ctx, emulator.ClosePR{Repo: infra, Number: 2, Author: "bob"})
}

func (d *Demo) policy(ctx context.Context) error {
	d.say("alice opens PR #3 making the motd world-writable: the security policy fails")
	if _, err := d.c.Control.Commit(ctx, emulator.Commit{Repo: infra, Branch: "open-motd", Author: "alice", Message: "app: everyone may write the motd",
		Files: map[string]*string{"app/main.tf": Str(strings.Replace(demoInfra(d.DataDir)["app/main.tf"], `"0644"`, `"0666"`, 1))}}); err != nil {
		return err
	}
	n, err := d.c.Control.OpenPR(ctx, emulator.OpenPR{Repo: infra, Head: "open-motd", Title: "World-writable motd", Author: "alice"})
	if err != nil {
		return err
	}
	if _, err := d.wait(ctx, infra, n, 0, "world-writable"); err != nil {
		return err
	}
	if _, err := d.c.Control.Review(ctx, emulator.Review{Repo: infra, Number: n, Author: "bob", State: "APPROVED"}); err != nil {
		return err
	}
	d.say("bob approved, but the apply is refused: `policies_passed` is unmet")
	last, err := d.comment(ctx, infra, n, "alice", "atoll apply")
	if err != nil {
		return err
	}
	if _, err := d.wait(ctx, infra, n, last, "policies_passed"); err != nil {
		return err
	}
	d.say("bob is not in the security team: his `atoll approve_policies` is refused")
	if last, err = d.comment(ctx, infra, n, "bob", "atoll approve_policies"); err != nil {
		return err
	}
	if _, err := d.wait(ctx, infra, n, last, "not an owner"); err != nil {
		return err
	}
	d.say("carol, of the security team, approves; alice applies; the PR is merged")
	if last, err = d.comment(ctx, infra, n, "carol", "atoll approve_policies"); err != nil {
		return err
	}
	if _, err := d.wait(ctx, infra, n, last, "Approved"); err != nil {
		return err
	}
	if last, err = d.comment(ctx, infra, n, "alice", "atoll apply"); err != nil {
		return err
	}
	if _, err := d.waitRun(ctx, infra, n, last, "Apply complete!"); err != nil {
		return err
	}
	_, err = d.c.Control.Merge(ctx, emulator.Merge{Repo: infra, Number: n, Author: "alice"})
	return err
}

func (d *Demo) afterMerge(ctx context.Context) error {
	d.say("In %s (apply_mode: after_merge), a PR is applied when it merges, once its reviews are in", platform)
	if _, err := d.c.Control.Commit(ctx, emulator.Commit{Repo: platform, Branch: "bigger-vpc", Author: "alice", Message: "network: bigger VPC",
		Files: map[string]*string{"network/main.tf": Str(strings.Replace(demoPlatform(d.DataDir)["network/main.tf"], "10.0.0.0/16", "10.0.0.0/8", 1))}}); err != nil {
		return err
	}
	n, err := d.c.Control.OpenPR(ctx, emulator.OpenPR{Repo: platform, Head: "bigger-vpc", Title: "Bigger VPC", Author: "alice"})
	if err != nil {
		return err
	}
	if _, err := d.waitRun(ctx, platform, n, 0, "Plan: 1 to add"); err != nil {
		return err
	}
	d.say("bob approves PR #%d: a merge lifts no apply requirement", n)
	if _, err := d.c.Control.Review(ctx, emulator.Review{Repo: platform, Number: n, Author: "bob", State: "APPROVED"}); err != nil {
		return err
	}
	last := d.c.LastCommentID(ctx, platform, n)
	if _, err := d.c.Control.Merge(ctx, emulator.Merge{Repo: platform, Number: n, Author: "alice"}); err != nil {
		return err
	}
	_, err = d.waitRun(ctx, platform, n, last, "Apply complete!")
	return err
}

func (d *Demo) drift(ctx context.Context) error {
	motd := DemoMotdPath(d.DataDir)
	d.say("Someone edits %s by hand; a drift check opens an issue", motd)
	orig, err := os.ReadFile(motd)
	if err != nil {
		return err
	}
	if err := os.WriteFile(motd, []byte("edited by hand\n"), 0o644); err != nil {
		return err
	}
	issue, err := d.driftCheck(ctx, "drifted")
	if err != nil {
		return err
	}
	if issue == 0 {
		return errors.New("no drift issue was opened")
	}
	issues, err := d.c.Issues(ctx, infra, "atoll:drift", "open")
	if err != nil || len(issues) != 1 {
		return fmt.Errorf("expected one open drift issue, got %d (%v)", len(issues), err)
	}
	fmt.Fprintf(d.Out, "   issue #%d: %s\n", issues[0].Number, issues[0].Title)
	d.say("The file is restored; the next check closes the issue")
	if err := os.WriteFile(motd, orig, 0o777); err != nil {
		return err
	}
	if _, err := d.driftCheck(ctx, "in_sync"); err != nil {
		return err
	}
	closed, err := d.c.Issues(ctx, infra, "atoll:drift", "closed")
	if err != nil || len(closed) != 1 {
		return fmt.Errorf("expected the drift issue closed, got %d closed (%v)", len(closed), err)
	}
	fmt.Fprintf(d.Out, "   issue #%d is closed\n", closed[0].Number)
	return nil
}

// driftCheck runs a drift check of infra and returns app's issue number;
// app must have the status want.
func (d *Demo) driftCheck(ctx context.Context, want string) (int, error) {
	id, err := d.c.StartDrift(ctx, infra, "")
	if err != nil {
		return 0, err
	}
	run, err := d.c.WaitDrift(ctx, id, d.Timeout)
	if err != nil {
		return 0, err
	}
	issue := 0
	for _, p := range run.Projects {
		n := "-"
		if p.Issue != nil {
			n = fmt.Sprintf("#%d", *p.Issue)
		}
		fmt.Fprintf(d.Out, "   %-6s %-8s issue %s\n", p.Project, p.Status, n)
		if p.Project == "app" {
			if p.Status != want {
				return 0, fmt.Errorf("app is %s, expected %s", p.Status, want)
			}
			if p.Issue != nil {
				issue = *p.Issue
			}
		}
	}
	return issue, nil
}
