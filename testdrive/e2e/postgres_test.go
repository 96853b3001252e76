package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atollhq/atoll/testdrive/pgtest"
)

// apiGet reads one of atoll's REST endpoints with the admin token.
func apiGet(t *testing.T, e *Env, path string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.AtollURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
	}
	return string(body)
}

// TestMoveToPostgres runs a pull request through plan and a partial
// apply on bbolt, stops atoll, moves its data dir into PostgreSQL with
// `atoll db migrate`, and starts atoll on PostgreSQL with the same data
// dir but without its plan files and git mirrors, as a new replica would
// be: it serves the same locks, repositories and audit trail, and applies
// the plan made before the move (its plan file read from PostgreSQL, its
// merge commit made again, identical), without applying anything twice.
func TestMoveToPostgres(t *testing.T) {
	e := Start(t, Options{})
	repo := e.Repo("moving", map[string]string{"one/main.tf": e.Backend("one"), "two/main.tf": e.Backend("two")},
		map[string]string{"alice": "write", "bob": "write"})
	n := e.PR(repo, "both", "alice", map[string]*string{
		"one/main.tf": S(applyTF(e, "one", "v1")),
		"two/main.tf": S(applyTF(e, "two", "v1")),
	})
	e.Wait(repo, n, 0, "**done**: 2 planned")
	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last := e.Comment(repo, n, "alice", "atoll apply -p one")
	e.Wait(repo, n, last, "Apply complete!", "**done**")
	locksBefore := apiGet(t, e, "/api/locks")
	reposBefore := apiGet(t, e, "/api/repos")
	auditBefore := apiGet(t, e, "/api/audit")
	if !strings.Contains(locksBefore, "two") {
		t.Fatalf("no lock on project two before the move: %s", locksBefore)
	}
	e.Stop()

	url := pgtest.Database(t)
	out, err := exec.Command(atollBin, "db", "migrate", "--from", e.DataDir(), "--to", url).CombinedOutput()
	if err != nil {
		t.Fatalf("atoll db migrate: %v\n%s", err, out)
	}
	for _, want := range []string{"records/jobs", "records/plans", "locks", "audit", "records/planfiles", "every count matches"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("atoll db migrate's report lacks %q:\n%s", want, out)
		}
	}
	// A second run refuses: the database is no longer empty.
	if out, err := exec.Command(atollBin, "db", "migrate", "--from", e.DataDir(), "--to", url).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "already holds atoll data") {
		t.Errorf("a second migrate into the same database: %v\n%s", err, out)
	}

	// The plan files now live in PostgreSQL: the data dir's copies go,
	// and so do the mirrors, with the merge commit the plan was made on.
	for _, dir := range []string{"plans", "repos"} {
		if err := os.RemoveAll(filepath.Join(e.DataDir(), dir)); err != nil {
			t.Fatal(err)
		}
	}
	e.Config = e.writeConfig(filepath.Join(e.Private, "app.pem"), "database: "+url+"\n")
	e.StartAtoll()
	if got := apiGet(t, e, "/api/locks"); !sameJSON(t, got, locksBefore) {
		t.Errorf("locks on PostgreSQL:\n%s\nwant, as on bbolt:\n%s", got, locksBefore)
	}
	if got := apiGet(t, e, "/api/repos"); !sameJSON(t, got, reposBefore) {
		t.Errorf("repos on PostgreSQL:\n%s\nwant:\n%s", got, reposBefore)
	}
	if got := apiGet(t, e, "/api/audit"); auditBefore == "" || !strings.HasPrefix(got, auditBefore) {
		t.Errorf("the audit trail on PostgreSQL does not start as on bbolt:\n%s\nwant:\n%s", got, auditBefore)
	}
	if out, err := exec.Command(atollBin, "audit", "verify", "--database", url).CombinedOutput(); err != nil {
		t.Errorf("atoll audit verify --database: %v\n%s", err, out)
	}
	if code, notReady := readyz(e); code != http.StatusOK {
		t.Errorf("/readyz on PostgreSQL = %d %v", code, notReady)
	}

	last = e.Comment(repo, n, "alice", "atoll apply")
	cm := e.Wait(repo, n, last, "### atoll apply", "**done**")
	applyWant(t, cm.Body, "**done**: 1 applied", "#### two")
	if got := applyLines(t, applyCountFile(e, "two")); len(got) != 1 {
		t.Fatalf("project two applied %d times after the move, want 1:\n%s", len(got), cm.Body)
	}
	if got := applyLines(t, applyCountFile(e, "one")); len(got) != 1 {
		t.Fatalf("project one applied %d times, want 1 (before the move only)", len(got))
	}
}

// fraction is a time's fraction of a second in JSON (RFC 3339 with
// trailing zeros cut, as Go writes it).
var fraction = regexp.MustCompile(`(T\d\d:\d\d:\d\d)(?:\.(\d+))?Z`)

// toMicro writes every time's fraction in s with exactly six digits:
// PostgreSQL keeps microseconds, and Go cuts trailing zeros, so a time
// of .1000005 on bbolt reads back as .1 from PostgreSQL, and one of
// .0000005 with no fraction at all.
func toMicro(s string) string {
	return fraction.ReplaceAllStringFunc(s, func(m string) string {
		sub := fraction.FindStringSubmatch(m)
		return sub[1] + "." + (sub[2] + "000000")[:6] + "Z"
	})
}

// sameJSON compares two JSON documents by value, times to the
// microsecond.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	a, b = toMicro(a), toMicro(b)
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// TestPostgresStore runs a pull request through plan and apply on a server
// whose store is PostgreSQL from the start, keeps a person signed in
// across a restart, then takes the database away: /readyz says the
// database is not ready.
func TestPostgresStore(t *testing.T) {
	pg, err := pgtest.Start(context.Background(), pgtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	url, err := pg.CreateDatabase(context.Background(), "native")
	if err != nil {
		t.Fatal(err)
	}
	e := Start(t, Options{ServerConfig: "database: " + url})
	repo := e.Repo("native", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write", "bob": "write"})
	n := e.PR(repo, "change", "alice", map[string]*string{"app/main.tf": S(applyTF(e, "app", "v1"))})
	e.Wait(repo, n, 0, "**done**: 1 planned")
	if got := apiGet(t, e, "/api/locks"); !strings.Contains(got, `"dir":"app"`) {
		t.Fatalf("no lock on app after the plan: %s", got)
	}
	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last := e.Comment(repo, n, "alice", "atoll apply")
	cm := e.Wait(repo, n, last, "### atoll apply", "**done**")
	applyWant(t, cm.Body, "**done**: 1 applied")
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 {
		t.Fatalf("app applied %d times, want 1", len(got))
	}
	if code, notReady := readyz(e); code != http.StatusOK {
		t.Fatalf("/readyz on a live database = %d %v", code, notReady)
	}

	// A person signed in stays signed in across a restart: the session is
	// in the database, as another replica would find it.
	signedIn := e.Login("alice")
	e.Stop()
	e.StartAtoll()
	noFollow := &http.Client{Jar: signedIn.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if code, _ := e.page(noFollow, "/"); code != http.StatusOK {
		t.Fatalf("GET / after a restart with the session from before = %d, want 200 (still signed in)", code)
	}

	pg.Stop()
	code, notReady := readyz(e)
	if code != http.StatusServiceUnavailable || notReady["database"] == "" {
		t.Fatalf("/readyz with the database gone = %d %v; want 503 naming the database", code, notReady)
	}
}
