package terraform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/atollhq/atoll/runner/safefs"
)

// dataDirName is the directory init writes in the project directory.
const dataDirName = ".terraform"

// InitCache keeps initialised .terraform directories between the jobs of
// a project, so that a plan whose project init would rebuild the same
// directory skips init (see Workdir.InitCached).
//
// Its directory must be one terraform can never write: atoll keeps it
// under the data dir, which the sandbox hides. An entry is taken right
// after an init that started from no .terraform, before any other command
// of the job runs, and a job gets its own copy: what a plan, an apply, a
// provider or a custom step writes into its .terraform stays in its
// worktree and never reaches the entry or another job.
type InitCache struct {
	// Dir holds one directory per key.
	Dir string
}

// InitCached runs Init, or, when c holds the .terraform an init of this
// project would make (same key: see initKey), copies it into the project
// directory instead and returns reused true. An init that ran from no
// .terraform, left the lock file as it was and made only what an entry
// may hold is kept in c for the next job. Anything that makes the key
// unknowable (a JSON configuration file, a module from outside the
// repository or from a remote source, OpenTofu, whose early evaluation
// lets variables change the backend and module sources) runs Init as
// before. Errors of the cache itself are never the job's: init runs.
func (w *Workdir) InitCached(ctx context.Context, c InitCache, o InitOptions) (reused bool, err error) {
	key, ok := w.initKey(o)
	dotTF := filepath.Join(w.cfg.Dir, dataDirName)
	_, statErr := os.Lstat(dotTF)
	fresh := errors.Is(statErr, fs.ErrNotExist)
	if !ok || c.Dir == "" || !fresh {
		return false, w.Init(ctx, o)
	}
	entry := filepath.Join(c.Dir, key)
	if _, err := os.Stat(filepath.Join(entry, "done")); err == nil {
		if err := copyTree(filepath.Join(entry, dataDirName), dotTF, w.cfg.PluginCacheDir); err == nil {
			now := time.Now()
			_ = os.Chtimes(filepath.Join(entry, "done"), now, now) // used: kept (see prune)
			return true, nil
		}
		_ = os.RemoveAll(dotTF) // half a copy: init starts from nothing
	}
	lockBefore, lockErr := safefs.ReadRegular(filepath.Join(w.cfg.Dir, lockFileName))
	if err := w.Init(ctx, o); err != nil {
		return false, err
	}
	lockAfter, lockErr2 := safefs.ReadRegular(filepath.Join(w.cfg.Dir, lockFileName))
	if (lockErr == nil) != (lockErr2 == nil) || !bytes.Equal(lockBefore, lockAfter) {
		return false, nil // init chose providers: the next one may choose others
	}
	_ = c.save(entry, dotTF, w.cfg.PluginCacheDir)
	return false, nil
}

// save copies the .terraform at src into the entry dir, atomically: a
// reader sees the whole entry or none.
func (c InitCache) save(entry, src, pluginCache string) error {
	if _, err := os.Stat(filepath.Join(entry, "done")); err == nil {
		return nil
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(c.Dir, ".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
		// Init made nothing (no backend, module or provider): so be it.
		if err := os.Mkdir(filepath.Join(tmp, dataDirName), 0o700); err != nil {
			return err
		}
	} else if err := copyTree(src, filepath.Join(tmp, dataDirName), pluginCache); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "done"), nil, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, entry); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(filepath.Join(entry, "done")); serr == nil {
			return nil // another job saved it first
		}
		return err
	}
	c.prune(time.Now().Add(-initCacheTTL))
	return nil
}

// initCacheTTL is how long an entry no job has used is kept.
const initCacheTTL = 30 * 24 * time.Hour

// prune removes the entries last used (or saved) before cutoff, and
// copies left half made before it: a project's lock file or backend
// changes leave its old entry unused. It runs when an entry is saved,
// which is rare: only a key seen for the first time saves one.
func (c InitCache) prune(cutoff time.Time) {
	ents, err := os.ReadDir(c.Dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		p := filepath.Join(c.Dir, e.Name())
		fi, err := os.Stat(filepath.Join(p, "done"))
		if err != nil {
			fi, err = os.Stat(p)
		}
		if err == nil && fi.ModTime().Before(cutoff) {
			_ = os.RemoveAll(p)
		}
	}
}

// maxEntryFiles bounds what an entry may hold: init writes a handful of
// files (backend settings, module manifest, provider links).
const maxEntryFiles = 10_000

// copyTree copies the directory src to dst (which must not exist):
// directories, regular files, and symbolic links whose target is an
// absolute path inside pluginCache (terraform's links to the plugin
// cache). Anything else (another link, a device, a socket) fails the
// copy: init never makes one.
func copyTree(src, dst, pluginCache string) error {
	n := 0
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if n++; n > maxEntryFiles {
			return errors.New("too many files")
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if pluginCache == "" || !filepath.IsAbs(target) || !within(pluginCache, filepath.Clean(target)) {
				return fmt.Errorf("%s: a link out of the plugin cache", rel)
			}
			return os.Symlink(target, out)
		case d.IsDir():
			return os.Mkdir(out, 0o755)
		case d.Type().IsRegular():
			return copyFile(p, out)
		default:
			return fmt.Errorf("%s: not a file or directory", rel)
		}
	})
}

