package terraform

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// InitOptions configures Init.
type InitOptions struct {
	// BackendConfig are -backend-config values, each "key=value" or the
	// path of a backend configuration file (relative to the project
	// directory). Values pass on terraform's command line: put secrets in
	// Config.Env (e.g. AWS_SECRET_ACCESS_KEY) instead.
	BackendConfig []string
}

// initOptions maps o onto terraform-exec's init options.
func initOptions(o InitOptions) ([]tfexec.InitOption, error) {
	var opts []tfexec.InitOption
	for _, bc := range o.BackendConfig {
		if strings.TrimSpace(bc) == "" {
			return nil, fmt.Errorf("empty -backend-config value")
		}
		opts = append(opts, tfexec.BackendConfig(bc))
	}
	return opts, nil
}

// Init runs "init" (modules, backend, providers) through terraform-exec.
// With a Config.PluginCacheDir it first takes that cache's init lock (an
// in-process lock plus flock on a file in the cache), so that no init that
// may write into the cache runs beside another init, in this process or
// another: terraform's cache is not safe for concurrent writers
// (hashicorp/terraform#25849, runatlantis/atlantis#2242). Only the
// population of the cache is serialized: an init whose committed lock file
// names providers all already in the cache only links them, and takes the
// lock shared, in parallel with other such inits (see linksOnly). Plans, shows and applies take no lock and
// stay parallel: New sets TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE so
// that an init links an existing cache entry instead of rewriting one
// another project may be executing. The price: a cache entry that does not
// match a committed lock file's checksums is an error ("doesn't match any
// of the checksums recorded in the dependency lock file") rather than a
// silent re-download.
//
// terraform-exec has no -var option for init, so OpenTofu's early
// evaluation of variables (in a backend block or a module source) does
// not see the TF_VAR_ entries of Config.Env.
func (w *Workdir) Init(ctx context.Context, o InitOptions) error {
	opts, err := initOptions(o)
	if err != nil {
		return fmt.Errorf("%s init: %w", w.binName(), err)
	}
	release, err := w.acquire(ctx, "init")
	if err != nil {
		return err
	}
	defer release()
	if w.cfg.PluginCacheDir != "" {
		shared := linksOnly(w.cfg.Dir, w.cfg.PluginCacheDir)
		lock := lockCache
		if shared {
			lock = lockCacheShared
		}
		unlock, err := lock(ctx, w.cfg.PluginCacheDir)
		if err != nil {
			return fmt.Errorf("%s init: %w", w.binName(), err)
		}
		// Inits that queued for an empty cache find it filled by the one
		// before them: they only link now, together.
		if !shared && linksOnly(w.cfg.Dir, w.cfg.PluginCacheDir) {
			unlock()
			if unlock, err = lockCacheShared(ctx, w.cfg.PluginCacheDir); err != nil {
				return fmt.Errorf("%s init: %w", w.binName(), err)
			}
		}
		defer func() { unlock() }()
	}
	return w.run(ctx, "init", nil, func(ctx context.Context, tf *tfexec.Terraform) error {
		return tf.Init(ctx, opts...)
	})
}
