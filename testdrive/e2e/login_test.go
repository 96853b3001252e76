package e2e

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/testdrive/emulator"
	bolt "go.etcd.io/bbolt"
)

// Login signs login in to atoll's web UI through the emulator's OAuth
// web flow, as a browser does, and returns a client holding the session.
func (e *Env) Login(login string) *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		// The emulator's authorize page would ask whom to sign in as:
		// answer for the browser.
		if strings.HasSuffix(req.URL.Path, "/login/oauth/authorize") && req.URL.Query().Get("login") == "" {
			q := req.URL.Query()
			q.Set("login", login)
			req.URL.RawQuery = q.Encode()
		}
		return nil
	}}
	resp, err := c.Get(e.AtollURL + "/login")
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		e.t.Fatalf("login as %s ended at %s with %d: %s", login, resp.Request.URL, resp.StatusCode, body)
	}
	return c
}

// PrivateRepo is Repo, private.
func (e *Env) PrivateRepo(name string, files map[string]string, perms map[string]string) string {
	e.t.Helper()
	if _, err := e.C.Control.CreateRepo(e.Ctx(), emulator.CreateRepo{Owner: Org, Name: name, Files: files, Private: true}); err != nil {
		e.t.Fatal(err)
	}
	full := Org + "/" + name
	for u, p := range perms {
		if err := e.C.Control.SetPermission(e.Ctx(), full, u, p); err != nil {
			e.t.Fatal(err)
		}
	}
	return full
}

