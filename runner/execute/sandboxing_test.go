package execute

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/sandbox"
	"github.com/atollhq/atoll/runner/terraform"
)

// TestWrapperPolicy checks what one job's terraform may reach: its
// worktree, temp dir and state dir read-write, the plugin cache
// read-write for init only, the binary and the CLI config's mirror
// read-only, and the data dir hidden.
func TestWrapperPolicy(t *testing.T) {
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(rc, []byte("provider_installation {\n  filesystem_mirror {\n    path = \"/opt/mirror\"\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Jobs{cfg: Deps{DataDir: "/data", Sandbox: &Sandbox{Self: "/usr/bin/atoll", Hide: []string{"/etc/atoll"},
		Read: []string{"/creds"}, Write: []string{"/shared"}}}}
	r.srv.Terraform.CLIConfigFile = rc
	p := tfPaths{bin: terraform.Binary{Path: "/data/bin/terraform"}, root: "/data/work/j1", tmp: "/data/work/j1.tmp",
		state: stateDirs{project: "/data/tfstate/o/r/app", own: "/data/tfstate/o/r/app/ws/staging", list: "/data/tfstate/o/r/app/ws"}, cache: "/data/plugin-cache"}
	policy := func(init bool) sandbox.Policy {
		t.Helper()
		w := r.wrapper(p, init)
		if w == nil || w.Path != "/usr/bin/atoll" {
			t.Fatalf("wrapper = %+v", w)
		}
		var argv []string
		if err := json.Unmarshal([]byte(w.Env[sandbox.EnvVar]), &argv); err != nil {
			t.Fatal(err)
		}
		pol, prog, err := sandbox.ParseCommand(argv[1:])
		if err != nil || !slices.Equal(prog, []string{"/data/bin/terraform"}) {
			t.Fatalf("ParseCommand(%q) = %q, %v", argv, prog, err)
		}
		return pol
	}
	for _, init := range []bool{true, false} {
		pol := policy(init)
		for _, w := range []string{"/data/work/j1", "/data/work/j1.tmp", "/data/tfstate/o/r/app/ws/staging", "/shared", "/dev/null"} {
			if !slices.Contains(pol.Write, w) {
				t.Errorf("init=%v: %s is not writable: %q", init, w, pol.Write)
			}
		}
		for _, rd := range []string{"/data/bin/terraform", rc, "/opt/mirror", "/creds", "/usr", "/etc"} {
			if !slices.Contains(pol.Read, rd) {
				t.Errorf("init=%v: %s is not readable: %q", init, rd, pol.Read)
			}
		}
		if !slices.Contains(pol.Hide, "/data") || !slices.Contains(pol.Hide, "/etc/atoll") {
			t.Errorf("init=%v: Hide = %q", init, pol.Hide)
		}
		if !slices.Equal(pol.List, []string{"/data/tfstate/o/r/app/ws"}) {
			t.Errorf("init=%v: List = %q, want only the workspace_dir", init, pol.List)
		}
		// No read or write entry reaches the project's other
		// workspaces' states (the default's, staging's siblings).
		for _, other := range []string{"/data/tfstate/o/r/app/default/terraform.tfstate", "/data/tfstate/o/r/app/ws/prod/terraform.tfstate"} {
			for _, e := range slices.Concat(pol.Read, pol.Write) {
				if e == other || strings.HasPrefix(other, strings.TrimSuffix(e, "/")+"/") {
					t.Errorf("init=%v: %s reaches %s", init, e, other)
				}
			}
		}
		if got := slices.Contains(pol.Write, "/data/plugin-cache"); got != init {
			t.Errorf("init=%v: plugin cache writable = %v", init, got)
		}
		if !init && !slices.Contains(pol.Read, "/data/plugin-cache") {
			t.Errorf("the plugin cache is not readable by plans: %q", pol.Read)
		}
	}
	if (&Jobs{}).wrapper(p, false) != nil {
		t.Error("a runner without a Sandbox wraps terraform")
	}
}

// TestLauncher checks that a custom step's command is started through
// atoll's sandbox-exec, with the program it named.
func TestLauncher(t *testing.T) {
	var got *exec.Cmd
	r := &Jobs{cfg: Deps{DataDir: "/data", Sandbox: &Sandbox{Self: "/usr/bin/atoll"},
		Launch: func(_ context.Context, cmd *exec.Cmd) error { got = cmd; return nil }}}
	p := tfPaths{bin: terraform.Binary{Path: "/usr/bin/terraform"}, root: "/data/work/j1", tmp: "/data/work/j1.tmp", cache: "/data/plugin-cache"}
	cmd := exec.Command("/bin/sh", "-c", "tflint")
	cmd.Env = []string{"A=1"}
	if err := r.launcher(p)(context.Background(), cmd); err != nil {
		t.Fatal(err)
	}
	if got.Path != "/usr/bin/atoll" || !slices.Equal(got.Args, []string{"/bin/sh", "-c", "tflint"}) {
		t.Fatalf("started %s %q", got.Path, got.Args)
	}
	v, ok := envValue(got.Env, sandbox.EnvVar)
	if !ok || got.Env[0] != "A=1" {
		t.Fatalf("env = %q", got.Env)
	}
	var argv []string
	if err := json.Unmarshal([]byte(v), &argv); err != nil {
		t.Fatal(err)
	}
	pol, prog, err := sandbox.ParseCommand(argv[1:])
	if err != nil || !slices.Equal(prog, []string{"/bin/sh"}) || !slices.Contains(pol.Read, "/data/plugin-cache") {
		t.Errorf("sandbox-exec %q: %+v %q %v", argv, pol, prog, err)
	}
}

func envValue(env []string, key string) (string, bool) {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// A job's temp dir holds provider plugin sockets, whose paths may not pass
// 108 bytes however long the data dir and job id are.
func TestJobTempDirShort(t *testing.T) {
	root := "/" + strings.Repeat("very-long-data-dir/", 10) + "work/j20261206-000001-844129c3f33fc7d166b016779aec23a5"
	tmp := jobTempDir(root)
	if sock := filepath.Join(tmp, "plugin1234567890"); len(sock) > 100 {
		t.Errorf("socket path %q is %d bytes", sock, len(sock))
	}
	if jobTempDir(root) != tmp || jobTempDir(root+"x") == tmp {
		t.Errorf("jobTempDir must be stable per root and differ between roots")
	}
}