// copyFile copies the regular file src (never through a link: it is
// opened with O_NOFOLLOW and checked once open) to dst.
func copyFile(src, dst string) error {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", src)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// within reports whether path is dir or under it (both clean, absolute).
func within(dir, path string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}

// initKey is the key of the .terraform an init with o makes in w's
// project directory: a hash of what init reads (the binary and its
// version, the directory's place in the repository, the environment, the
// CLI configuration, the plugin cache, -backend-config values, the lock
// file) and, of every configuration file of the project and of the local
// modules it calls, the terraform blocks (backend, required providers)
// and the module blocks' sources and versions. Resources, variables and
// outputs are not in it: a change to them needs no new init. A pull
// request cannot make two different inits share a key: the key is
// computed from its own checkout. ok is false when the key cannot be
// known (see InitCached).
func (w *Workdir) initKey(o InitOptions) (string, bool) {
	if w.cfg.Binary.Distribution != Terraform {
		return "", false
	}
	rel, err := filepath.Rel(w.cfg.RepoDir, w.cfg.Dir)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", false
	}
	// The project dir, links resolved, must stay in the checkout: atoll
	// itself, unconfined, writes the copy there.
	realRepo, err1 := filepath.EvalSymlinks(w.cfg.RepoDir)
	realDir, err2 := filepath.EvalSymlinks(w.cfg.Dir)
	if err1 != nil || err2 != nil || !within(realRepo, realDir) {
		return "", false
	}
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s\n", len(s), s) }
	field("atoll init cache 1")
	field(w.cfg.Binary.Path)
	field(w.cfg.Binary.Version)
	field(filepath.ToSlash(rel))
	field(w.cfg.PluginCacheDir)
	field(w.cfg.CLIConfigFile)
	if w.cfg.CLIConfigFile != "" {
		b, err := os.ReadFile(w.cfg.CLIConfigFile)
		if err != nil {
			return "", false
		}
		field(string(b))
	}
	keys := make([]string, 0, len(w.env))
	for k := range w.env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "TMPDIR" {
			continue // the job's own; init keeps nothing of it
		}
		field(k + "=" + w.env[k])
	}
	for _, bc := range o.BackendConfig {
		field("backend-config " + bc)
		if !strings.Contains(bc, "=") {
			b, err := safefs.ReadRegular(w.abs(bc))
			if err != nil {
				return "", false
			}
			field(string(b))
		}
	}
	if b, err := safefs.ReadRegular(filepath.Join(w.cfg.Dir, lockFileName)); err == nil {
		field("lock " + string(b))
	} else if errors.Is(err, fs.ErrNotExist) {
		field("no lock file")
	} else {
		return "", false
	}
	seen := map[string]bool{}
	if !initInputs(w.cfg.RepoDir, w.cfg.Dir, seen, field) {
		return "", false
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// maxModules bounds the local modules initInputs follows.
const maxModules = 200

// initInputs feeds field, for the module in dir and the local modules it
// calls, the parts of its configuration init reads. It is false when they
// cannot be known: a file that does not parse (init will say why), a JSON
// file, a module source that is not a literal path inside root.
func initInputs(root, dir string, seen map[string]bool, field func(string)) bool {
	if seen[dir] {
		return true
	}
	if seen[dir] = true; len(seen) > maxModules {
		return false
	}
	rel, _ := filepath.Rel(root, dir)
	field("module " + filepath.ToSlash(rel))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	var calls []string
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, ".tf.json") || strings.HasSuffix(name, ".tofu") || strings.HasSuffix(name, ".tofu.json") {
			return false
		}
		if !strings.HasSuffix(name, ".tf") || e.IsDir() {
			continue
		}
		src, err := safefs.ReadRegular(filepath.Join(dir, name))
		if err != nil {
			return false
		}
		f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			return false
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			return false
		}
		field("file " + name)
		for _, b := range body.Blocks {
			switch b.Type {
			case "terraform":
				field(string(b.Range().SliceBytes(src)))
			case "module":
				field("module " + strings.Join(b.Labels, "."))
				for _, a := range []string{"source", "version"} {
					if attr, ok := b.Body.Attributes[a]; ok {
						field(a + " " + string(attr.Expr.Range().SliceBytes(src)))
					}
				}
				attr, ok := b.Body.Attributes["source"]
				if !ok {
					return false
				}
				v, diags := attr.Expr.Value(nil)
				if diags.HasErrors() || !v.IsKnown() || v.IsNull() || !v.Type().Equals(cty.String) {
					return false
				}
				s := v.AsString()
				if !strings.HasPrefix(s, "./") && !strings.HasPrefix(s, "../") {
					return false // a remote module: its content can change under the same source
				}
				calls = append(calls, s)
			}
		}
	}
	for _, s := range calls {
		sub := filepath.Join(dir, filepath.FromSlash(s))
		if !within(root, sub) {
			return false
		}
		if !initInputs(root, sub, seen, field) {
			return false
		}
	}
	return true
}
