package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/emulator"
)

// localFilesTF is a root module with a local backend at e.StatePath(name)
// and one local_file per entry of files (resource name -> absolute path),
// each holding "NAME v1\n".
func localFilesTF(e *Env, name string, files ...[2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "terraform {\n  backend \"local\" {\n    path = %q\n  }\n", e.StatePath(name))
	b.WriteString("  required_providers {\n    local = { source = \"hashicorp/local\" }\n  }\n}\n")
	for _, f := range files {
		fmt.Fprintf(&b, "\nresource \"local_file\" %q {\n  filename = %q\n  content  = %q\n}\n", f[0], f[1], f[0]+" v1\n")
	}
	return b.String()
}

// driftRun asks atoll's API for a drift check and waits until it is done.
func (e *Env) driftRun(repo, project string) testdrive.DriftRun {
	e.t.Helper()
	id, err := e.C.StartDrift(e.Ctx(), repo, project)
	if err != nil {
		e.t.Fatal(err)
	}
	dr, err := e.C.WaitDrift(e.Ctx(), id, 3*time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return dr
}

// driftStatus is a project's status and issue in a finished drift run.
func driftStatus(t *testing.T, dr testdrive.DriftRun, project string) (string, int) {
	t.Helper()
	for _, p := range dr.Projects {
		if p.Project == project {
			n := 0
			if p.Issue != nil {
				n = *p.Issue
			}
			return p.Status, n
		}
	}
	t.Fatalf("project %s not in drift run %+v", project, dr)
	return "", 0
}

// openDriftIssues are the open issues labelled atoll:drift.
func (e *Env) openDriftIssues(repo string) []testdrive.Issue {
	e.t.Helper()
	is, err := e.C.Issues(e.Ctx(), repo, "atoll:drift", "open")
	if err != nil {
		e.t.Fatal(err)
	}
	return is
}

// issueView is what a reader sees of an issue: state, body, last update,
// and how many comments.
type issueView struct {
	State, Title, Body string
	Updated            time.Time
	Labels             []string
	Comments           int
}

func (e *Env) issue(repo string, n int) issueView {
	e.t.Helper()
	owner, name, _ := strings.Cut(repo, "/")
	is, _, err := e.C.REST.Issues.Get(e.Ctx(), owner, name, n)
	if err != nil {
		e.t.Fatal(err)
	}
	v := issueView{State: is.GetState(), Title: is.GetTitle(), Body: is.GetBody(), Updated: is.GetUpdatedAt().Time, Comments: is.GetComments()}
	for _, l := range is.Labels {
		v.Labels = append(v.Labels, l.GetName())
	}
	return v
}

// mainHead is the head SHA of a repository's main branch.
func (e *Env) mainHead(repo string) string {
	e.t.Helper()
	owner, name, _ := strings.Cut(repo, "/")
	br, _, err := e.C.REST.Repositories.GetBranch(e.Ctx(), owner, name, "main", 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return br.GetCommit().GetSHA()
}

// driftChecks are every check run named atoll/drift: PROJECT on a commit
// (filter=all), newest first.
func (e *Env) driftChecks(repo, sha, project string) []testdrive.CheckRun {
	e.t.Helper()
	owner, name, _ := strings.Cut(repo, "/")
	res, _, err := e.C.REST.Checks.ListCheckRunsForRef(e.Ctx(), owner, name, sha, &gh.ListCheckRunsOptions{
		CheckName: gh.String("atoll/drift: " + project), Filter: gh.String("all"), ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		e.t.Fatal(err)
	}
	runs := res.CheckRuns
	sort.Slice(runs, func(i, j int) bool { return runs[i].GetID() > runs[j].GetID() })
	var out []testdrive.CheckRun
	for _, cr := range runs {
		out = append(out, testdrive.CheckRun{Name: cr.GetName(), Status: cr.GetStatus(), Conclusion: cr.GetConclusion(), Title: cr.GetOutput().GetTitle()})
	}
	return out
}

// latestDriftCheck is the conclusion of the newest atoll/drift: PROJECT
// check run on a commit ("" when there is none).
func (e *Env) latestDriftCheck(repo, sha, project string) string {
	e.t.Helper()
	cs := e.driftChecks(repo, sha, project)
	if len(cs) == 0 {
		return ""
	}
	return cs[0].Conclusion
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hasLabel(labels []string, l string) bool {
	for _, x := range labels {
		if x == l {
			return true
		}
	}
	return false
}

// The whole life of a drift issue, driven through the API token as an
// operator would: a project never applied shows as drift, `atoll apply` on
// its issue remediates it and the next check closes the issue; an edited
// local_file opens one issue labelled atoll:drift; the same drift again
// leaves it exactly as it was; a different drift updates it and says so;
// restoring the files closes it.
func TestDriftIssueLifecycle(t *testing.T) {
	e := Start(t, Options{})
	a, b := filepath.Join(e.Dir, "files", "a.txt"), filepath.Join(e.Dir, "files", "b.txt")
	repo := e.Repo("drift", map[string]string{"app/main.tf": localFilesTF(e, "app", [2]string{"a", a}, [2]string{"b", b})},
		map[string]string{"alice": "write", "bob": "write"})

	// Never applied: the check finds the files to create.
	dr := e.driftRun(repo, "")
	st, first := driftStatus(t, dr, "app")
	if st != "drifted" || first == 0 {
		t.Fatalf("first check: status %s, issue %d; want drifted with an issue (run %+v)", st, first, dr)
	}
	// Remediation: `atoll plan` on the issue shows the plan of the default
	// branch, a second person signs it off, `atoll apply` applies it.
	last := e.Comment(repo, first, "alice", "atoll plan")
	e.Wait(repo, first, last, "Plan: 2 to add")
	last = e.Comment(repo, first, "bob", "atoll approve")
	e.Wait(repo, first, last, "approved the remediation plan")
	last = e.Comment(repo, first, "alice", "atoll apply")
	e.Wait(repo, first, last, "Apply complete!")
	for _, f := range []string{a, b} {
		if got, err := os.ReadFile(f); err != nil || !strings.HasSuffix(string(got), " v1\n") {
			t.Fatalf("remediation did not write %s: %q, %v", f, got, err)
		}
	}
	// The check after the remediation finds the project in sync and closes the issue.
	e.Wait(repo, first, last, "Drift resolved")
	e.Eventually("remediated issue closed", func() bool { return e.issue(repo, first).State == "closed" })

	// Out-of-band edit of one file: drift.
	writeFile(t, a, "edited by hand\n")
	dr = e.driftRun(repo, "")
	st, n := driftStatus(t, dr, "app")
	if st != "drifted" || n == 0 || n == first {
		t.Fatalf("after editing a.txt: status %s, issue %d; want drifted with a new issue (the old #%d is closed)", st, n, first)
	}
	open := e.openDriftIssues(repo)
	if len(open) != 1 || open[0].Number != n {
		t.Fatalf("open atoll:drift issues = %+v, want exactly #%d", open, n)
	}
	v1 := e.issue(repo, n)
	if !hasLabel(v1.Labels, "atoll:drift") || !hasLabel(v1.Labels, "atoll:drift:app") {
		t.Errorf("labels = %v, want atoll:drift and atoll:drift:app", v1.Labels)
	}
	if !strings.Contains(v1.Body, "local_file.a") || strings.Contains(v1.Body, "local_file.b") {
		t.Errorf("issue body does not name exactly the drifted resource local_file.a:\n%s", v1.Body)
	}
	for _, want := range []string{"First seen", "Last seen", "atoll apply", "<details"} {
		if !strings.Contains(v1.Body, want) {
			t.Errorf("issue body lacks %q:\n%s", want, v1.Body)
		}
	}
	head := e.mainHead(repo)
	if c := e.latestDriftCheck(repo, head, "app"); c != "neutral" {
		t.Errorf("latest check run atoll/drift: app on %s is %q, want neutral (drifted)", head, c)
	}

	// The same drift again: the issue is not touched.
	dr = e.driftRun(repo, "")
	if st, again := driftStatus(t, dr, "app"); st != "drifted" || again != n {
		t.Fatalf("second check: status %s, issue %d; want drifted, #%d", st, again, n)
	}
	if open := e.openDriftIssues(repo); len(open) != 1 || open[0].Number != n {
		t.Fatalf("after a second check, open atoll:drift issues = %+v, want exactly #%d", open, n)
	}
	v2 := e.issue(repo, n)
	if v2.Body != v1.Body || v2.Title != v1.Title || !v2.Updated.Equal(v1.Updated) || v2.Comments != v1.Comments {
		t.Fatalf("the same drift edited the issue: updated %s -> %s, comments %d -> %d, body changed %v",
			v1.Updated, v2.Updated, v1.Comments, v2.Comments, v2.Body != v1.Body)
	}

	// A different drift: the second file edited too. The issue is updated and says so.
	writeFile(t, b, "also edited\n")
	lastC := e.C.LastCommentID(e.Ctx(), repo, n)
	dr = e.driftRun(repo, "")
	if st, again := driftStatus(t, dr, "app"); st != "drifted" || again != n {
		t.Fatalf("changed drift: status %s, issue %d; want drifted, #%d", st, again, n)
	}
	v3 := e.issue(repo, n)
	if v3.State != "open" || !strings.Contains(v3.Body, "local_file.b") || !strings.Contains(v3.Body, "The drift changed") {
		t.Errorf("changed drift: issue %s, body not updated to name local_file.b and say it changed:\n%s", v3.State, v3.Body)
	}
	e.Wait(repo, n, lastC, "The drift changed")
	if open := e.openDriftIssues(repo); len(open) != 1 {
		t.Fatalf("changed drift opened another issue: %+v", open)
	}

	// Restored by hand: in sync, the issue gets a comment and is closed.
	writeFile(t, a, "a v1\n")
	writeFile(t, b, "b v1\n")
	lastC = e.C.LastCommentID(e.Ctx(), repo, n)
	dr = e.driftRun(repo, "")
	if st, issue := driftStatus(t, dr, "app"); st != "in_sync" || issue != 0 {
		t.Fatalf("restored: status %s, issue %d; want in_sync, no issue", st, issue)
	}
	e.Wait(repo, n, lastC, "Drift resolved")
	if v := e.issue(repo, n); v.State != "closed" {
		t.Fatalf("issue #%d is %s after the drift was undone, want closed", n, v.State)
	}
	if open := e.openDriftIssues(repo); len(open) != 0 {
		t.Fatalf("open atoll:drift issues after restore: %+v", open)
	}
	if c := e.latestDriftCheck(repo, head, "app"); c != "success" {
		t.Errorf("latest check run atoll/drift: app is %q, want success (in sync)", c)
	}
}

// A check that cannot plan is an error, never drift nor in sync: a failing
// plan opens no issue; an unreadable state leaves the open drift issue
// open, with an error comment and its description untouched; once the
// state is readable again the same drift leaves the issue as it was.
func TestDriftErrorIsNotDrift(t *testing.T) {
	e := Start(t, Options{})
	a := filepath.Join(e.Dir, "files", "a.txt")
	broken := e.Backend("broken") + "resource \"terraform_data\" \"x\" {\n  input = file(\"" + filepath.Join(e.Dir, "missing.txt") + "\")\n}\n"
	repo := e.Repo("drifterr", map[string]string{
		"app/main.tf":    localFilesTF(e, "app", [2]string{"a", a}),
		"broken/main.tf": broken,
	}, nil)

	dr := e.driftRun(repo, "")
	st, n := driftStatus(t, dr, "app")
	if st != "drifted" || n == 0 {
		t.Fatalf("app: status %s, issue %d; want drifted with an issue", st, n)
	}
	if st, issue := driftStatus(t, dr, "broken"); st != "error" || issue != 0 {
		t.Fatalf("broken: status %s, issue %d; want error and no issue", st, issue)
	}
	if is, err := e.C.Issues(e.Ctx(), repo, "atoll:drift:broken", "all"); err != nil || len(is) != 0 {
		t.Fatalf("a failing plan got a drift issue: %+v, %v", is, err)
	}
	head := e.mainHead(repo)
	if cs := e.driftChecks(repo, head, "broken"); len(cs) != 1 || cs[0].Conclusion != "failure" {
		t.Errorf("check runs atoll/drift: broken = %+v, want one failure", cs)
	}
	before := e.issue(repo, n)

	// Unreadable state: an error, reported on the open issue.
	writeFile(t, e.StatePath("app"), "this is not a state file {")
	last := e.C.LastCommentID(e.Ctx(), repo, n)
	dr = e.driftRun(repo, "app")
	if len(dr.Projects) != 1 {
		t.Fatalf("a check of one project reported %+v", dr.Projects)
	}
	if st, issue := driftStatus(t, dr, "app"); st != "error" || issue != n {
		t.Fatalf("unreadable state: status %s, issue %d; want error on #%d", st, issue, n)
	}
	e.Wait(repo, n, last, "The drift check failed")
	after := e.issue(repo, n)
	if after.State != "open" || after.Body != before.Body || after.Title != before.Title {
		t.Fatalf("an error changed the drift issue: state %s, body changed %v", after.State, after.Body != before.Body)
	}
	if open := e.openDriftIssues(repo); len(open) != 1 || open[0].Number != n {
		t.Fatalf("open atoll:drift issues = %+v, want exactly #%d", open, n)
	}
	if c := e.latestDriftCheck(repo, head, "app"); c != "failure" {
		t.Errorf("latest check run atoll/drift: app is %q, want failure (error)", c)
	}

	// Readable again (no state: the same drift as before): the issue stays as it was.
	if err := os.Remove(e.StatePath("app")); err != nil {
		t.Fatal(err)
	}
	dr = e.driftRun(repo, "app")
	if st, issue := driftStatus(t, dr, "app"); st != "drifted" || issue != n {
		t.Fatalf("state readable again: status %s, issue %d; want drifted, #%d", st, issue, n)
	}
	if again := e.issue(repo, n); again.Body != before.Body || again.Comments != after.Comments {
		t.Fatalf("the same drift after an error edited the issue (comments %d -> %d)", after.Comments, again.Comments)
	}
}

// Two triggers of one repository while its check runs start one check; a
// project locked by an open pull request is still checked and the issue
// says which pull request holds it; `atoll drift run --wait` reports the
// result and fails on drift; a second run leaves exactly one issue.
func TestDriftTriggersRunOnce(t *testing.T) {
	e := Start(t, Options{})
	a := filepath.Join(e.Dir, "files", "a.txt")
	tf := localFilesTF(e, "app", [2]string{"a", a})
	repo := e.Repo("driftonce", map[string]string{"app/main.tf": tf}, map[string]string{"alice": "write"})
	pr := e.PR(repo, "lock-app", "alice", map[string]*string{"app/main.tf": S(tf + "\n# a comment\n")})
	e.Wait(repo, pr, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")

	ctx := e.Ctx()
	id1, err := e.C.StartDrift(ctx, repo, "")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := e.C.StartDrift(ctx, repo, "")
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 {
		t.Fatalf("two overlapping triggers started two checks: %s and %s", id1, id2)
	}
	dr, err := e.C.WaitDrift(ctx, id1, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(dr.Projects) != 1 {
		t.Fatalf("projects = %+v, want app once", dr.Projects)
	}
	st, n := driftStatus(t, dr, "app")
	if st != "drifted" || n == 0 {
		t.Fatalf("status %s, issue %d; want drifted with an issue", st, n)
	}
	head := e.mainHead(repo)
	if cs := e.driftChecks(repo, head, "app"); len(cs) != 1 {
		t.Fatalf("check runs atoll/drift: app = %+v, want exactly one: the triggers ran once", cs)
	}
	if body := e.issue(repo, n).Body; !strings.Contains(body, fmt.Sprintf("#%d", pr)) || !strings.Contains(body, "holds the lock") {
		t.Errorf("the drift issue does not say that #%d holds the lock:\n%s", pr, body)
	}

	// The operator's command, through the built binary.
	cmd := exec.Command(atollBin, "drift", "run", "--server", e.AtollURL, "--token", e.Token, "--repo", repo, "--wait")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("atoll drift run --wait on a drifted repo: %v, want exit status 1\n%s", err, out.String())
	}
	if s := out.String(); !strings.Contains(s, "app") || !strings.Contains(s, "drifted") || !strings.Contains(s, fmt.Sprintf("#%d", n)) {
		t.Errorf("atoll drift run --wait printed:\n%s\nwant app, drifted and issue #%d", s, n)
	}
	if open := e.openDriftIssues(repo); len(open) != 1 || open[0].Number != n {
		t.Fatalf("after a second run, open atoll:drift issues = %+v, want exactly #%d", open, n)
	}
	if _, err := e.C.StartDrift(ctx, Org+"/not-installed", ""); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a trigger for a repository atoll does not serve: %v, want 404", err)
	}
	bad := exec.Command(atollBin, "drift", "run", "--server", e.AtollURL, "--token", "wrong", "--repo", repo)
	if outb, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(outb), "401") {
		t.Errorf("a wrong API token was accepted: %v\n%s", err, outb)
	}
}

// The schedule: a repository whose atoll.yaml sets its own schedule (the
// server allows repo_override) is checked on it, with no trigger; one that
// keeps the server's yearly schedule is not.
func TestDriftScheduleRepoOverride(t *testing.T) {
	e := Start(t, Options{ServerConfig: "drift:\n  enabled: true\n  schedule: \"0 0 1 1 *\"\n  repo_override: true\n"})
	a := filepath.Join(e.Dir, "files", "a.txt")
	b := filepath.Join(e.Dir, "files", "b.txt")
	own := e.Repo("driftown", map[string]string{
		"atoll.yaml":  "version: 1\ndrift:\n  schedule: \"* * * * *\"\n",
		"app/main.tf": localFilesTF(e, "own", [2]string{"a", a}),
	}, nil)
	plain := e.Repo("driftplain", map[string]string{"app/main.tf": localFilesTF(e, "plain", [2]string{"b", b})}, nil)

	deadline := time.Now().Add(150 * time.Second)
	for len(e.openDriftIssues(own)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no drift issue on %s from its every-minute schedule within 150s", own)
		}
		time.Sleep(time.Second)
	}
	if cs := e.driftChecks(own, e.mainHead(own), "app"); len(cs) == 0 {
		t.Errorf("no atoll/drift: app check run on %s", own)
	}
	if cs := e.driftChecks(plain, e.mainHead(plain), "app"); len(cs) != 0 {
		t.Errorf("%s keeps the server's yearly schedule but was checked: %+v", plain, cs)
	}
}

// A project with auto_remediate: true is applied by atoll itself when a
// check finds drift: the remediation is commented on the issue, and the
// check after it finds the project in sync and closes the issue.
func TestDriftAutoRemediate(t *testing.T) {
	e := Start(t, Options{ServerConfig: "drift:\n  auto_remediate_repos: [\"acme/driftauto\"]\n"})
	// Where the server does not allow it, auto_remediate is refused, once,
	// with the reason.
	off := filepath.Join(e.Dir, "files", "off.txt")
	offRepo := e.Repo("driftauto-off", map[string]string{
		"atoll.yaml":  "version: 1\nprojects:\n  - name: app\n    dir: app\n    auto_remediate: true\n",
		"app/main.tf": localFilesTF(e, "auto-off", [2]string{"a", off}),
	}, nil)
	dr := e.driftRun(offRepo, "")
	if st, n := driftStatus(t, dr, "app"); st != "drifted" || n == 0 {
		t.Fatalf("status %s, issue %d; want drifted with an issue", st, n)
	} else {
		e.Wait(offRepo, n, 0, "Apply refused", "`auto_remediate`", "drift.auto_remediate_repos")
	}
	if _, err := os.Stat(off); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("auto_remediate ran where the server does not allow it (%v)", err)
	}

	a := filepath.Join(e.Dir, "files", "a.txt")
	repo := e.Repo("driftauto", map[string]string{
		"atoll.yaml":  "version: 1\nprojects:\n  - name: app\n    dir: app\n    auto_remediate: true\n",
		"app/main.tf": localFilesTF(e, "auto", [2]string{"a", a}),
	}, nil)
	dr = e.driftRun(repo, "")
	st, n := driftStatus(t, dr, "app")
	if st != "drifted" || n == 0 {
		t.Fatalf("status %s, issue %d; want drifted with an issue", st, n)
	}
	e.Wait(repo, n, 0, "Apply complete!")
	e.Wait(repo, n, 0, "Drift resolved")
	e.Eventually("auto-remediated issue closed", func() bool { return e.issue(repo, n).State == "closed" })
	if got, err := os.ReadFile(a); err != nil || string(got) != "a v1\n" {
		t.Fatalf("auto-remediation did not write %s: %q, %v", a, got, err)
	}
}

// Remediation follows the same policies as a pull request: a mandatory
// policy that denies the plan refuses `atoll apply` on the drift issue
// until an owner approves on the issue; it applies only the plan shown on
// the issue, signed off by a second person (`atoll approve`).
func TestDriftRemediationPolicies(t *testing.T) {
	pol := t.TempDir()
	writeFile(t, filepath.Join(pol, "guard.rego"), `package atoll

import rego.v1

deny contains sprintf("%s writes a file", [rc.address]) if {
	some rc in input.plan.resource_changes
	rc.type == "local_file"
	"create" in rc.change.actions
}
`)
	e := Start(t, Options{ServerConfig: fmt.Sprintf("policy_sets:\n  - name: guard\n    path: %q\n    owners: [carol]\n", pol)})
	a := filepath.Join(e.Dir, "files", "a.txt")
	repo := e.Repo("driftpol", map[string]string{"app/main.tf": localFilesTF(e, "pol", [2]string{"a", a})},
		map[string]string{"alice": "write", "carol": "write"})
	dr := e.driftRun(repo, "")
	st, n := driftStatus(t, dr, "app")
	if st != "drifted" || n == 0 {
		t.Fatalf("status %s, issue %d; want drifted with an issue", st, n)
	}

	last := e.Comment(repo, n, "alice", "atoll plan")
	e.Wait(repo, n, last, "Plan: 1 to add")
	last = e.Comment(repo, n, "alice", "atoll apply")
	e.Wait(repo, n, last, "policy set `guard` failed", "local_file.a writes a file", "@carol",
		"no approval by a second person with the apply permission")
	if _, err := os.Stat(a); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a remediation refused by policy wrote %s (%v)", a, err)
	}
	last = e.Comment(repo, n, "alice", "atoll approve_policies")
	e.Wait(repo, n, last, "owns no policy set")
	last = e.Comment(repo, n, "carol", "atoll approve_policies")
	e.Wait(repo, n, last, "Approved policy sets `guard`")
	last = e.Comment(repo, n, "carol", "atoll approve")
	e.Wait(repo, n, last, "approved the remediation plan")

	last = e.Comment(repo, n, "alice", "atoll apply")
	e.Wait(repo, n, last, "Apply complete!")
	if got, err := os.ReadFile(a); err != nil || string(got) != "a v1\n" {
		t.Fatalf("approved remediation did not write %s: %q, %v", a, got, err)
	}
	e.Wait(repo, n, last, "Drift resolved")
	e.Eventually("remediated issue closed", func() bool { return e.issue(repo, n).State == "closed" })
}

