package terraform

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultKillGrace is how long a cancelled command may take to stop after
// its interrupt before it is killed, when Config.KillGrace is zero.
const DefaultKillGrace = 10 * time.Second

// inheritedEnv names the variables of atoll's own environment that
// terraform inherits. Nothing else is passed through: atoll's environment
// holds its own secrets (webhook secret, App key) and a plan runs code from
// an unreviewed pull request. Credentials for providers and backends go in
// Config.Env.
var inheritedEnv = []string{
	"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}

// Config configures a Workdir.
type Config struct {
	// Binary is the terraform or tofu binary to run (see Resolve).
	Binary Binary
	// Dir is the project directory, where terraform runs.
	Dir string
	// RepoDir is the root of the checkout that holds Dir; -var-file paths
	// must resolve inside it. Default: Dir.
	RepoDir string

	// Env is extra environment (TF_VAR_x, provider credentials...). Of
	// atoll's own environment terraform sees only PATH, HOME, USER,
	// LOGNAME, LANG, LC_ALL, LC_CTYPE, TZ, TMPDIR, SSL_CERT_FILE,
	// SSL_CERT_DIR and the proxy variables. TF_IN_AUTOMATION=1, TF_INPUT=0
	// and CHECKPOINT_DISABLE=1 are always set. New refuses TF_CLI_ARGS*
	// (they would bypass ValidateExtraArgs), TF_WORKSPACE (use
	// SelectWorkspace), TF_PLUGIN_CACHE_DIR and TF_CLI_CONFIG_FILE (use
	// the fields below).
	Env map[string]string
	// Secrets are values masked as "***" in every line written to Output,
	// in ShowText's text and in every error. Empty strings are ignored.
	Secrets []string

	// PluginCacheDir is the shared provider cache (TF_PLUGIN_CACHE_DIR);
	// it is created if missing. Inits into one cache are serialized (see
	// Workdir.Init). Empty: no cache.
	PluginCacheDir string
	// CLIConfigFile is the CLI configuration (TF_CLI_CONFIG_FILE), e.g. a
	// provider_installation block pointing at a mirror. Empty: terraform's
	// default (~/.terraformrc).
	CLIConfigFile string

	// Output receives every line terraform prints (stdout and stderr)
	// while it runs, one Write per line, with Secrets masked. It may be
	// nil. Writes are serialized and made from the goroutines reading
	// terraform's pipes, so a slow writer slows terraform; write errors
	// are ignored (a broken log must not abort an apply).
	Output io.Writer
	// KillGrace is how long a command whose context is cancelled gets,
	// after its interrupt, before its process group is killed. Default
	// DefaultKillGrace.
	KillGrace time.Duration
}

// Workdir runs terraform in one project directory. Its methods may be
// called from several goroutines, though terraform itself does not allow
// two commands that take the state lock at once in one directory.
type Workdir struct {
	cfg   Config
	env   []string
	mask  masker
	outMu sync.Mutex // serializes lines written to cfg.Output
}

// New checks cfg and returns a Workdir. It fails when the binary or the
// directory is missing or when Env holds a variable atoll manages.
func New(cfg Config) (*Workdir, error) {
	if cfg.Binary.Path == "" {
		return nil, errors.New("terraform: Config.Binary.Path is empty (see Resolve)")
	}
	cfg.Binary.Distribution = cfg.Binary.Distribution.orDefault()
	if err := cfg.Binary.Distribution.validate(); err != nil {
		return nil, fmt.Errorf("terraform: %w", err)
	}
	if cfg.Dir == "" {
		return nil, errors.New("terraform: Config.Dir is empty")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("terraform: project dir: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("terraform: project dir: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("terraform: project dir %s is not a directory", dir)
	}
	cfg.Dir = dir
	if cfg.RepoDir == "" {
		cfg.RepoDir = dir
	} else if cfg.RepoDir, err = filepath.Abs(cfg.RepoDir); err != nil {
		return nil, fmt.Errorf("terraform: repo dir: %w", err)
	}
	if cfg.PluginCacheDir != "" {
		if cfg.PluginCacheDir, err = filepath.Abs(cfg.PluginCacheDir); err != nil {
			return nil, fmt.Errorf("terraform: plugin cache dir: %w", err)
		}
		if err := os.MkdirAll(cfg.PluginCacheDir, 0o755); err != nil {
			return nil, fmt.Errorf("terraform: plugin cache dir: %w", err)
		}
	}
	if cfg.CLIConfigFile != "" {
		if cfg.CLIConfigFile, err = filepath.Abs(cfg.CLIConfigFile); err != nil {
			return nil, fmt.Errorf("terraform: CLI config file: %w", err)
		}
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = DefaultKillGrace
	}
	env, err := buildEnv(cfg, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("terraform: %w", err)
	}
	return &Workdir{cfg: cfg, env: env, mask: newMasker(cfg.Secrets)}, nil
}

// Dir is the absolute project directory.
func (w *Workdir) Dir() string { return w.cfg.Dir }

// buildEnv returns the environment of every command: the inherited
// variables, then cfg.Env, then the variables atoll always sets; sorted.
func buildEnv(cfg Config, lookup func(string) (string, bool)) ([]string, error) {
	env := map[string]string{}
	for _, k := range inheritedEnv {
		if v, ok := lookup(k); ok {
			env[k] = v
		}
	}
	for k, v := range cfg.Env {
		if err := checkEnvKey(k); err != nil {
			return nil, err
		}
		env[k] = v
	}
	env["TF_IN_AUTOMATION"] = "1"
	env["TF_INPUT"] = "0"
	env["CHECKPOINT_DISABLE"] = "1"
	if cfg.PluginCacheDir != "" {
		env["TF_PLUGIN_CACHE_DIR"] = cfg.PluginCacheDir
		// Link cached providers even when the project's lock file does
		// not list them yet. Without this, such an init removes and
		// rewrites the shared cache entry, and a plan in another project
		// that starts that provider meanwhile fails ("text file busy" or
		// a missing binary). A worktree's lock file is thrown away, so the
		// only cost (a lock file with this platform's hash alone) is moot.
		env["TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE"] = "1"
	}
	if cfg.CLIConfigFile != "" {
		env["TF_CLI_CONFIG_FILE"] = cfg.CLIConfigFile
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// checkEnvKey refuses names that are malformed or that atoll manages.
func checkEnvKey(k string) error {
	switch {
	case k == "" || strings.ContainsAny(k, "=\x00"):
		return fmt.Errorf("invalid environment variable name %q", k)
	case k == "TF_CLI_ARGS" || strings.HasPrefix(k, "TF_CLI_ARGS_"):
		return fmt.Errorf("environment variable %s is not allowed: it would pass arguments around the allowlist", k)
	case k == "TF_WORKSPACE":
		return fmt.Errorf("environment variable %s is not allowed: use SelectWorkspace", k)
	case k == "TF_PLUGIN_CACHE_DIR":
		return fmt.Errorf("environment variable %s is not allowed: use Config.PluginCacheDir", k)
	case k == "TF_CLI_CONFIG_FILE":
		return fmt.Errorf("environment variable %s is not allowed: use Config.CLIConfigFile", k)
	}
	return nil
}

// abs returns path (relative to the project directory unless absolute)
// as an absolute path.
func (w *Workdir) abs(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(w.cfg.Dir, path)
}
