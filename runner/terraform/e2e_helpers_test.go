package terraform

// Helpers for the tests that run the real terraform and tofu built by
// "make tools" (scripts/tools.sh) into ATOLL_TOOLS_DIR. Those tests fail,
// never skip, when the tools are missing.

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// toolsDir is where "make tools" puts terraform, tofu, the provider
// mirror and the CLI config.
func toolsDir() string {
	if d := os.Getenv("ATOLL_TOOLS_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "atoll", "tools")
}

// cliConfig is the CLI config pointing at the local provider mirror.
func cliConfig(t testing.TB) string {
	t.Helper()
	rc := filepath.Join(toolsDir(), "terraformrc")
	if _, err := os.Stat(rc); err != nil {
		t.Fatalf("%s is missing: run make tools", rc)
	}
	return rc
}

var binaries sync.Map // Distribution -> Binary

// requireBinary returns the tools' binary of dist, or fails the test with
// "run make tools".
func requireBinary(t testing.TB, dist Distribution) Binary {
	t.Helper()
	if b, ok := binaries.Load(dist); ok {
		return b.(Binary)
	}
	path := filepath.Join(toolsDir(), "bin", dist.binaryName())
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: run make tools", path)
	}
	b, err := Resolve(context.Background(), ResolveOptions{Distribution: dist, ExplicitPath: path})
	if err != nil {
		t.Fatalf("%s does not run (run make tools): %v", path, err)
	}
	binaries.Store(dist, b)
	return b
}

// fixture copies testdata/name into a new temporary directory and returns
// the copy's path.
func fixture(t testing.TB, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	copyDir(t, filepath.Join("testdata", name), dst)
	return dst
}

// copyDir copies the regular files of src into dst.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// realWorkdir returns a Workdir for dir running dist's real binary with
// the tools' CLI config, and logs its output when the test fails.
func realWorkdir(t testing.TB, dist Distribution, dir string, cfg Config) (*Workdir, *syncBuffer) {
	t.Helper()
	out, _ := cfg.Output.(*syncBuffer)
	if cfg.Output == nil {
		out = &syncBuffer{}
		cfg.Output = out
	}
	cfg.Binary = requireBinary(t, dist)
	cfg.Dir = dir
	if cfg.CLIConfigFile == "" {
		cfg.CLIConfigFile = cliConfig(t)
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() && out != nil {
			t.Logf("%s output in %s:\n%s", dist, dir, out)
		}
	})
	return w, out
}

// distributions are the two distributions every end-to-end test covers.
var distributions = []Distribution{Terraform, OpenTofu}
