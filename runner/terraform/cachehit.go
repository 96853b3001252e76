package terraform

import (
	"os"
	"path/filepath"
	"runtime"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/atollhq/atoll/runner/safefs"
)

// lockFileName is terraform's dependency lock file.
const lockFileName = ".terraform.lock.hcl"

// linksOnly reports whether an init of the project in dir can only link
// providers from the plugin cache, never install one into it: the
// project commits a dependency lock file, and every provider it locks is
// in the cache at its locked version for this platform. Such inits take
// the cache's lock shared and run in parallel (see Workdir.Init); the
// first init of a provider set takes it exclusively and fills the cache.
//
// What it cannot see: a module that needs a provider the lock file does
// not list. terraform then installs it, under the shared lock. Lock
// files list every provider of the configuration, modules included,
// once `terraform init` has run with them, so this takes a lock file
// out of date with its own configuration.
func linksOnly(dir, cache string) bool {
	src, err := safefs.ReadRegular(filepath.Join(dir, lockFileName))
	if err != nil {
		return false
	}
	f, diags := hclsyntax.ParseConfig(src, lockFileName, hcl.InitialPos)
	if diags.HasErrors() {
		return false
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return false
	}
	platform := runtime.GOOS + "_" + runtime.GOARCH
	n := 0
	for _, b := range body.Blocks {
		if b.Type != "provider" || len(b.Labels) != 1 {
			continue
		}
		attr, ok := b.Body.Attributes["version"]
		if !ok {
			return false
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.String || v.IsNull() || !v.IsKnown() {
			return false
		}
		addr := filepath.FromSlash(b.Labels[0]) // host/namespace/type
		if !filepath.IsLocal(addr) {
			return false
		}
		if fi, err := os.Stat(filepath.Join(cache, addr, v.AsString(), platform)); err != nil || !fi.IsDir() {
			return false
		}
		n++
	}
	return n > 0
}
