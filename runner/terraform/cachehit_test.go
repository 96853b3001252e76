package terraform

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestLinksOnly: an init takes the cache's lock shared only when the
// project's lock file names providers that are all in the cache.
func TestLinksOnly(t *testing.T) {
	cache := t.TempDir()
	dir := t.TempDir()
	lock := `provider "registry.terraform.io/hashicorp/local" {
  version = "2.9.0"
  hashes = ["h1:x"]
}
`
	if linksOnly(dir, cache) {
		t.Error("no lock file: links only")
	}
	if err := os.WriteFile(filepath.Join(dir, lockFileName), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	if linksOnly(dir, cache) {
		t.Error("empty cache: links only")
	}
	entry := filepath.Join(cache, "registry.terraform.io", "hashicorp", "local", "2.9.0", runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(entry, 0o755); err != nil {
		t.Fatal(err)
	}
	if !linksOnly(dir, cache) {
		t.Error("every locked provider cached: not links only")
	}
	for name, bad := range map[string]string{
		"another version":  `provider "registry.terraform.io/hashicorp/local" { version = "2.8.0" }`,
		"a second one":     lock + `provider "registry.terraform.io/hashicorp/null" { version = "3.0.0" }`,
		"not HCL":          `provider {`,
		"escaping address": `provider "../../etc" { version = "1" }`,
		"no provider":      `# empty`,
	} {
		if err := os.WriteFile(filepath.Join(dir, lockFileName), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if linksOnly(dir, cache) {
			t.Errorf("%s: links only", name)
		}
	}
}
