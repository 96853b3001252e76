package git

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TreeFiles reads the files a caller wants from the mirror's objects, as
// a checkout of the commit holds them: contents exact (binary and empty
// files too), big files empty, other files left out; a wanted symbolic
// link asks for a checkout.
func TestTreeFiles(t *testing.T) {
	o := newOrigin(t)
	ctx := context.Background()
	sha := o.commit("main", map[string]string{
		"main.tf":              "module \"a\" {\n  source = \"./mod\"\n}\n",
		"mod/main.tf":          "",
		"mod/bin.tf":           "\x00\x01\n\n\xff",
		"dir with space/x.tf":  "x\n",
		"big.tf":               strings.Repeat("b", 100),
		"README.md":            "docs\n",
		"envs/prod/vars.tfvar": "x = 1\n",
	})
	m := o.mirrors(t, &bytes.Buffer{})
	if err := m.Fetch(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	want := func(p string) bool { return strings.HasSuffix(p, ".tf") }
	got, err := m.TreeFiles(ctx, testRepo, sha, want, 50)
	if err != nil {
		t.Fatal(err)
	}
	exp := map[string][]byte{
		"main.tf":             []byte("module \"a\" {\n  source = \"./mod\"\n}\n"),
		"mod/main.tf":         {},
		"mod/bin.tf":          []byte("\x00\x01\n\n\xff"),
		"dir with space/x.tf": []byte("x\n"),
		"big.tf":              nil,
	}
	if len(got) != len(exp) {
		t.Fatalf("TreeFiles = %q, want %q", got, exp)
	}
	for k, v := range exp {
		if g, ok := got[k]; !ok || !bytes.Equal(g, v) {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}

	// A wanted link: a checkout follows it, the objects cannot.
	if err := os.Symlink("main.tf", filepath.Join(o.work, "link.tf")); err != nil {
		t.Fatal(err)
	}
	linked := o.commit("main", nil)
	if err := m.Fetch(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	if _, err := m.TreeFiles(ctx, testRepo, linked, want, 50); !errors.Is(err, ErrNeedsCheckout) {
		t.Errorf("a linked file: %v, want ErrNeedsCheckout", err)
	}
	if got, err := m.TreeFiles(ctx, testRepo, linked, func(p string) bool { return p == "README.md" }, 50); err != nil || !reflect.DeepEqual(got, map[string][]byte{"README.md": []byte("docs\n")}) {
		t.Errorf("a link nobody asked for: %q, %v", got, err)
	}
	if _, err := m.TreeFiles(ctx, testRepo, "--all", want, 50); err == nil {
		t.Error("a flag as sha was accepted")
	}
}
