package toolscache

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// outside matches a path to the "shared" directory beside the checkout
// that the project's own CI machines happen to have (written out, or built
// from parts with filepath.Join): a repository that names it works only
// there. The pattern is built from pieces so that this file does not match.
var outside = regexp.MustCompile(`\.\./` + `shared\b|"\.\.",\s*("\.\.",\s*)*"` + `shared"`)

// TestNoPathOutsideRepository fails when any file of the repository (code,
// tests, Makefile, scripts, docs) refers to the directory beside the
// checkout: a fresh clone anywhere must build, test and read the same.
func TestNoPathOutsideRepository(t *testing.T) {
	root := repoRoot(t)
	files := repoFiles(t, root)
	if len(files) < 50 {
		t.Fatalf("found only %d files under %s", len(files), root)
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the worktree, not yet committed
			}
			t.Fatal(err)
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			if outside.Match(line) {
				t.Errorf("%s:%d refers to a directory outside the repository: %s", f, i+1, strings.TrimSpace(string(line)))
			}
		}
	}
}

// repoRoot is the directory holding go.mod, above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package")
		}
		dir = parent
	}
}

// repoFiles lists the repository's files, tracked or not but not ignored,
// relative to root; outside a git checkout (an unpacked archive), every
// file under root.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
		return files
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestOutsidePattern(t *testing.T) {
	up := ".." + "/"
	tests := []struct {
		line string
		want bool
	}{
		{`dir := "` + up + up + `shared/github/webhooks"`, true},
		{"Style: `" + up + "shared/STYLE.md`", true},
		{`filepath.Join("..", "..", "` + `shared", "github")`, true},
		{`filepath.Join("..", "` + `shared")`, true},
		{`source = "../modules/shared"`, false},
		{`the shared provider cache`, false},
		{`"` + up + up + `sharedmodule/**"`, false},
	}
	for _, tt := range tests {
		if got := outside.MatchString(tt.line); got != tt.want {
			t.Errorf("outside.MatchString(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

// TestReadExamples reads an index laid out as @octokit/webhooks-examples
// publishes it: names from each payload's action, payloads byte for byte.
func TestReadExamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.json")
	index := `[
  {"name": "ping", "actions": [], "examples": [{"zen": "a"}, {"zen":  "b"}]},
  {"name": "pull_request", "actions": ["opened"], "examples": [{"action": "opened", "number": 1}]}
]`
	if err := os.WriteFile(path, []byte(index), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readExamples(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Example{
		"ping":         {{Name: "ping-0", Payload: []byte(`{"zen": "a"}`)}, {Name: "ping-1", Payload: []byte(`{"zen":  "b"}`)}},
		"pull_request": {{Name: "opened-0", Payload: []byte(`{"action": "opened", "number": 1}`)}},
	}
	if len(got) != len(want) {
		t.Fatalf("events = %d, want %d", len(got), len(want))
	}
	for ev, exs := range want {
		if len(got[ev]) != len(exs) {
			t.Fatalf("%s: %d examples, want %d", ev, len(got[ev]), len(exs))
		}
		for i, ex := range exs {
			if got[ev][i].Name != ex.Name || string(got[ev][i].Payload) != string(ex.Payload) {
				t.Errorf("%s[%d] = %s %s, want %s %s", ev, i, got[ev][i].Name, got[ev][i].Payload, ex.Name, ex.Payload)
			}
		}
	}
	if _, err := readExamples(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("a missing index read without error")
	}
}
