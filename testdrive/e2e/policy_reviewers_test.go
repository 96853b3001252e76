package e2e

import (
	"strings"
	"testing"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// Required reviewers beyond the approval count: a server rule on paths, a
// rule atoll.yaml adds, and code owners (code_owners: true) from the base
// branch's .github/CODEOWNERS. Each refusal names the teams or owners
// still missing; the pull request's own edits to CODEOWNERS and atoll.yaml
// change nothing; the apply runs once every one of them approved.
func TestPolicyRequiredReviewersAndCodeOwners(t *testing.T) {
	e := Start(t, Options{ServerConfig: `
code_owners: true
required_reviewers:
  - paths: ["net/**"]
    teams: [acme/netops]
`})
	repo := e.Repo("owned", map[string]string{
		".github/CODEOWNERS": "# owners\n" +
			"*       @acme/platform\n" +
			"/db/    @carol   # the DBA\n" +
			"/docs/\n",
		"atoll.yaml":  "version: 1\nrequired_reviewers:\n  - paths: [\"db/**\"]\n    teams: [acme/dba]\n",
		"db/main.tf":  e.Backend("db"),
		"net/main.tf": e.Backend("net"),
		"docs/README": "docs\n",
		"app/main.tf": e.Backend("app"),
		"README.md":   "owned\n",
	}, map[string]string{"alice": "write", "carol": "write", "pete": "write", "nora": "write", "rick": "read"})
	ctx := e.Ctx()
	for team, users := range map[string][]string{"platform": {"pete", "rick"}, "netops": {"nora"}, "dba": {"nora"}} {
		for _, u := range users {
			if err := e.C.Control.AddTeamMember(ctx, Org, team, u); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The PR also tries to drop carol, and the dba rule, in its own copies.
	n := e.PR(repo, "grow", "alice", map[string]*string{
		"db/main.tf":         S(policyTF(e, "db", "x", "v1")),
		"net/main.tf":        S(policyTF(e, "net", "x", "v1")),
		"docs/README":        S("more docs\n"),
		".github/CODEOWNERS": S("* @alice\n"),
		"atoll.yaml":         S("version: 1\n"),
	})
	e.WaitMatch(repo, n, 0, func(b string) bool { return strings.Count(b, "Plan: 1 to add") >= 2 })

	refusal := func(who string) string {
		t.Helper()
		last := e.Comment(repo, n, "alice", "atoll apply")
		return e.Wait(repo, n, last, "Apply refused").Body + "\n(after " + who + ")"
	}
	want := func(body string, subs ...string) {
		t.Helper()
		for _, s := range subs {
			if !strings.Contains(body, s) {
				t.Errorf("refusal lacks %q:\n%s", s, body)
			}
		}
	}
	not := func(body string, subs ...string) {
		t.Helper()
		for _, s := range subs {
			if strings.Contains(body, s) {
				t.Errorf("refusal has %q:\n%s", s, body)
			}
		}
	}
	review := func(user string) {
		t.Helper()
		if _, err := e.C.Control.Review(ctx, emulator.Review{Repo: repo, Number: n, Author: user, State: "APPROVED"}); err != nil {
			t.Fatal(err)
		}
	}
	const (
		netops    = "`required_reviewers`: 0 of 1 approvals from @acme/netops for changes to net/**"
		dba       = "`required_reviewers`: 0 of 1 approvals from @acme/dba for changes to db/**"
		dbOwner   = "`code_owners`: no approval by a code owner of `/db/` (@carol, .github/CODEOWNERS line 3) for db/main.tf"
		rootOwner = "`code_owners`: no approval by a code owner of `*` (@acme/platform, .github/CODEOWNERS line 2) for .github/CODEOWNERS, atoll.yaml, net/main.tf"
	)

	body := refusal("no review")
	want(body, "`approved`: 0 of 1", netops, dba, dbOwner, rootOwner)
	not(body, "docs/README") // /docs/ has no owners

	// A reader in the owning team does not count, as for `approved`.
	review("rick")
	body = refusal("rick")
	want(body, "`approved`: 0 of 1", rootOwner)

	review("carol")
	body = refusal("carol")
	want(body, netops, dba, rootOwner)
	not(body, "`approved`", "`/db/`")

	review("pete")
	body = refusal("pete")
	want(body, netops, dba)
	not(body, "`code_owners`")

	review("nora")
	last := e.Comment(repo, n, "alice", "atoll apply")
	e.WaitMatch(repo, n, last, func(b string) bool { return strings.Count(b, "Apply complete!") >= 2 })
}
