package discovery

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// treeFiles reads the configuration files of the checkout at root, as a
// caller of DiscoverFiles gets them from a commit.
func treeFiles(t testing.TB, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if !WantFile(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// discoverBoth is Discover on the checkout at root, checked against
// DiscoverFiles on its files: discovery from a commit's objects finds
// what discovery in its checkout finds.
func discoverBoth(t *testing.T, root string, changed []string, o Options) ([]Project, error) {
	t.Helper()
	got, err := Discover(context.Background(), root, changed, o)
	fromFiles, ferr := DiscoverFiles(context.Background(), treeFiles(t, root), changed, o)
	if (err == nil) != (ferr == nil) || !reflect.DeepEqual(got, fromFiles) {
		t.Errorf("Discover(%q) = %v, %v; DiscoverFiles = %v, %v", changed, got, err, fromFiles, ferr)
	}
	return got, err
}

// allBoth is All checked against AllFiles, as discoverBoth.
func allBoth(t *testing.T, root string, o Options) ([]Project, error) {
	t.Helper()
	got, err := All(context.Background(), root, o)
	fromFiles, ferr := AllFiles(context.Background(), treeFiles(t, root), o)
	if (err == nil) != (ferr == nil) || !reflect.DeepEqual(got, fromFiles) {
		t.Errorf("All = %v, %v; AllFiles = %v, %v", got, err, fromFiles, ferr)
	}
	return got, err
}

func TestWantFile(t *testing.T) {
	for p, want := range map[string]bool{
		"main.tf": true, "a/b/x.tf.json": true, "t/main.tofu": true, "a/vars.tfvars": false, "README.md": false,
		"a/.terraform/modules/m/main.tf": false, "node_modules/x/main.tf": false, ".git/x.tf": false,
	} {
		if got := WantFile(p); got != want {
			t.Errorf("WantFile(%q) = %v, want %v", p, got, want)
		}
	}
}

// The 5,000-directory tree of the benchmarks: the same projects from its
// files as from its checkout.
func TestDiscoverFilesBenchTree(t *testing.T) {
	root, changed := benchTree(t)
	if _, err := discoverBoth(t, root, changed, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := allBoth(t, root, Options{}); err != nil {
		t.Fatal(err)
	}
}
