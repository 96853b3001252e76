package e2e

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/emulator"
)

// policyPublic is a policy set (package atoll) that denies a
// terraform_data whose input is "public".
const policyPublic = `package atoll

import rego.v1

deny contains {"msg": sprintf("%s is public: only the security team may publish", [rc.address]), "resource": rc.address} if {
	some rc in input.plan.resource_changes
	rc.type == "terraform_data"
	rc.change.after.input == "public"
}
`

// policyMessage is what policyPublic says of terraform_data.x.
const policyMessage = "terraform_data.x is public: only the security team may publish"

// policyDir writes a policy set (file name -> Rego) into a temporary
// directory of the test, outside every repository, and returns its path.
func policyDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// policyTF is a project's main.tf with terraform_data resources, each
// name -> input.
func policyTF(e *Env, project string, inputs ...string) string {
	var b strings.Builder
	b.WriteString(e.Backend(project))
	for i := 0; i+1 < len(inputs); i += 2 {
		fmt.Fprintf(&b, "resource \"terraform_data\" %q {\n  input = %q\n}\n", inputs[i], inputs[i+1])
	}
	return b.String()
}

// policyStep is one thing a person does on a pull request of the
// authorization matrix, and what atoll must answer.
type policyStep struct {
	// act is approve (a comment `atoll approve_policies ARGS`), review (an
	// approving review), commit (a new commit by the author, still
	// failing), leave (who leaves acme/security), merge (the author merges:
	// atoll applies after the merge) or apply (the author comments
	// `atoll apply`).
	act, who, args string
	// want is what atoll's answer contains; for apply, "Apply complete!"
	// or the refusal's words.
	want []string
}

var (
	policyRefused  = []string{"Apply refused", "`policies_passed`", "policy set `security` failed", policyMessage, "0 of 1 approvals", "@acme/security"}
	policyApplied  = []string{"Apply complete!"}
	policyApproved = []string{"Approved the failing policy sets `security on"}
)

