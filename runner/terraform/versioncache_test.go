package terraform

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVersionCacheSeeds: a second Workdir on the same binary does not
// start it for "version"; a binary replaced in place is asked again.
func TestVersionCacheSeeds(t *testing.T) {
	count := filepath.Join(t.TempDir(), "versions")
	path := filepath.Join(t.TempDir(), "terraform")
	script := "#!/bin/sh\nif [ \"$1\" = version ]; then echo x >> " + count + "; echo '" + fakeVersion + "'; exit 0; fi\nexit 0\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	versions := func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "x")
	}
	ctx := context.Background()
	initIn := func() {
		t.Helper()
		w, err := New(Config{Binary: Binary{Path: path, Distribution: Terraform}, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Init(ctx, InitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	initIn()
	initIn()
	if n := versions(); n != 1 {
		t.Errorf("two Workdirs on one binary ran version %d times, want 1", n)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	initIn()
	if n := versions(); n != 2 {
		t.Errorf("a replaced binary: version ran %d times in all, want 2", n)
	}
}

// Resolve asks a binary its version once per process, not once per call:
// every job resolves its binary, and each ask starts terraform.
func TestResolveAsksVersionOnce(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	path := filepath.Join(dir, "terraform")
	script := "#!/bin/sh\necho x >> '" + count + "'\necho '" + fakeVersion + "'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := Resolve(context.Background(), ResolveOptions{ExplicitPath: path})
		if err != nil || b.Version != "1.5.7" {
			t.Fatalf("Resolve = %+v, %v", b, err)
		}
	}
	data, _ := os.ReadFile(count)
	if n := strings.Count(string(data), "x"); n != 1 {
		t.Errorf("terraform was asked its version %d times, want 1", n)
	}
}
