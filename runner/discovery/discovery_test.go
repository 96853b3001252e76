package discovery

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// writeTree creates files (path -> content) under a new temp dir.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func mod(src string) string { return "module \"m\" {\n  source = \"" + src + "\"\n}\n" }

// repo is a layout shared by the tests: two envs calling a module that calls
// a nested one, a standalone project at the root, an unused module, and an
// examples dir.
var repo = map[string]string{
	"main.tf":                      `resource "terraform_data" "root" {}`,
	"README.md":                    "# infra",
	"envs/prod/main.tf":            mod("../../modules/app"),
	"envs/prod/prod.tfvars":        "x = 1",
	"envs/staging/main.tf":         mod("../../modules/app"),
	"envs/dev/main.tf":             `resource "terraform_data" "dev" {}`,
	"modules/app/main.tf":          mod("../net"),
	"modules/app/files/user.sh":    "#!/bin/sh",
	"modules/net/main.tf":          mod("./sub"),
	"modules/net/sub/main.tf":      `resource "terraform_data" "sub" {}`,
	"modules/unused/main.tf":       `resource "terraform_data" "u" {}`,
	"modules/cycle-a/main.tf":      mod("../cycle-b"),
	"modules/cycle-b/main.tf":      mod("../cycle-a"),
	"envs/cyc/main.tf":             mod("../../modules/cycle-a"),
	"examples/basic/main.tf":       `resource "terraform_data" "e" {}`,
	"json/main.tf.json":            `{"module": {"a": {"source": "../modules/jsonmod"}}}`,
	"modules/jsonmod/main.tf":      `resource "terraform_data" "j" {}`,
	"tofu/main.tofu":               mod("../modules/tofumod"),
	"modules/tofumod/variables.tf": `variable "x" {}`,
	"docs/guide/index.md":          "docs",
}

func names(ps []Project) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestDiscoverWithoutConfig(t *testing.T) {
	root := writeTree(t, repo)
	tests := []struct {
		name    string
		changed []string
		ignore  []string
		want    []string
	}{
		{"nothing", nil, nil, []string{}},
		{"root project", []string{"main.tf"}, nil, []string{"."}},
		{"non terraform file ignored", []string{"README.md", "docs/guide/index.md"}, nil, []string{}},
		{"tfvars counts", []string{"envs/prod/prod.tfvars"}, nil, []string{"envs/prod"}},
		{"module change plans callers", []string{"modules/app/main.tf"}, nil, []string{"envs/prod", "envs/staging"}},
		{"nested module plans callers transitively", []string{"modules/net/sub/main.tf"}, nil, []string{"envs/prod", "envs/staging"}},
		{"a dir nobody calls is a project", []string{"modules/unused/main.tf"}, nil, []string{"modules/unused"}},
		{"module cycle terminates", []string{"modules/cycle-b/main.tf"}, nil, []string{"envs/cyc"}},
		{"json caller", []string{"modules/jsonmod/main.tf"}, nil, []string{"json"}},
		{"tofu caller", []string{"modules/tofumod/variables.tf"}, nil, []string{"tofu"}},
		{"deleted file in existing dir", []string{"envs/dev/old.tf"}, nil, []string{"envs/dev"}},
		{"deleted dir", []string{"envs/gone/main.tf"}, nil, []string{}},
		{"lock file", []string{"envs/dev/.terraform.lock.hcl"}, nil, []string{"envs/dev"}},
		{"ignore files", []string{"envs/dev/main.tf", "examples/basic/main.tf"}, []string{"examples/**"}, []string{"envs/dev"}},
		{"ignore project dir only", []string{"modules/app/main.tf"}, []string{"envs/staging"}, []string{"envs/prod"}},
		{"messy paths", []string{"./envs/dev/main.tf", "/main.tf", "../outside.tf", "envs/dev/main.tf"}, nil, []string{".", "envs/dev"}},
		{"many", []string{"main.tf", "modules/app/main.tf", "envs/dev/main.tf"}, nil, []string{".", "envs/dev", "envs/prod", "envs/staging"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := discoverBoth(t, root, tt.changed, Options{Ignore: tt.ignore})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(names(got), tt.want) {
				t.Errorf("Discover(%q) = %q, want %q", tt.changed, names(got), tt.want)
			}
			for _, p := range got {
				if p.Workspace != DefaultWorkspace || p.Name != p.Dir {
					t.Errorf("project %+v: want name = dir and workspace default", p)
				}
			}
		})
	}
}