// The authorization matrix of a mandatory policy failure: who comments
// `atoll approve_policies` (read, write, admin) x owner of the set or not
// x author of the pull request or not x a new commit after the approval,
// plus approving reviews (review_approves), a withdrawn approval and an
// owner who leaves the team before the apply. After every step that must
// not lift the failure, `atoll apply` is refused naming policies_passed
// and terraform has not touched the state; the only applies that happen
// follow a valid owner approval of the current head.
//
// Cells: read owner and read non-owner (permission denied, and a read
// owner's approving review does not count either); write or admin
// non-owner, author or not (refused, naming the owners); write or admin
// owner who wrote the PR (refused); write or admin owner who did not
// (counts), unless a new commit follows, the approval is withdrawn, or the
// owner leaves the team before the apply.
func TestPolicyAuthorizationMatrix(t *testing.T) {
	dir := policyDir(t, map[string]string{"public.rego": policyPublic})
	e := Start(t, Options{ServerConfig: fmt.Sprintf(`
apply_requirements: [mergeable]
apply_mode: both
policy_sets:
  - name: security
    path: %s
    owners: [acme/security]
    enforcement: mandatory
    review_approves: true
`, dir)})

	files := map[string]string{}
	for _, d := range []string{"a", "b", "c", "d"} {
		files[d+"/main.tf"] = e.Backend(d)
	}
	// acme/security: rita, wanda, otto and ada. alice writes most PRs.
	perms := map[string]string{
		"rob": "read", "rita": "read",
		"alice": "write", "wes": "write", "wanda": "write", "otto": "write",
		"adam": "admin", "ada": "admin",
	}
	repo := e.Repo("matrix", files, perms)
	// A merge moves main on: its PR gets a repository of its own, so the
	// other plans stay on the current base.
	merged := e.Repo("matrix-merged", map[string]string{"e/main.tf": e.Backend("e")}, perms)
	ctx := e.Ctx()
	for _, u := range []string{"rita", "wanda", "otto", "ada"} {
		if err := e.C.Control.AddTeamMember(ctx, Org, "security", u); err != nil {
			t.Fatal(err)
		}
	}

	permDenied := func(u string) []string {
		return []string{"@" + u, "you may not run `atoll approve_policies`", "write permission"}
	}
	notOwner := func(u string) []string {
		return []string{"@" + u + " is not an owner of `security`", "Its owners are: @acme/security"}
	}
	ownPR := func(u string) []string {
		return []string{"@" + u + ", the author of a pull request cannot approve its own policy failures"}
	}
	scenarios := []struct {
		name, dir, author string
		repo              string // default: acme/matrix
		steps             []policyStep
		// approvedBy: the last approval was this owner's (by command, or
		// by review where the set allows it), so the plan comment shows it
		// and the policy check run of the head ends in success.
		approvedBy string
	}{
		{name: "writer's PR", dir: "a", author: "alice", approvedBy: "ada", steps: []policyStep{
			{act: "apply", want: policyRefused},
			{act: "approve", who: "rob", want: permDenied("rob")},   // read, not owner
			{act: "approve", who: "rita", want: permDenied("rita")}, // read, owner
			{act: "approve", who: "wes", want: notOwner("wes")},     // write, not owner
			{act: "approve", who: "adam", want: notOwner("adam")},   // admin, not owner
			{act: "approve", who: "alice", want: notOwner("alice")}, // write, not owner, author
			{act: "approve", who: "wes", args: "--policy-set nope", want: []string{"No failing policy set to approve"}},
			{act: "apply", want: policyRefused},
			{act: "approve", who: "otto", want: policyApproved},  // write, owner
			{act: "leave", who: "otto"},                          // ...who leaves the team
			{act: "apply", want: policyRefused},                  // membership is asked again
			{act: "approve", who: "wanda", want: policyApproved}, // write, owner
			{act: "commit"}, // a new commit clears it
			{act: "apply", want: policyRefused},
			{act: "approve", who: "ada", args: "-p a", want: policyApproved}, // admin, owner
			{act: "apply", want: policyApplied},
		}},
		{name: "owner's PR", dir: "b", author: "wanda", approvedBy: "ada", steps: []policyStep{
			{act: "approve", who: "wanda", want: ownPR("wanda")}, // write, owner, author
			{act: "apply", want: policyRefused},
			{act: "approve", who: "ada", want: policyApproved},
			{act: "approve", who: "ada", args: "--clear", want: []string{"Withdrew the approval of the failing policy sets `security on b`", "@ada"}},
			{act: "apply", want: policyRefused},
			{act: "approve", who: "ada", args: "--policy-set security", want: policyApproved},
			{act: "apply", want: policyApplied},
		}},
		{name: "admin owner's PR", dir: "c", author: "ada", approvedBy: "wanda", steps: []policyStep{
			{act: "approve", who: "ada", want: ownPR("ada")}, // admin, owner, author
			{act: "apply", want: policyRefused},
			{act: "approve", who: "wanda", want: policyApproved},
			{act: "commit"},
			{act: "apply", want: policyRefused},
			{act: "approve", who: "wanda", want: policyApproved},
			{act: "apply", want: policyApplied},
		}},
		{name: "reviews", dir: "d", author: "alice", approvedBy: "wanda", steps: []policyStep{
			{act: "review", who: "wes"},  // write, not an owner
			{act: "review", who: "rita"}, // owner, read only
			{act: "apply", want: policyRefused},
			{act: "review", who: "wanda"}, // an owner...
			{act: "commit"},               // ...of a head that is gone
			{act: "apply", want: policyRefused},
			{act: "review", who: "wanda"},
			{act: "apply", want: policyApplied},
		}},
		{name: "merged unapproved", dir: "e", author: "alice", repo: merged, steps: []policyStep{
			{act: "merge", want: []string{"Apply refused", "This pull request is merged", "`policies_passed`", policyMessage}},
			{act: "approve", who: "wes", want: notOwner("wes")},
			{act: "apply", want: policyRefused},
			{act: "approve", who: "wanda", want: policyApproved},
			{act: "apply", want: policyApplied},
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			p := &policyPR{t: t, e: e, repo: cmp.Or(sc.repo, repo), dir: sc.dir, author: sc.author}
			p.open()
			for i, st := range sc.steps {
				p.step(i, st)
			}
			if sc.approvedBy != "" {
				p.waitPolicyCheck("success")
				p.wait(p.plan-1, "`security`: ☑️ approved by @"+sc.approvedBy)
			}
		})
	}
}

