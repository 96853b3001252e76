package safefs_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/atollhq/atoll/runner/safefs"
)

// tree is a checkout holding a real dir, a link to it, a link out of the
// checkout, and a file outside the checkout that must never be written.
func tree(t *testing.T) (checkout, victim string) {
	t.Helper()
	base := t.TempDir()
	checkout = filepath.Join(base, "checkout")
	victim = filepath.Join(base, "victim")
	if err := os.MkdirAll(filepath.Join(checkout, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"inside":        "real",
		"out":           "..",
		"real/escape":   victim,
		"real/relative": "../../victim",
	} {
		if err := os.Symlink(target, filepath.Join(checkout, link)); err != nil {
			t.Fatal(err)
		}
	}
	return checkout, victim
}

func TestDirRefusesEscapes(t *testing.T) {
	checkout, _ := tree(t)
	for _, rel := range []string{"out", "out/checkout", "..", "/etc"} {
		if err := safefs.CheckDir(checkout, rel); !errors.Is(err, safefs.ErrEscapes) && rel != "/etc" {
			t.Errorf("CheckDir(%q) = %v, want ErrEscapes", rel, err)
		} else if err == nil {
			t.Errorf("CheckDir(%q) passed", rel)
		}
	}
	for _, rel := range []string{".", "", "real", "inside"} {
		if err := safefs.CheckDir(checkout, rel); err != nil {
			t.Errorf("CheckDir(%q) = %v", rel, err)
		}
	}
}

func TestWriteReplacesSymlinks(t *testing.T) {
	checkout, victim := tree(t)
	for _, name := range []string{"real/escape", "real/relative"} {
		if err := safefs.WriteFileIn(checkout, name, []byte("atoll"), 0o600); err != nil {
			t.Fatalf("WriteFileIn(%s): %v", name, err)
		}
		if fi, err := os.Lstat(filepath.Join(checkout, name)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s is not atoll's file: %v %v", name, fi, err)
		}
	}
	if err := safefs.WriteFileIn(checkout, "out/victim", []byte("atoll"), 0o600); !errors.Is(err, safefs.ErrEscapes) {
		t.Errorf("a write through a dir leading out = %v", err)
	}
	if err := safefs.WritePath(filepath.Join(checkout, "inside", "f"), []byte("ok"), 0o600); err != nil {
		t.Errorf("a write through a link inside: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the file outside was written: %q", b)
	}
}

func TestOpenRefusesSymlinksOut(t *testing.T) {
	checkout, _ := tree(t)
	for _, name := range []string{"real/escape", "real/relative", "out/victim"} {
		if _, err := safefs.ReadFile(checkout, name); err == nil {
			t.Errorf("ReadFile(%s) read outside the checkout", name)
		}
	}
	if _, err := safefs.ReadPath(filepath.Join(checkout, "real", "escape")); err == nil {
		t.Error("ReadPath followed a symlink out of its dir")
	}
	if err := os.WriteFile(filepath.Join(checkout, "real", "f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := safefs.ReadFile(checkout, "inside/f"); err != nil || string(b) != "x" {
		t.Errorf("ReadFile through a link inside = %q, %v", b, err)
	}
}

// TestReadRegularRefusesDevicesAndFIFOs checks that a file atoll parses
// which a pull request made a symlink to /dev/zero or a FIFO fails at
// once instead of reading forever or blocking.
func TestReadRegularRefusesDevicesAndFIFOs(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.tf")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, zero} {
		if _, err := safefs.ReadRegular(p); err == nil {
			t.Errorf("ReadRegular(%s) read a non-regular file", p)
		}
	}
	f := filepath.Join(dir, "main.tf")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := safefs.ReadRegular(f); err != nil || string(b) != "x" {
		t.Errorf("ReadRegular = %q, %v", b, err)
	}
}
