package execute

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// stateJob is a job of project dir in workspace ws of o/r.
func stateJob(dir, ws string) records.Job {
	return records.Job{Repo: vcs.Repo{Owner: "o", Name: "r"}, Project: records.Project{ProjectCore: config.ProjectCore{Dir: dir, Workspace: ws}}}
}

// TestStateLayoutIsolates checks that no (project dir, workspace) state
// dir holds another's: nested projects (a, a/b) and workspaces of one
// project (default, staging) each get a directory apart, so that the
// sandbox's read-write grant of one reaches no other.
func TestStateLayoutIsolates(t *testing.T) {
	r := &Jobs{cfg: withOpen(t, Deps{DataDir: "/data"})}
	var own []string
	for _, dir := range []string{".", "a", "a/b", "a%2Fb", "_root", ".hidden", "default", "ws", "a/ws"} {
		for _, ws := range []string{"", "default", "staging", "prod"} {
			d, err := r.stateLayout(stateJob(dir, ws))
			if err != nil {
				t.Fatalf("%s %s: %v", dir, ws, err)
			}
			if ws == "" {
				continue // the same as default
			}
			own = append(own, d.own)
		}
	}
	for i, a := range own {
		for j, b := range own {
			if i != j && (a == b || strings.HasPrefix(b, a+"/")) {
				t.Errorf("state dir %s holds or is %s", a, b)
			}
		}
	}
	for _, ws := range []string{".", "..", "a/b", `a\b`} {
		if _, err := r.stateLayout(stateJob("a", ws)); err == nil {
			t.Errorf("workspace %q names a state dir", ws)
		}
	}
	if _, err := r.stateLayout(stateJob(strings.Repeat("long/", 100), "default")); err != nil {
		t.Errorf("a long project dir: %v", err)
	}
}

// TestMigrateOldState checks that the state of the old layout, where
// project a's dir held its workspaces' states and project a/b's dir, is
// moved to the new place of each (project, workspace) on first use, that
// a's job moves only a's files, and that a state already at the new
// place is never overwritten.
func TestMigrateOldState(t *testing.T) {
	data := t.TempDir()
	r := &Jobs{cfg: withOpen(t, Deps{DataDir: data})}
	old := filepath.Join(data, "state", "o", "r")
	write := func(path, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(old, "a", "terraform.tfstate"), "a default")
	write(filepath.Join(old, "a", "terraform.tfstate.backup"), "a default backup")
	write(filepath.Join(old, "a", "terraform.tfstate.d", "staging", "terraform.tfstate"), "a staging")
	write(filepath.Join(old, "a", "b", "terraform.tfstate"), "a/b default")
	write(filepath.Join(old, "_root", "terraform.tfstate"), "root default")
	read := func(job records.Job) string {
		t.Helper()
		checkout := t.TempDir()
		worktree := filepath.Join(checkout, filepath.FromSlash(job.Project.Dir))
		if err := os.MkdirAll(worktree, 0o755); err != nil {
			t.Fatal(err)
		}
		d, err := r.ensureStateBackend(job, checkout, worktree)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(d.own); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("state dir %s: %v %v", d.own, fi, err)
		}
		tf, err := os.ReadFile(filepath.Join(worktree, backendOverrideFile))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(tf), d.list) {
			t.Errorf("the backend names no workspace_dir %s:\n%s", d.list, tf)
		}
		b, err := os.ReadFile(filepath.Join(d.own, "terraform.tfstate"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read(stateJob("a", "default")); got != "a default" {
		t.Errorf("a default = %q", got)
	}
	d, _ := r.stateLayout(stateJob("a", "default"))
	if b, err := os.ReadFile(filepath.Join(d.own, "terraform.tfstate.backup")); err != nil || string(b) != "a default backup" {
		t.Errorf("a's backup = %q, %v", b, err)
	}
	// a's job moved all of a's workspaces, none of a/b's.
	if _, err := os.Stat(filepath.Join(old, "a", "b", "terraform.tfstate")); err != nil {
		t.Errorf("a's job moved a/b's state: %v", err)
	}
	if _, err := os.Stat(filepath.Join(old, "a", "terraform.tfstate")); !os.IsNotExist(err) {
		t.Errorf("a's old state is still there: %v", err)
	}
	if got := read(stateJob("a", "staging")); got != "a staging" {
		t.Errorf("a staging = %q", got)
	}
	if got := read(stateJob("a/b", "default")); got != "a/b default" {
		t.Errorf("a/b default = %q", got)
	}
	if got := read(stateJob(".", "default")); got != "root default" {
		t.Errorf("root default = %q", got)
	}
	if _, err := os.Stat(filepath.Join(old, "a")); !os.IsNotExist(err) {
		t.Errorf("the emptied old dir of a stays: %v", err)
	}
	// A state at the new place wins over an old one.
	write(filepath.Join(old, "a", "terraform.tfstate"), "stale")
	if got := read(stateJob("a", "default")); got != "a default" {
		t.Errorf("an old state overwrote the new one: %q", got)
	}
}