// policyPR drives one pull request of TestPolicyAuthorizationMatrix from
// a subtest (so it fails its own t, not the Env's).
type policyPR struct {
	t                 *testing.T
	e                 *Env
	repo, dir, author string
	n                 int
	commits           int
	plan              int64 // the plan comment of the head
}

func (p *policyPR) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	p.t.Cleanup(cancel)
	return ctx
}

// open opens the PR that makes terraform_data.x public and checks its
// plan comment and policy check run.
func (p *policyPR) open() {
	p.t.Helper()
	ctx := p.ctx()
	branch := "public-" + p.dir
	if _, err := p.e.C.Control.Commit(ctx, emulator.Commit{Repo: p.repo, Branch: branch, Author: p.author, Message: "publish " + p.dir,
		Files: map[string]*string{p.dir + "/main.tf": S(policyTF(p.e, p.dir, "x", "public"))}}); err != nil {
		p.t.Fatal(err)
	}
	n, err := p.e.C.Control.OpenPR(ctx, emulator.OpenPR{Repo: p.repo, Head: branch, Title: "publish " + p.dir, Author: p.author})
	if err != nil {
		p.t.Fatal(err)
	}
	p.n = n
	cm := p.wait(0, "Plan: 1 to add", policyMessage)
	p.plan = cm.ID
	for _, s := range []string{"`security`", "❌ failed", "@acme/security", "atoll approve_policies"} {
		if !strings.Contains(cm.Body, s) {
			p.t.Errorf("plan comment lacks %q:\n%s", s, cm.Body)
		}
	}
	p.waitPolicyCheck("failure")
}

func (p *policyPR) step(i int, st policyStep) {
	p.t.Helper()
	ctx := p.ctx()
	last := p.e.C.LastCommentID(ctx, p.repo, p.n)
	what := fmt.Sprintf("step %d (%s %s %s)", i, st.act, st.who, st.args)
	switch st.act {
	case "approve":
		p.comment(st.who, strings.TrimSpace("atoll approve_policies "+st.args))
		// atoll's first comment after the command that is not the tail of
		// an earlier apply's answer (a refused apply may post a second
		// note after the step that asked for it returned) is its answer.
		cm := p.waitMatch(what, last, func(b string) bool { return !strings.Contains(b, "was refused") })
		for _, s := range st.want {
			if !strings.Contains(cm.Body, s) {
				p.t.Fatalf("%s: the answer lacks %q:\n%s", what, s, cm.Body)
			}
		}
	case "review":
		if _, err := p.e.C.Control.Review(ctx, emulator.Review{Repo: p.repo, Number: p.n, Author: st.who, State: "APPROVED"}); err != nil {
			p.t.Fatal(err)
		}
	case "leave":
		if err := p.e.C.Control.RemoveTeamMember(ctx, Org, "security", st.who); err != nil {
			p.t.Fatal(err)
		}
	case "commit":
		p.commits++
		if _, err := p.e.C.Control.Commit(ctx, emulator.Commit{Repo: p.repo, Branch: "public-" + p.dir, Author: p.author,
			Message: "more", Files: map[string]*string{p.dir + "/main.tf": S(policyTF(p.e, p.dir, "x", "public",
				fmt.Sprintf("more%d", p.commits), "private"))}}); err != nil {
			p.t.Fatal(err)
		}
		p.plan = p.waitFor(what, last, "Plan: 2 to add", policyMessage).ID
		p.waitPolicyCheck("failure")
	case "merge", "apply":
		if st.act == "merge" {
			if _, err := p.e.C.Control.Merge(ctx, emulator.Merge{Repo: p.repo, Number: p.n, Author: p.author}); err != nil {
				p.t.Fatal(err)
			}
		} else {
			p.comment(p.author, "atoll apply")
		}
		cm := p.waitMatch(what, last, func(b string) bool {
			return strings.Contains(b, "Apply refused") || strings.Contains(b, "Apply complete!") || strings.Contains(b, "apply failed")
		})
		for _, s := range st.want {
			if !strings.Contains(cm.Body, s) {
				p.t.Fatalf("%s: the answer lacks %q:\n%s", what, s, cm.Body)
			}
		}
		if st.act == "merge" {
			p.waitFor(what, last, "`"+p.dir+"`", "locks stay held", "comment `atoll apply`")
		}
		applied := p.stateHasResource()
		if want := st.want[0] == "Apply complete!"; applied != want {
			p.t.Fatalf("%s: the state holds terraform_data.x: %v, want %v", what, applied, want)
		}
	default:
		p.t.Fatalf("unknown act %q", st.act)
	}
}

