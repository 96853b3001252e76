package terraform

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// InitOptions configures Init.
type InitOptions struct {
	// BackendConfig are -backend-config values, each "key=value" or the
	// path of a backend configuration file (relative to the project
	// directory). Values pass on terraform's command line: put secrets in
	// Config.Env (e.g. AWS_SECRET_ACCESS_KEY) instead.
	BackendConfig []string
}

// initArgs is the argv (after the binary) of Init.
func initArgs(o InitOptions) ([]string, error) {
	args := []string{"init", "-input=false", "-no-color"}
	for _, bc := range o.BackendConfig {
		if strings.TrimSpace(bc) == "" {
			return nil, fmt.Errorf("empty -backend-config value")
		}
		args = append(args, "-backend-config="+bc)
	}
	return args, nil
}

// initCmd builds the init command.
func (w *Workdir) initCmd(ctx context.Context, o InitOptions) (*exec.Cmd, error) {
	args, err := initArgs(o)
	if err != nil {
		return nil, fmt.Errorf("%s init: %w", w.binName(), err)
	}
	return w.command(ctx, args...), nil
}

// Init runs "init" (modules, backend, providers). With a
// Config.PluginCacheDir it first takes that cache's init lock (an
// in-process lock plus flock on a file in the cache), so that no two inits
// into one cache ever run at once, in this process or another: terraform's
// cache is not safe for concurrent writers (hashicorp/terraform#25849,
// runatlantis/atlantis#2242). Plans, shows and applies take no lock and
// stay parallel: New sets TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE so
// that an init links an existing cache entry instead of rewriting one
// another project may be executing. The price: a cache entry that does not
// match a committed lock file's checksums is an error ("doesn't match any
// of the checksums recorded in the dependency lock file") rather than a
// silent re-download.
func (w *Workdir) Init(ctx context.Context, o InitOptions) error {
	cmd, err := w.initCmd(ctx, o)
	if err != nil {
		return err
	}
	if w.cfg.PluginCacheDir != "" {
		unlock, err := lockCache(ctx, w.cfg.PluginCacheDir)
		if err != nil {
			return fmt.Errorf("%s init: %w", w.binName(), err)
		}
		defer unlock()
	}
	return w.run(ctx, cmd, "init", nil)
}
