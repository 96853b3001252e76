package terraform

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const initCacheMain = `terraform {
  required_providers {
    local = {
      source = "hashicorp/local"
    }
  }
}

module "m" {
  source = "./mod"
}

resource "terraform_data" "x" {
  input = "%s"
}

output "m" { value = module.m.v }
`

// initCacheCheckout writes a checkout under base/name: a project app with
// files, and its local module app/mod.
func initCacheCheckout(t *testing.T, base, name string, files map[string]string) (repo, dir string) {
	t.Helper()
	repo = filepath.Join(base, name)
	dir = filepath.Join(repo, "app")
	all := map[string]string{"mod/main.tf": "output \"v\" { value = \"module\" }\n"}
	for k, v := range files {
		all[k] = v
	}
	for k, v := range all {
		p := filepath.Join(dir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return repo, dir
}

// A project's initialised .terraform is reused by its next jobs while
// what init reads is the same (resources may change), each job gets its
// own copy (what one job writes into it never reaches the next), and any
// change to what init reads, or what the key cannot see, runs init.
func TestE2EInitCache(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	c := InitCache{Dir: filepath.Join(base, "init-cache")}
	plugins := filepath.Join(base, "plugins")
	cfg := Config{PluginCacheDir: plugins}
	run := func(name string, files map[string]string) (*Workdir, bool) {
		t.Helper()
		repo, dir := initCacheCheckout(t, base, name, files)
		cfg := cfg
		cfg.RepoDir = repo
		w, _ := realWorkdir(t, Terraform, dir, cfg)
		reused, err := w.InitCached(ctx, c, InitOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return w, reused
	}
	entries := func() int {
		es, _ := os.ReadDir(c.Dir)
		n := 0
		for _, e := range es {
			if !strings.HasPrefix(e.Name(), ".") {
				n++
			}
		}
		return n
	}

	// No lock file: init chooses the provider, so nothing is kept.
	w, reused := run("nolock", map[string]string{"main.tf": strings.Replace(initCacheMain, "%s", "a", 1)})
	if reused || entries() != 0 {
		t.Fatalf("without a lock file: reused %v, %d entries", reused, entries())
	}
	lock, err := os.ReadFile(filepath.Join(w.Dir(), lockFileName))
	if err != nil {
		t.Fatal(err)
	}
	project := func(input string) map[string]string {
		return map[string]string{"main.tf": strings.Replace(initCacheMain, "%s", input, 1), lockFileName: string(lock)}
	}
	if _, reused := run("first", project("a")); reused || entries() != 1 {
		t.Fatalf("first init with a lock file: reused %v, %d entries", reused, entries())
	}
	w, reused = run("second", project("b"))
	if !reused {
		t.Fatal("a change to a resource only: init ran again")
	}
	if _, err := w.Plan(ctx, PlanOptions{Out: "p.tfplan"}); err != nil {
		t.Fatalf("plan on the reused .terraform: %v", err)
	}
	// The job tampers with its copy, as a plan's code may: the module
	// manifest and the provider link.
	manifest := filepath.Join(w.Dir(), ".terraform", "modules", "modules.json")
	want, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, []byte(`{"Modules":[{"Key":"m","Source":"./evil","Dir":"/tmp/evil"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(w.Dir(), ".terraform", "providers", "registry.terraform.io", "hashicorp", "local")
	if err := os.RemoveAll(link); err != nil {
		t.Fatal(err)
	}
	w, reused = run("third", project("c"))
	if !reused {
		t.Fatal("third job: init ran again")
	}
	if got, _ := os.ReadFile(filepath.Join(w.Dir(), ".terraform", "modules", "modules.json")); string(got) != string(want) {
		t.Fatalf("the next job got the tampered manifest: %s", got)
	}
	if _, err := w.Plan(ctx, PlanOptions{Out: "p.tfplan"}); err != nil {
		t.Fatalf("plan after another job tampered with its copy: %v", err)
	}

	// What init reads changed, or cannot be known: init runs.
	for name, files := range map[string]map[string]string{
		"backend":     {"backend.tf": "terraform {\n  backend \"local\" {\n    path = \"other.tfstate\"\n  }\n}\n"},
		"module":      {"mod/extra.tf": "module \"n\" {\n  source = \"../mod2\"\n}\n", "mod2/main.tf": ""},
		"json":        {"extra.tf.json": `{"locals": {"a": 1}}`},
		"remote":      {"remote.tf": "module \"r\" {\n  source = \"hashicorp/consul/aws\"\n  version = \"0.1.0\"\n}\n"},
		"committed":   {".terraform/modules/modules.json": string(want)},
		"lock change": {lockFileName: strings.Replace(string(lock), "h1:", "h1:AAAA", 1)},
	} {
		files := func() map[string]string {
			f := project("d")
			for k, v := range files {
				f[k] = v
			}
			return f
		}()
		repo, dir := initCacheCheckout(t, base, "miss-"+strings.ReplaceAll(name, " ", "-"), files)
		cfg := cfg
		cfg.RepoDir = repo
		w, _ := realWorkdir(t, Terraform, dir, cfg)
		key, ok := w.initKey(InitOptions{})
		if name == "json" || name == "remote" {
			if ok {
				t.Errorf("%s: a key (%s) where none can be known", name, key)
			}
			continue
		}
		if _, err := os.Stat(filepath.Join(c.Dir, key)); ok && err == nil && name != "committed" {
			t.Errorf("%s: the key of the first project", name)
		}
		if name == "committed" {
			reused, _ := w.InitCached(ctx, c, InitOptions{})
			if reused {
				t.Errorf("a checkout with its own .terraform got the cached one")
			}
		}
	}
}

// What atoll copies, unconfined, never follows a link a pull request
// could plant: a project dir that links out of the checkout gets no key
// (so no copy is written through it), and an entry is never taken from a
// .terraform holding a link out of the plugin cache or a linked file.
func TestInitCacheRefusesLinks(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "main.tf"), []byte("resource \"terraform_data\" \"x\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(base, "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(repo, "app")); err != nil {
		t.Fatal(err)
	}
	w, err := New(Config{Binary: Binary{Path: "/bin/true", Version: "1.5.7"}, Dir: filepath.Join(repo, "app"), RepoDir: repo})
	if err != nil {
		t.Fatal(err)
	}
	if key, ok := w.initKey(InitOptions{}); ok {
		t.Errorf("a project dir linked out of the checkout has a key (%s): the copy would be written outside it", key)
	}

	plugins := filepath.Join(base, "plugins")
	c := InitCache{Dir: filepath.Join(base, "cache")}
	for name, plant := range map[string]func(dotTF string) error{
		"link out of the plugin cache": func(dotTF string) error {
			return os.Symlink("/etc/hostname", filepath.Join(dotTF, "providers"))
		},
		"relative link": func(dotTF string) error {
			return os.Symlink("../../outside/main.tf", filepath.Join(dotTF, "modules.json"))
		},
	} {
		dotTF := filepath.Join(base, strings.ReplaceAll(name, " ", "-"), ".terraform")
		if err := os.MkdirAll(dotTF, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := plant(dotTF); err != nil {
			t.Fatal(err)
		}
		entry := filepath.Join(c.Dir, strings.ReplaceAll(name, " ", "-"))
		if err := c.save(entry, dotTF, plugins); err == nil {
			t.Errorf("%s: saved", name)
		}
		if _, err := os.Stat(entry); err == nil {
			t.Errorf("%s: an entry exists", name)
		}
	}
	if err := os.Symlink(filepath.Join(outside, "main.tf"), filepath.Join(base, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(filepath.Join(base, "linked"), filepath.Join(base, "copy")); err == nil {
		t.Error("copyFile followed a link")
	}
}

// Entries no job used for initCacheTTL go when another is saved; used
// ones stay.
func TestInitCachePrune(t *testing.T) {
	base := t.TempDir()
	c := InitCache{Dir: filepath.Join(base, "cache")}
	src := filepath.Join(base, ".terraform")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"old", "used"} {
		if err := c.save(filepath.Join(c.Dir, k), src, ""); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-initCacheTTL - time.Hour)
	if err := os.Chtimes(filepath.Join(c.Dir, "old", "done"), long, long); err != nil {
		t.Fatal(err)
	}
	if err := c.save(filepath.Join(c.Dir, "new"), src, ""); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"old": false, "used": true, "new": true} {
		if _, err := os.Stat(filepath.Join(c.Dir, k, "done")); (err == nil) != want {
			t.Errorf("entry %s kept: %v, want %v", k, err == nil, want)
		}
	}
}
