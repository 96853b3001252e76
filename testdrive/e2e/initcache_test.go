package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// initCacheProject is a project with a local module whose output the
// plan shows: "clean" unless someone swapped the module.
const initCacheProject = `
module "m" {
  source = "./mod"
}

resource "terraform_data" "x" {
  input = "%s"
}

output "m" { value = module.m.v }
`

// One pull request's apply runs code (a local-exec provisioner) that
// tampers with the project's .terraform, pointing the module manifest at
// a module of its own, and tries to write into atoll's cache of
// initialised .terraform directories. The next pull request's plan of
// the same project reuses the cached .terraform (its init is skipped) and
// is unaffected: its plan shows the real module's output.
func TestInitCachePoisoning(t *testing.T) {
	e := Start(t, Options{ServerConfig: "apply_requirements: []\n"})
	evil := filepath.Join(e.Dir, "evil")
	cache := filepath.Join(e.DataDir(), "init-cache")
	base := map[string]string{
		"app/main.tf":     e.Backend("poison") + fmt.Sprintf(initCacheProject, "base"),
		"app/mod/main.tf": "output \"v\" { value = \"clean\" }\n",
		// No lock: the second pull request plans while the first is open.
		"atoll.yaml": "version: 1\nprojects:\n  - name: app\n    dir: app\n    repo_locks:\n      mode: disabled\n",
	}
	repo := e.Repo("poison", base, map[string]string{"mallory": "write", "alice": "write"})

	manifest := fmt.Sprintf(`{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"m","Source":"./mod","Dir":"%s"}]}`, evil)
	attack := e.Backend("poison") + fmt.Sprintf(initCacheProject, "mallory") + fmt.Sprintf(`
resource "terraform_data" "poison" {
  provisioner "local-exec" {
    command = <<-EOT
      mkdir -p '%[1]s'
      echo 'output "v" { value = "poisoned" }' > '%[1]s/main.tf'
      echo '%[2]s' > .terraform/modules/modules.json
      for d in '%[3]s'/*/.terraform/modules; do echo '%[2]s' > "$d/modules.json" && echo "wrote $d" >> '%[1]s/cache-writes'; done
      echo done > '%[1]s/ran'
    EOT
  }
}
`, evil, manifest, cache)
	n := e.PR(repo, "poison", "mallory", map[string]*string{"app/main.tf": S(attack)})
	e.Wait(repo, n, 0, "Plan: 2 to add, 0 to change, 0 to destroy.")
	last := e.Comment(repo, n, "mallory", "atoll apply")
	e.Wait(repo, n, last, "Apply complete!")
	if _, err := os.Stat(filepath.Join(evil, "ran")); err != nil {
		t.Fatalf("the attack's provisioner did not run: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(evil, "cache-writes")); err == nil {
		t.Errorf("the apply wrote into atoll's init cache: %s", b)
	}

	m := e.PR(repo, "innocent", "alice", map[string]*string{"app/main.tf": S(e.Backend("poison") + fmt.Sprintf(initCacheProject, "alice"))})
	cm := e.Wait(repo, m, 0, "Plan:")
	if strings.Contains(cm.Body, "poisoned") {
		t.Fatalf("the next pull request's plan ran the module another pull request's apply planted:\n%s", cm.Body)
	}
	// Mallory's apply and alice's plan both reuse it.
	if strings.Count(e.Log(), "init skipped") < 2 {
		t.Errorf("the next plan ran init: the cached .terraform was not reused, so this test proves nothing\n%s", e.Log())
	}
}
