package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// A pull request that replaces a project dir by a symlink to a directory
// outside the checkout (here another project's files; it could be atoll's
// data dir) gets its plan refused with the reason on the pull request,
// and atoll writes nothing there: no backend override, no .terraform.
func TestSymlinkedProjectDirOutsideCheckoutRefused(t *testing.T) {
	e := Start(t, Options{})
	outside := filepath.Join(e.Dir, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	tf := "resource \"terraform_data\" \"x\" {}\n"
	if err := os.WriteFile(filepath.Join(outside, "main.tf"), []byte(tf), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := e.Repo("symlinked", map[string]string{
		"atoll.yaml":  "version: 1\nprojects:\n  - dir: app\n",
		"app/main.tf": tf,
	}, map[string]string{"mallory": "write"})
	ctx := e.Ctx()
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: "escape", Author: "mallory", Message: "escape",
		Files: map[string]*string{"app/main.tf": nil}, Symlinks: map[string]string{"app": outside}}); err != nil {
		t.Fatal(err)
	}
	n, err := e.C.Control.OpenPR(ctx, emulator.OpenPR{Repo: repo, Head: "escape", Title: "escape", Author: "mallory"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Wait(repo, n, 0, "outside the repository")
	if !strings.Contains(c.Body, "app") {
		t.Errorf("the refusal does not name the project dir:\n%s", c.Body)
	}
	ents, err := os.ReadDir(outside)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, en := range ents {
		names = append(names, en.Name())
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "main.tf" {
		t.Fatalf("atoll wrote into the dir outside the checkout: %v", names)
	}
}
