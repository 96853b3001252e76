package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// backendOverrideFile is the file atoll writes into a project without a
// backend, so that its state outlives the job's worktree.
const backendOverrideFile = "zz_atoll_backend.tf"

// backendRE finds a backend or cloud block in Terraform files.
var backendRE = regexp.MustCompile(`(?m)^\s*(backend\s+"[^"]*"|cloud)\s*\{`)

// hasBackend reports whether the project's .tf files name a backend;
// atoll's own backendOverrideFile does not count, so that
// ensureStateBackend gives the same answer each time a job asks.
func hasBackend(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == backendOverrideFile || !(strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tofu")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return false, err
		}
		if backendRE.Match(data) {
			return true, nil
		}
	}
	return false, nil
}

// ensureStateBackend gives a project that names no backend a local backend
// under the data dir, one state per repository, directory and workspace,
// and returns that project's state dir ("" for a project with a backend).
// Worktrees are thrown away after each job; without this, such a project's
// state would be lost after every apply and every drift check would find
// everything missing. A project that names a backend is left alone.
func (r *Runner) ensureStateBackend(job Job, dir string) (string, error) {
	ok, err := hasBackend(dir)
	if err != nil || ok {
		return "", err
	}
	stateDir := filepath.Join(r.cfg.DataDir, "state", job.Repo.Owner, job.Repo.Name, filepath.FromSlash(cleanRel(job.Project.Dir)))
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return "", err
	}
	body := fmt.Sprintf(`# Written by atoll: this project names no backend, so its state is kept
# in atoll's data dir instead of the job's throwaway worktree.
terraform {
  backend "local" {
    path          = %q
    workspace_dir = %q
  }
}
`, filepath.Join(stateDir, "terraform.tfstate"), filepath.Join(stateDir, "terraform.tfstate.d"))
	return stateDir, os.WriteFile(filepath.Join(dir, backendOverrideFile), []byte(body), 0o644)
}

// cleanRel is a project dir as a path segment: "." becomes "_root".
func cleanRel(dir string) string {
	d := filepath.ToSlash(filepath.Clean(dir))
	if d == "." || d == "" {
		return "_root"
	}
	return d
}
