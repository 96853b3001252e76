//go:build linux

package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMain lets the test binary play atoll: started with EnvVar set, it
// is `atoll sandbox-exec`.
func TestMain(m *testing.M) {
	switch os.Getenv("SANDBOX_TEST_ROLE") {
	case "hide-self":
		// Non-dumpable, then a child: what atoll does before terraform.
		if err := HideSelf(); err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(3)
		}
		self, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), "SANDBOX_TEST_ROLE=dumpable")
		out, _ := child.Output()
		os.Stdout.WriteString(strconv.Itoa(self) + " " + string(out))
		os.Exit(0)
	case "dumpable":
		v, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		os.Stdout.WriteString(strconv.Itoa(v))
		os.Exit(0)
	}
	if args, ok := Unwrap(os.Args[1:]); ok {
		if args == nil {
			os.Stderr.WriteString("refused\n")
			os.Exit(3)
		}
		err := Main(args[1:])
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func TestCommand(t *testing.T) {
	p := Policy{Read: []string{"/usr", "/opt/tf"}, Write: []string{"/w"}, List: []string{"/s/ws"}, Hide: []string{"/etc/atoll.yaml"}}
	got := p.Command("/usr/bin/terraform")
	want := []string{"sandbox-exec", "--ro", "/usr", "--ro", "/opt/tf", "--rw", "/w", "--ls", "/s/ws", "--hide", "/etc/atoll.yaml", "--", "/usr/bin/terraform"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Command:\n got %q\nwant %q", got, want)
	}
	back, argv, err := ParseCommand(append(got[1:], "plan", "-out=x"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) || !reflect.DeepEqual(argv, []string{"/usr/bin/terraform", "plan", "-out=x"}) {
		t.Errorf("ParseCommand = %+v %q", back, argv)
	}
}

func TestParseCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ro", "/a"}, "missing -- PROGRAM"},
		{[]string{"--ro"}, "needs a path"},
		{[]string{"--ro", "rel", "--", "x"}, "must be absolute"},
		{[]string{"--rx", "/a", "--", "x"}, "unknown flag"},
		{[]string{"--"}, "no program"},
	} {
		if _, _, err := ParseCommand(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCommand(%q) = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestUnwrap(t *testing.T) {
	_, env := Wrap("/self", Policy{Read: []string{"/r"}}, "/bin/tf")
	t.Setenv(EnvVar, env[EnvVar])
	got, ok := Unwrap([]string{"plan"})
	if want := []string{"sandbox-exec", "--ro", "/r", "--", "/bin/tf", "plan"}; !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("Unwrap = %q %v, want %q", got, ok, want)
	}
	if _, set := os.LookupEnv(EnvVar); set {
		t.Error("Unwrap left the variable in the environment")
	}
	t.Setenv(EnvVar, `["server"]`)
	if got, ok := Unwrap(nil); !ok || got != nil {
		t.Errorf("Unwrap of a foreign command = %q %v, want nil true", got, ok)
	}
	os.Unsetenv(EnvVar)
	if got, ok := Unwrap([]string{"server"}); ok || !reflect.DeepEqual(got, []string{"server"}) {
		t.Errorf("Unwrap without the variable = %q %v", got, ok)
	}
}

// tree makes dir/{a/secret, a/ok, a/sub/x, b, link->a/secret}.
func tree(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a/secret", "a/ok", "a/sub/x", "b"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "a", "secret"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestResolveCarvesHiddenPaths(t *testing.T) {
	dir := tree(t)
	j := func(s string) string { return filepath.Join(dir, s) }
	g, err := Policy{Read: []string{dir, "/nonexistent"}, Write: []string{j("a/sub")}, Hide: []string{j("link")}}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(g.roFiles)
	want := grants{roDirs: []string{j("a/sub")}, roFiles: []string{j("a/ok"), j("b")}, rwDirs: []string{j("a/sub")}}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("resolve:\n got %+v\nwant %+v", g, want)
	}
}

// sandboxed runs program under p in a child (the test binary as atoll)
// and returns its combined output and error.
func sandboxed(t *testing.T, p Policy, argv ...string) (string, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path, env := Wrap(self, p, argv[0])
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env = append(os.Environ(), EnvVar+"="+env[EnvVar])
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestExec(t *testing.T) {
	abi, err := Probe()
	if err != nil {
		t.Fatalf("this test needs Landlock: %v", err)
	}
	dir := tree(t)
	j := func(s string) string { return filepath.Join(dir, s) }
	work := t.TempDir()
	p := Policy{Read: append(slices.Clone(SystemRead), dir), Write: []string{work}, Hide: []string{j("a/secret")}}
	ppid := strconv.Itoa(os.Getpid())
	for _, tc := range []struct {
		name    string
		argv    []string
		allowed bool
	}{
		{"read under a read path", []string{"/bin/cat", j("a/ok")}, true},
		{"read the hidden file", []string{"/bin/cat", j("a/secret")}, false},
		{"read the hidden file through a link", []string{"/bin/cat", j("link")}, false},
		{"write under a read path", []string{"/bin/sh", "-c", "echo x > " + j("b")}, false},
		{"write under the write path", []string{"/bin/sh", "-c", "echo x > " + work + "/new && cat " + work + "/new"}, true},
		{"read outside", []string{"/bin/cat", os.Args[0]}, false},
		{"read its parent's cmdline", []string{"/bin/cat", "/proc/" + ppid + "/cmdline"}, false},
		{"read its own status", []string{"/bin/cat", "/proc/self/status"}, false},
		// Signals are scoped from ABI 6 (Linux 6.12) on.
		{"signal its parent", []string{"/bin/sh", "-c", "kill -0 " + ppid}, abi < 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := sandboxed(t, p, tc.argv...)
			if tc.allowed && err != nil {
				t.Errorf("refused: %v\n%s", err, out)
			}
			if !tc.allowed && err == nil {
				t.Errorf("allowed:\n%s", out)
			}
			if !tc.allowed && strings.Contains(out, "sandbox:") {
				t.Errorf("the sandbox failed instead of refusing:\n%s", out)
			}
		})
	}
}

// TestExecList checks a List entry: the directory and those under it may
// be listed, their files not read, while a Write entry under it stays
// writable (how a job sees its project's other workspaces' states).
func TestExecList(t *testing.T) {
	if _, err := Probe(); err != nil {
		t.Fatalf("this test needs Landlock: %v", err)
	}
	ws := t.TempDir()
	for _, d := range []string{"own", "other"} {
		if err := os.Mkdir(filepath.Join(ws, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ws, "other", "terraform.tfstate"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := Policy{Read: SystemRead, Write: []string{filepath.Join(ws, "own")}, List: []string{ws}}
	for _, tc := range []struct {
		name    string
		argv    []string
		allowed bool
	}{
		{"list the listed dir", []string{"/bin/ls", ws}, true},
		{"list a dir under it", []string{"/bin/ls", filepath.Join(ws, "other")}, true},
		{"read a file under it", []string{"/bin/cat", filepath.Join(ws, "other", "terraform.tfstate")}, false},
		{"write a file under it", []string{"/bin/sh", "-c", "echo x > " + filepath.Join(ws, "other", "x")}, false},
		{"write under the write path in it", []string{"/bin/sh", "-c", "echo x > " + filepath.Join(ws, "own", "x") + " && cat " + filepath.Join(ws, "own", "x")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := sandboxed(t, p, tc.argv...)
			if tc.allowed && err != nil {
				t.Errorf("refused: %v\n%s", err, out)
			}
			if !tc.allowed && err == nil {
				t.Errorf("allowed:\n%s", out)
			}
		})
	}
}

func TestExecMissingProgram(t *testing.T) {
	out, err := sandboxed(t, Policy{Read: SystemRead}, "/nonexistent/terraform")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(out, "exec /nonexistent/terraform") {
		t.Errorf("got %v:\n%s", err, out)
	}
}

// TestHideSelf checks that HideSelf makes its process non-dumpable (its
// /proc entries and ptrace closed to its user) while a program it starts
// is dumpable again, so that atoll still finds terraform's processes.
func TestHideSelf(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SANDBOX_TEST_ROLE=hide-self")
	out, err := cmd.Output()
	if err != nil || string(out) != "0 1" {
		t.Errorf("dumpable (self, child) = %q, %v; want \"0 1\"", out, err)
	}
}
