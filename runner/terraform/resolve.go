package terraform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hc-install/fs"
	"github.com/hashicorp/hc-install/product"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// ErrNoBinary is wrapped by Resolve's error when no binary could be found
// or installed.
var ErrNoBinary = errors.New("no suitable binary")

// ResolveOptions says which binary Resolve should find or install.
type ResolveOptions struct {
	// Distribution is Terraform (the default) or OpenTofu.
	Distribution Distribution
	// ExplicitPath, when set, is used as is (after checking it runs).
	ExplicitPath string
	// VersionConstraint pins the version (server or repo config), e.g.
	// "1.5.7" or ">= 1.5, < 2.0". Empty: the project's required_version.
	VersionConstraint string
	// ProjectDir is the root module whose terraform blocks'
	// required_version apply when VersionConstraint is empty.
	ProjectDir string
	// DataDir holds downloaded binaries as DATADIR/DISTRIBUTION/VERSION/BINARY
	// (e.g. data/terraform/1.5.7/terraform); they are found there again.
	DataDir string
	// ReleasesURL is the base URL of a HashiCorp releases mirror (same
	// layout as https://releases.hashicorp.com, the default).
	ReleasesURL string
	// ArmoredPublicKey replaces HashiCorp's key for checking SHA256SUMS
	// signatures; for tests and mirrors that re-sign.
	ArmoredPublicKey string
	// NoDownload forbids downloading: only ExplicitPath, PATH and DataDir.
	NoDownload bool
	// HTTPClient is used for downloads (default: hc-install's client).
	HTTPClient *http.Client
}

// Binary is a terraform or tofu executable and its version.
type Binary struct {
	// Path is absolute.
	Path string
	// Version is what "version -json" reports, e.g. "1.5.7" or
	// "1.10.6-dev".
	Version string
	// Distribution is Terraform or OpenTofu.
	Distribution Distribution
}

// Resolve finds or installs a binary, in this order:
//
//  1. ExplicitPath, if set.
//  2. An installed binary, first on PATH then under DataDir (newest
//     version first), that satisfies the constraint: VersionConstraint, or
//     else the required_version of the .tf files in ProjectDir (and .tofu
//     files for OpenTofu), or else any version. A prerelease or dev build
//     is judged by its core version (1.10.6-dev satisfies >= 1.10), as
//     terraform judges itself.
//  3. A download with hc-install from ReleasesURL into DataDir: the exact
//     version when the constraint pins one, else the newest release that
//     satisfies it. The SHA256SUMS signature is checked against HashiCorp's
//     key or ArmoredPublicKey.
//
// OpenTofu is never downloaded: hc-install knows only HashiCorp products.
// For OpenTofu, Resolve returns an error wrapping ErrNoBinary unless
// ExplicitPath, PATH or DataDir/opentofu/VERSION/tofu has a suitable tofu.
func Resolve(ctx context.Context, opts ResolveOptions) (Binary, error) {
	dist := opts.Distribution.orDefault()
	if err := dist.validate(); err != nil {
		return Binary{}, fmt.Errorf("resolving terraform: %w", err)
	}
	vr := &versionReader{}
	if opts.ExplicitPath != "" {
		return explicitBinary(ctx, vr, dist, opts.ExplicitPath)
	}

	cs, err := resolveConstraints(opts, dist)
	if err != nil {
		return Binary{}, fmt.Errorf("resolving %s: %w", dist.binaryName(), err)
	}
	want := "any version"
	if len(cs) > 0 {
		want = cs.String()
	}

	if b, err := findInstalled(ctx, vr, dist, cs, opts.DataDir); err == nil {
		return b, nil
	} else if ctx.Err() != nil {
		return Binary{}, fmt.Errorf("resolving %s: %w", dist.binaryName(), ctx.Err())
	}

	where := "on PATH"
	if opts.DataDir != "" {
		where += " or under " + filepath.Join(opts.DataDir, string(dist))
	}
	switch {
	case dist == OpenTofu:
		return Binary{}, fmt.Errorf("resolving tofu: %w: no tofu %s satisfies %s, and atoll cannot download OpenTofu (hc-install knows only HashiCorp products): install it there or set an explicit path", ErrNoBinary, where, want)
	case opts.NoDownload:
		return Binary{}, fmt.Errorf("resolving terraform: %w: no terraform %s satisfies %s, and downloads are off", ErrNoBinary, where, want)
	case opts.DataDir == "":
		return Binary{}, fmt.Errorf("resolving terraform: %w: no terraform %s satisfies %s, and there is no data dir to download into", ErrNoBinary, where, want)
	}
	b, err := download(ctx, vr, opts, cs)
	if err != nil {
		return Binary{}, fmt.Errorf("resolving terraform: %w: no terraform %s satisfies %s, and the download failed: %w", ErrNoBinary, where, want, err)
	}
	return b, nil
}