// With drift.mode: refresh-only, a project applied through a pull request
// and edited out of band is reported as drift by a refresh-only plan (the
// configuration is not compared, only the state with reality), and the
// issue closes once the file is restored.
func TestDriftRefreshOnlyAfterPRApply(t *testing.T) {
	e := Start(t, Options{ServerConfig: "drift:\n  mode: refresh-only\n"})
	a := filepath.Join(e.Dir, "files", "a.txt")
	repo := e.Repo("driftrefresh", map[string]string{"README.md": "infra\n"}, map[string]string{"alice": "write", "bob": "write"})
	pr := e.PR(repo, "add-app", "alice", map[string]*string{"app/main.tf": S(localFilesTF(e, "refresh", [2]string{"a", a}))})
	e.Wait(repo, pr, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, pr, "bob")); err != nil {
		t.Fatal(err)
	}
	last := e.Comment(repo, pr, "alice", "atoll apply")
	e.Wait(repo, pr, last, "Apply complete!")
	if _, err := e.C.Control.Merge(e.Ctx(), emulator.Merge{Repo: repo, Number: pr, Author: "alice"}); err != nil {
		t.Fatal(err)
	}

	// A resource added to the default branch without an apply: a plan would
	// create it, a refresh-only plan does not look at the configuration.
	b := filepath.Join(e.Dir, "files", "b.txt")
	if _, err := e.C.Control.Commit(e.Ctx(), emulator.Commit{Repo: repo, Author: "alice", Message: "add b",
		Files: map[string]*string{"app/main.tf": S(localFilesTF(e, "refresh", [2]string{"a", a}, [2]string{"b", b}))}}); err != nil {
		t.Fatal(err)
	}
	dr := e.driftRun(repo, "")
	if st, n := driftStatus(t, dr, "app"); st != "in_sync" || n != 0 {
		t.Fatalf("applied, with an unapplied resource in the configuration: status %s, issue %d; want in_sync (refresh-only)", st, n)
	}
	writeFile(t, a, "edited by hand\n")
	dr = e.driftRun(repo, "")
	st, n := driftStatus(t, dr, "app")
	if st != "drifted" || n == 0 {
		t.Fatalf("edited: status %s, issue %d; want drifted with an issue", st, n)
	}
	if body := e.issue(repo, n).Body; !strings.Contains(body, "local_file.a") || strings.Contains(body, "local_file.b") {
		t.Errorf("the refresh-only drift issue does not name exactly local_file.a:\n%s", body)
	}
	writeFile(t, a, "a v1\n")
	dr = e.driftRun(repo, "")
	if st, issue := driftStatus(t, dr, "app"); st != "in_sync" || issue != 0 {
		t.Fatalf("restored: status %s, issue %d; want in_sync", st, issue)
	}
	if v := e.issue(repo, n); v.State != "closed" {
		t.Fatalf("issue #%d is %s after restore, want closed", n, v.State)
	}
}