func TestAllWithoutConfig(t *testing.T) {
	root := writeTree(t, repo)
	got, err := allBoth(t, root, Options{Ignore: []string{"examples/**"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".", "envs/cyc", "envs/dev", "envs/prod", "envs/staging", "json", "modules/unused", "tofu"}
	if !reflect.DeepEqual(names(got), want) {
		t.Errorf("All = %q, want %q", names(got), want)
	}
}

func TestDiscoverConfigured(t *testing.T) {
	root := writeTree(t, repo)
	configured := []ConfiguredProject{
		{Name: "prod", Dir: "envs/prod"},
		{Name: "prod-eu", Dir: "envs/prod", Workspace: "eu"},
		{Dir: "./envs/staging/"},
		{Name: "dev", Dir: "envs/dev", WhenModified: []string{"*.tf", "../../common/**"}},
		{Name: "manual", Dir: "envs/cyc", AutoplanDisabled: true},
		{Name: "root", Dir: "."},
	}
	tests := []struct {
		name     string
		changed  []string
		disabled bool
		ignore   []string
		want     []string
	}{
		{"when_modified default", []string{"envs/prod/main.tf"}, false, nil, []string{"prod", "prod-eu"}},
		{"default name", []string{"envs/staging/x.tf"}, false, nil, []string{"envs/staging"}},
		{"custom when_modified outside dir", []string{"common/policy.json"}, false, nil, []string{"dev"}},
		{"default when_modified is top level only", []string{"envs/prod/sub/x.tf"}, false, nil, []string{}},
		{"module change", []string{"modules/net/sub/main.tf"}, false, nil, []string{"prod", "prod-eu", "envs/staging"}},
		{"unlisted dirs are not projects", []string{"json/main.tf.json", "modules/jsonmod/main.tf"}, false, nil, []string{}},
		{"autoplan disabled", []string{"envs/cyc/main.tf"}, false, nil, []string{}},
		{"autoplan disabled, explicit plan", []string{"envs/cyc/main.tf", "modules/cycle-a/main.tf"}, true, nil, []string{"manual"}},
		{"root", []string{"main.tf"}, false, nil, []string{"root"}},
		{"ignore", []string{"main.tf", "envs/prod/main.tf"}, false, []string{"*.tf"}, []string{"prod", "prod-eu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := discoverBoth(t, root, tt.changed, Options{Configured: configured, IncludeAutoplanDisabled: tt.disabled, Ignore: tt.ignore})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(names(got), tt.want) {
				t.Errorf("Discover(%q) = %q, want %q", tt.changed, names(got), tt.want)
			}
		})
	}

	all, err := allBoth(t, root, Options{Configured: configured})
	if err != nil {
		t.Fatal(err)
	}
	want := []Project{
		{Name: "root", Dir: ".", Workspace: "default"},
		{Name: "manual", Dir: "envs/cyc", Workspace: "default"},
		{Name: "dev", Dir: "envs/dev", Workspace: "default"},
		{Name: "prod", Dir: "envs/prod", Workspace: "default"},
		{Name: "prod-eu", Dir: "envs/prod", Workspace: "eu"},
		{Name: "envs/staging", Dir: "envs/staging", Workspace: "default"},
	}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("All = %+v\nwant %+v", all, want)
	}
}

func TestDiscoverErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Discover(ctx, filepath.Join(t.TempDir(), "missing"), []string{"a.tf"}, Options{}); err == nil {
		t.Error("missing checkout: no error")
	}
	if _, err := Discover(ctx, t.TempDir(), []string{"a.tf"}, Options{Ignore: []string{"[x"}}); err == nil {
		t.Error("bad ignore glob: no error")
	}
	if _, err := Discover(ctx, t.TempDir(), []string{"a.tf"}, Options{Configured: []ConfiguredProject{{Dir: ".", WhenModified: []string{"[x"}}}}); err == nil {
		t.Error("bad when_modified glob: no error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Discover(cancelled, writeTree(t, repo), []string{"main.tf"}, Options{}); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestDefaultName(t *testing.T) {
	if got := DefaultName("envs/prod", "default"); got != "envs/prod" {
		t.Errorf("got %q", got)
	}
	if got := DefaultName("envs/prod", "eu"); got != "envs/prod:eu" {
		t.Errorf("got %q", got)
	}
}
