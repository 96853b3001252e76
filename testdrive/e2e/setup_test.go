package e2e

import (
	"bufio"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/testdrive"
)

// `atoll setup` against the emulator, driven as a browser would (a plain
// HTTP client following the form and GitHub's redirect), writes the
// App's credentials and a server config; `atoll server` runs with that
// config as written, the App is installed on a repository, and a PR gets
// its plan comment.
func TestSetupThenPlan(t *testing.T) {
	e := Start(t, Options{NoStart: true})
	dir := t.TempDir()
	out := filepath.Join(dir, "server.yaml")
	setup := exec.Command(atollBin, "setup", "--github-url", e.GitHub.URL, "--owner", Org, "--url", e.AtollURL,
		"--out", out, "--name", "Atoll CI", "--listen", freeAddr(t))
	stdout, err := setup.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	setup.Stderr = &stderr
	if err := setup.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = setup.Process.Kill() })
	lines := bufio.NewReader(stdout)
	first, err := lines.ReadString('\n')
	if err != nil {
		t.Fatalf("atoll setup printed nothing: %v\n%s", err, stderr.String())
	}
	pageURL := regexp.MustCompile(`http://\S+/`).FindString(first)
	if pageURL == "" {
		t.Fatalf("atoll setup does not name its page: %q", first)
	}

	// The browser: open the page, submit its form to GitHub, follow the
	// redirect back to atoll setup.
	page := get(t, pageURL)
	action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(page)
	manifest := regexp.MustCompile(`name="manifest" value="([^"]+)"`).FindStringSubmatch(page)
	if action == nil || manifest == nil {
		t.Fatalf("setup page has no manifest form:\n%s", page)
	}
	for _, want := range []string{`"url":"` + e.AtollURL + `/events"`, `"pull_requests":"write"`, `"checks":"write"`, `"issue_comment"`} {
		if !strings.Contains(html.UnescapeString(manifest[1]), want) {
			t.Errorf("manifest lacks %s: %s", want, html.UnescapeString(manifest[1]))
		}
	}
	resp, err := http.PostForm(html.UnescapeString(action[1]), url.Values{"manifest": {html.UnescapeString(manifest[1])}})
	if err != nil {
		t.Fatal(err)
	}
	done, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(done), "is created") {
		t.Fatalf("after GitHub's redirect: %d\n%s", resp.StatusCode, done)
	}
	rest, _ := io.ReadAll(lines)
	if err := setup.Wait(); err != nil {
		t.Fatalf("atoll setup: %v\n%s%s", err, rest, stderr.String())
	}
	for _, f := range []string{"app.pem", "webhook-secret", "client-secret", "server.yaml"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}

	// atoll runs with the written config, untouched: what differs per
	// test (listen address, data dir, the tools' provider mirror) comes
	// from the environment.
	e.Config = out
	t.Setenv("ATOLL_LISTEN", strings.TrimPrefix(e.AtollURL, "http://"))
	t.Setenv("ATOLL_DATA_DIR", filepath.Join(dir, "data"))
	t.Setenv("ATOLL_LOG_LEVEL", "debug")
	t.Setenv("ATOLL_SANDBOX_WRITE_PATHS", e.Dir) // the test's state files
	if rc := testdrive.ToolsCLIConfig(); rc != "" {
		t.Setenv("ATOLL_TERRAFORM_CLI_CONFIG_FILE", rc)
	}
	t.Setenv("ATOLL_TERRAFORM_PLUGIN_CACHE_DIR", filepath.Join(os.TempDir(), "atoll-e2e-plugin-cache"))
	e.StartAtoll()
	// Creating the organization's repository installs the App on it.
	repo := e.Repo("fromsetup", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write"})
	n := e.PR(repo, "change", "alice", map[string]*string{"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"x\" {}\n")})
	e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
}

func get(t *testing.T, u string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return string(b)
}