func (p *policyPR) comment(user, body string) {
	p.t.Helper()
	if _, err := p.e.C.Control.Comment(p.ctx(), emulator.Comment{Repo: p.repo, Number: p.n, Author: user, Body: body}); err != nil {
		p.t.Fatal(err)
	}
}

func (p *policyPR) wait(after int64, subs ...string) testdrive.Comment {
	p.t.Helper()
	return p.waitFor("", after, subs...)
}

func (p *policyPR) waitFor(what string, after int64, subs ...string) testdrive.Comment {
	p.t.Helper()
	return p.waitMatch(what, after, testdrive.Contains(subs...))
}

func (p *policyPR) waitMatch(what string, after int64, match func(string) bool) testdrive.Comment {
	p.t.Helper()
	cm, err := p.e.C.WaitComment(p.ctx(), p.repo, p.n, after, 3*time.Minute, match)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	return cm
}

// stateHasResource reports whether the project's state holds
// terraform_data.x: whether an apply ran.
func (p *policyPR) stateHasResource() bool {
	data, err := os.ReadFile(p.e.StatePath(p.dir))
	if os.IsNotExist(err) {
		return false
	}
	if err != nil {
		p.t.Fatal(err)
	}
	return strings.Contains(string(data), `"terraform_data"`)
}

// waitPolicyCheck waits until the newest `atoll/policy: DIR` check run of
// the head has conclusion.
func (p *policyPR) waitPolicyCheck(conclusion string) {
	p.t.Helper()
	name := "atoll/policy: " + p.dir
	var got string
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if got = policyNewestCheck(p.ctx(), p.e, p.repo, p.head(), name); got == conclusion {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.t.Fatalf("check run %q of the head: conclusion %q, want %q", name, got, conclusion)
}

func (p *policyPR) head() string {
	pr, err := p.e.C.PullRequest(p.ctx(), p.repo, p.n)
	if err != nil {
		p.t.Fatal(err)
	}
	return pr.GetHead().GetSHA()
}

// policyNewestCheck is the conclusion of the newest completed check run
// named name on sha ("" when none), as GitHub shows it on the PR.
func policyNewestCheck(ctx context.Context, e *Env, repo, sha, name string) string {
	owner, rname, _ := strings.Cut(repo, "/")
	res, _, err := e.C.REST.Checks.ListCheckRunsForRef(ctx, owner, rname, sha, &gh.ListCheckRunsOptions{
		CheckName: gh.String(name), ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		return ""
	}
	var newest *gh.CheckRun
	for _, cr := range res.CheckRuns {
		if cr.GetName() == name && cr.GetStatus() == "completed" && (newest == nil || cr.GetID() > newest.GetID()) {
			newest = cr
		}
	}
	return newest.GetConclusion()
}
