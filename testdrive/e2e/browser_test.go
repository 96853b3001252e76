package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/atollhq/atoll/testdrive/toolscache"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserUI drives headless Chromium (playwright-core, from the tools
// cache) through the web UI: a writer signs in through the emulator,
// follows a running job's live log, releases a lock after a confirmation
// and finds the release in /audit; a user without access sees none of the
// repository. Screenshots of each page go to the test's artifact
// directory (go test -artifacts keeps them), or to
// $ATOLL_BROWSER_SHOTS when set.
func TestBrowserUI(t *testing.T) {
	driver := toolscache.BrowserDriver(t)
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: apt-get install chromium (as .ci/run does)", chromiumPath)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is missing: apt-get install nodejs npm")
	}
	// A plan that takes a while and says so line by line, so that the
	// page has a live log to follow.
	cfg := `workflows:
  slow:
    plan:
      steps:
      - run: 'for i in $(seq 1 30); do echo "warming up $i of 30"; sleep 0.4; done'
      - init
      - plan
repo_rules:
- id: "acme/*"
  workflow: slow
`
	e := Start(t, Options{ServerConfig: cfg})
	repo := e.PrivateRepo("ui", map[string]string{"app/main.tf": `resource "terraform_data" "x" { input = "v0" }` + "\n"},
		map[string]string{"wendy": "write"})
	e.PR(repo, "change", "wendy", map[string]*string{"app/main.tf": S(`resource "terraform_data" "x" { input = "v1" }` + "\n")})

	shots := os.Getenv("ATOLL_BROWSER_SHOTS")
	if shots == "" {
		shots = t.ArtifactDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", shots)
	// Node resolves playwright-core next to the script: run a copy of it
	// beside the cache's node_modules.
	work := t.TempDir()
	script, err := os.ReadFile(filepath.Join("..", "browser", "ui.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "ui.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(driver, "node_modules"), filepath.Join(work, "node_modules")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(e.Ctx(), node, "ui.mjs")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "ATOLL_URL="+e.AtollURL, "REPO="+repo, "WRITER=wendy", "OUTSIDER=oscar",
		"SHOTS="+shots, "CHROMIUM="+chromiumPath)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the browser run failed: %v", err)
	}
}