// resolveConstraints returns VersionConstraint or the project's
// required_version (nil: any version).
func resolveConstraints(opts ResolveOptions, dist Distribution) (version.Constraints, error) {
	if opts.VersionConstraint != "" {
		cs, err := version.NewConstraint(opts.VersionConstraint)
		if err != nil {
			return nil, fmt.Errorf("version constraint %q: %w", opts.VersionConstraint, err)
		}
		return cs, nil
	}
	if opts.ProjectDir == "" {
		return nil, nil
	}
	return requiredVersion(opts.ProjectDir, dist)
}

// explicitBinary checks that path runs and reads its version.
func explicitBinary(ctx context.Context, vr *versionReader, dist Distribution, path string) (Binary, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Binary{}, fmt.Errorf("resolving %s: explicit path: %w", dist.binaryName(), err)
	}
	v, err := vr.read(ctx, abs)
	if err != nil {
		return Binary{}, fmt.Errorf("resolving %s: explicit path %s: %w", dist.binaryName(), abs, err)
	}
	return Binary{Path: abs, Version: v.Original(), Distribution: dist}, nil
}

// findInstalled looks on PATH, then under DataDir, for a binary that
// satisfies cs (any version when cs is empty), with hc-install's fs
// source.
func findInstalled(ctx context.Context, vr *versionReader, dist Distribution, cs version.Constraints, dataDir string) (Binary, error) {
	if len(cs) == 0 {
		cs = version.MustConstraints(version.NewConstraint(">= 0.0.0"))
	}
	src := &fs.Version{
		Product:     vr.product(dist),
		Constraints: cs,
		ExtraPaths:  installedDirs(dataDir, dist),
		Timeout:     30 * time.Second,
	}
	path, err := src.Find(ctx)
	if err != nil {
		return Binary{}, err
	}
	v, err := vr.read(ctx, path)
	if err != nil {
		return Binary{}, err
	}
	return Binary{Path: path, Version: v.Original(), Distribution: dist}, nil
}

// installedDirs lists DATADIR/DISTRIBUTION/VERSION directories, newest
// version first.
func installedDirs(dataDir string, dist Distribution) []string {
	if dataDir == "" {
		return nil
	}
	root := filepath.Join(dataDir, string(dist))
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	type dir struct {
		v    *version.Version
		path string
	}
	var dirs []dir
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		v, err := version.NewVersion(e.Name())
		if err != nil {
			continue // not a version (e.g. a download in progress)
		}
		dirs = append(dirs, dir{v, filepath.Join(root, e.Name())})
	}
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].v.GreaterThan(dirs[j].v) })
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = d.path
	}
	return out
}

// versionReader runs "BINARY version -json" and remembers the answers for
// the duration of one Resolve.
type versionReader struct {
	mu   sync.Mutex
	seen map[string]*version.Version
}

// product is hc-install's description of the distribution, with a version
// getter that reports the core version (prerelease dropped) so that
// hc-install's constraint check judges a dev build as terraform does.
func (vr *versionReader) product(dist Distribution) product.Product {
	name := dist.binaryName()
	return product.Product{
		Name:       string(dist),
		BinaryName: func() string { return name },
		GetVersion: func(ctx context.Context, path string) (*version.Version, error) {
			v, err := vr.read(ctx, path)
			if err != nil {
				return nil, err
			}
			return v.Core(), nil
		},
	}
}

// read returns the version of the binary at path, from terraform-exec's
// Version ("version -json", or the text of "version" for binaries older
// than 0.13). It runs in os.TempDir, not in a working directory with its
// own .terraform, with the inherited part of atoll's environment alone
// (see Config.Env).
func (vr *versionReader) read(ctx context.Context, path string) (*version.Version, error) {
	vr.mu.Lock()
	if v, ok := vr.seen[path]; ok {
		vr.mu.Unlock()
		return v, nil
	}
	vr.mu.Unlock()
	// Asked before by this process (a job's Workdir, an earlier Resolve):
	// the binary is the same file, so is its version. Without this, every
	// job's Resolve started terraform once to learn it again.
	if k, ok := binaryKey(path); ok {
		if kv, ok := versionCache.Load(k); ok {
			return kv.(knownVersion).exec, nil
		}
	}

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tf, err := tfexec.NewTerraform(os.TempDir(), path)
	if err != nil {
		return nil, fmt.Errorf("%s version: %w", filepath.Base(path), err)
	}
	env := map[string]string{"CHECKPOINT_DISABLE": "1"}
	for _, k := range inheritedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	if err := tf.SetEnv(env); err != nil {
		return nil, fmt.Errorf("%s version: %w", filepath.Base(path), err)
	}
	v, provs, err := tf.Version(ctx, true)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			// Not err itself: terraform-exec's error for a cancelled
			// command may have no text.
			return nil, fmt.Errorf("running %s version: %w", filepath.Base(path), ctxErr)
		}
		return nil, fmt.Errorf("running %s version: %w", filepath.Base(path), err)
	}
	vr.mu.Lock()
	if vr.seen == nil {
		vr.seen = map[string]*version.Version{}
	}
	vr.seen[path] = v
	vr.mu.Unlock()
	rememberVersion(path, v, provs)
	return v, nil
}