// waitPage polls a page until it shows want.
func (e *Env) waitPage(c *http.Client, path, want string) string {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, body := e.page(c, path)
		if strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s never showed %q:\n%s", path, want, body)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// page GETs an atoll page with c and returns its status and body.
func (e *Env) page(c *http.Client, path string) (int, string) {
	e.t.Helper()
	resp, err := c.Get(e.AtollURL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// form posts a form of the page at from, with its CSRF token, and
// returns the status and body of where it ends.
func (e *Env) form(c *http.Client, from, action string, v url.Values) (int, string) {
	e.t.Helper()
	_, body := e.page(c, from)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no CSRF token on %s", from)
	}
	v.Set("csrf", m[1])
	resp, err := c.PostForm(e.AtollURL+action, v)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestWebUILogin signs in through GitHub and checks who sees and does
// what: a writer sees the repository, its job and its lock and releases
// the lock (after a confirmation); a user without access sees none of it;
// nobody signed in is sent to /login; the release is in the audit trail.
func TestWebUILogin(t *testing.T) {
	e := Start(t, Options{})
	// A private repository: on a public one GitHub gives everyone read.
	repo := e.PrivateRepo("web", map[string]string{"app/main.tf": `resource "terraform_data" "x" { input = "v0" }` + "\n"},
		map[string]string{"alice": "write", "rita": "read"})
	e.PR(repo, "one", "alice", map[string]*string{"app/main.tf": S(`resource "terraform_data" "x" { input = "v1" }` + "\n")})
	alice := e.Login("alice")
	e.waitPage(alice, "/jobs?kind=plan&state=succeeded", `href="/jobs/j`)

	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := anon.Get(e.AtollURL + "/locks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous /locks: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	_, front := e.page(alice, "/")
	if !strings.Contains(front, repo) {
		t.Fatalf("alice's front page lacks %s:\n%s", repo, front)
	}
	_, locksPage := e.page(alice, "/locks")
	if !strings.Contains(locksPage, repo) || !strings.Contains(locksPage, "Release") {
		t.Fatalf("alice's /locks lacks the lock:\n%s", locksPage)
	}
	jobLink := regexp.MustCompile(`href="(/jobs/j[0-9a-f-]+)"`).FindStringSubmatch(front)
	if jobLink == nil {
		t.Fatalf("no job link on the front page:\n%s", front)
	}
	if code, job := e.page(alice, jobLink[1]); code != 200 || !strings.Contains(job, "Plan: 1 to add") {
		t.Fatalf("job page: %d\n%s", code, job)
	}

	// Mallory has no access: she sees none of the repository. Rita reads
	// it but may not release its lock, which needs `atoll unlock`'s write.
	nobody := e.Login("mallory")
	for _, p := range []string{"/", "/locks", "/jobs", "/drift", "/audit"} {
		if _, body := e.page(nobody, p); strings.Contains(body, repo) {
			t.Errorf("mallory, without access, sees %s on %s", repo, p)
		}
	}
	if code, _ := e.page(nobody, jobLink[1]); code != http.StatusNotFound {
		t.Errorf("mallory opens the job: %d", code)
	}
	rita := e.Login("rita")
	lockForm := url.Values{"repo": {repo}, "dir": {"app"}, "workspace": {"default"}, "confirm": {"yes"}}
	if code, _ := e.form(rita, "/locks", "/locks/release", lockForm); code != http.StatusForbidden {
		t.Errorf("rita (read) released a lock: %d", code)
	}
	// A form without the CSRF token is refused.
	if resp, err := alice.PostForm(e.AtollURL+"/locks/release", lockForm); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("release without CSRF token: %v %v", resp.StatusCode, err)
	}

	// Alice asks, is asked to confirm, and releases.
	if code, body := e.form(alice, "/locks", "/locks/release", url.Values{"repo": {repo}, "dir": {"app"}, "workspace": {"default"}}); code != 200 || !strings.Contains(body, "Yes, release the lock") {
		t.Fatalf("release asks for a confirmation: %d\n%s", code, body)
	}
	if code, body := e.form(alice, "/locks", "/locks/release", lockForm); code != 200 || strings.Contains(body, "<code>app</code>") {
		t.Fatalf("release: %d\n%s", code, body)
	}
	_, trail := e.page(alice, "/audit?action=lock.released")
	if !strings.Contains(trail, "alice") || !strings.Contains(trail, "web UI") {
		t.Errorf("the release is not in the audit trail:\n%s", trail)
	}

	// The trail the run wrote exports through the API and verifies
	// offline; one byte changed in the audit bucket is named.
	export := exec.Command(atollBin, "audit", "export", "--server", e.AtollURL, "--token", e.Token)
	out, err := export.Output()
	if err != nil || !strings.Contains(string(out), `"action":"lock.released"`) || !strings.Contains(string(out), `"action":"login"`) {
		t.Fatalf("audit export: %v\n%s", err, out)
	}
	e.Stop()
	dataDir := e.DataDir()
	verify := func() (string, error) {
		out, err := exec.Command(atollBin, "audit", "verify", "--data-dir", dataDir).CombinedOutput()
		return string(out), err
	}
	if out, err := verify(); err != nil || !strings.Contains(out, "audit trail OK") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	db, err := bolt.Open(filepath.Join(dataDir, "atoll.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	const target = 3
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, target}
		v := append([]byte(nil), b.Get(k)...)
		i := strings.Index(string(v), `"action":"`) + len(`"action":"`)
		v[i]++
		return b.Put(k, v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := verify(); err == nil || !strings.Contains(out, "BROKEN at record 3") {
		t.Fatalf("audit verify of a changed trail: %v\n%s", err, out)
	}
}

// TestWebUICancelQueuedJob: a writer cancels a job still waiting for a
// worker; it ends skipped, saying who cancelled it, and the audit trail
// has it. A reader may not.
func TestWebUICancelQueuedJob(t *testing.T) {
	e := Start(t, Options{ServerConfig: `workers: 1
workflows:
  slow:
    plan:
      steps:
      - run: sleep 8
      - init
      - plan
repo_rules:
- id: "acme/*"
  workflow: slow
`})
	tf := func(v string) string { return `resource "terraform_data" "x" { input = "` + v + `" }` + "\n" }
	repo := e.PrivateRepo("cancel", map[string]string{"a/main.tf": tf("0"), "b/main.tf": tf("0")},
		map[string]string{"alice": "write", "rita": "read"})
	e.PR(repo, "one", "alice", map[string]*string{"a/main.tf": S(tf("1")), "b/main.tf": S(tf("1"))})
	alice := e.Login("alice")
	list := e.waitPage(alice, "/jobs?state=queued", `href="/jobs/j`)
	id := regexp.MustCompile(`href="/jobs/(j[0-9a-f-]+)"`).FindStringSubmatch(list)[1]
	rita := e.Login("rita")
	if code, _ := e.form(rita, "/jobs/"+id, "/jobs/"+id+"/cancel", url.Values{}); code != http.StatusForbidden {
		t.Errorf("a reader cancels a job: %d", code)
	}
	if code, body := e.form(alice, "/jobs/"+id, "/jobs/"+id+"/cancel", url.Values{}); code != 200 || !strings.Contains(body, "cancelled by @alice") {
		t.Fatalf("cancel: %d\n%s", code, body)
	}
	e.waitPage(alice, "/audit?action=job.cancel", id)
}
