package terraform

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCLIConfigDirs(t *testing.T) {
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraformrc")
	body := `plugin_cache_dir = "/var/cache/tf"
provider_installation {
  filesystem_mirror {
    path    = "/opt/mirror"
    include = ["registry.terraform.io/hashicorp/local"]
  }
  filesystem_mirror {
    path = "rel/mirror"
  }
  network_mirror {
    url = "https://mirror.example/"
  }
}
`
	if err := os.WriteFile(rc, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := CLIConfigDirs(rc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/var/cache/tf", "/opt/mirror", filepath.Join(dir, "rel/mirror")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CLIConfigDirs = %q, want %q", got, want)
	}
	if _, err := CLIConfigDirs(filepath.Join(dir, "missing")); err == nil {
		t.Error("no error for a missing file")
	}
}
