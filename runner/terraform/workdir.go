package terraform

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/atollhq/atoll/runner/mask"
)

// DefaultKillGrace is how long a cancelled command may take to stop after
// its interrupt before it is killed, when Config.KillGrace is zero.
const DefaultKillGrace = 10 * time.Second

// inheritedEnv names the variables of atoll's own environment that
// terraform inherits. Nothing else is passed through: atoll's environment
// holds its own secrets (webhook secret, App key) and a plan runs code from
// an unreviewed pull request. Credentials for providers and backends go in
// Config.Env. The environment is given to terraform-exec with SetEnv, so
// that it does not pass os.Environ(); of atoll's environment it still
// reads TF_APPEND_USER_AGENT (which it extends) and nothing else.
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
	// SSL_CERT_DIR and the proxy variables. CHECKPOINT_DISABLE=1 and
	// (by terraform-exec) TF_IN_AUTOMATION=1 are always set; every
	// command that could prompt gets -input=false, so TF_INPUT and
	// TF_IN_AUTOMATION here are ignored.
	//
	// TF_VAR_NAME entries do not reach terraform's environment
	// (terraform-exec refuses them there): Plan writes them to a
	// temporary var file instead, with the same meaning (see Plan).
	//
	// New refuses TF_CLI_ARGS* (they would bypass ValidateExtraArgs),
	// TF_WORKSPACE (use SelectWorkspace), TF_PLUGIN_CACHE_DIR and
	// TF_CLI_CONFIG_FILE (use the fields below), and the variables
	// terraform-exec manages (TF_LOG*, TF_REATTACH_PROVIDERS,
	// TF_APPEND_USER_AGENT, TF_DISABLE_PLUGIN_TLS,
	// TF_SKIP_PROVIDER_VERIFY).
	Env map[string]string
	// Secrets are values masked as "***" in every line written to Output,
	// in ShowText's text and in every error. Empty strings are ignored.
	Secrets []string
	// Masker, when set, is atoll's shared masker: Secrets are added to it
	// and it masks everything above, so every secret atoll knows (its own
	// included) is masked in terraform's output too.
	Masker *mask.Masker

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
	// OnExit, when set, is told each command's name and exit code once it
	// ended (0: success; -1: it did not start or was killed), for metrics.
	OnExit func(command string, code int)
	// JobMark, when set, is put in the environment of every command, which
	// terraform's providers and provisioners inherit: KillJob(JobMark)
	// finds them after the process that started them is gone. Record it
	// durably before running anything.
	JobMark string

	// TempDir is where terraform and this package put temporary files
	// (TMPDIR, the var file of TF_VAR_ values): the private temp dir of
	// a sandboxed job. Default: os.TempDir, and TMPDIR as inherited.
	TempDir string
	// Wrapper, when set, is started instead of Binary.Path for every
	// command (see Wrapper). Nil: terraform is started itself.
	Wrapper *Wrapper
}

// Wrapper is a program that runs terraform for this package, such as
// atoll's sandbox (runner/sandbox.Wrap): terraform-exec starts Path
// instead of the binary, with terraform's arguments and environment plus
// Env, and Path must exec the binary with those arguments and the
// environment less Env, keeping its pid, so that the interrupt, the kill
// and the exit code reach terraform as if it had been started itself.
type Wrapper struct {
	// Path is the program to start, absolute.
	Path string
	// Env tells the wrapper what to run; it must not reach terraform.
	Env map[string]string
}

// Workdir runs terraform in one project directory, through one
// terraform-exec Terraform value (tfexec.Terraform) that it owns. Its
// methods may be called from several goroutines, but they run one command
// at a time: the tfexec.Terraform's environment and writers are set per
// command, and terraform itself does not allow two commands that take the
// state lock at once in one directory.
type Workdir struct {
	cfg   Config
	env   map[string]string // the environment given to tfexec's SetEnv (TF_VAR_* excepted)
	vars  map[string]string // cfg.Env's TF_VAR_NAME values, by NAME (see envVarFile)
	mask  masker
	outMu sync.Mutex // serializes lines written to cfg.Output

	tf           *tfexec.Terraform
	sem          chan struct{} // capacity 1: held while a command runs
	versionKnown bool          // guarded by sem: tf has cached the version
}

// New checks cfg and returns a Workdir. It fails when the binary or the
// directory is missing or when Env holds a variable atoll or
// terraform-exec manages. It runs nothing.
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
	if cfg.TempDir != "" {
		if cfg.TempDir, err = filepath.Abs(cfg.TempDir); err != nil {
			return nil, fmt.Errorf("terraform: temp dir: %w", err)
		}
	}
	if cfg.Wrapper != nil && !filepath.IsAbs(cfg.Wrapper.Path) {
		return nil, fmt.Errorf("terraform: wrapper %q is not an absolute path", cfg.Wrapper.Path)
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = DefaultKillGrace
	}
	env, vars, err := buildEnv(cfg, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("terraform: %w", err)
	}
	execPath := cfg.Binary.Path
	if cfg.Wrapper != nil {
		execPath = cfg.Wrapper.Path
	}
	tf, err := tfexec.NewTerraform(cfg.Dir, execPath)
	if err != nil {
		return nil, fmt.Errorf("terraform: %w", err)
	}
	// Checked once here so that a command never fails on it.
	if err := tf.SetEnv(env); err != nil {
		return nil, fmt.Errorf("terraform: %w", err)
	}
	return &Workdir{cfg: cfg, env: env, vars: vars, mask: newMasker(cfg.Secrets, cfg.Masker), tf: tf, sem: make(chan struct{}, 1)}, nil
}

// Dir is the absolute project directory.
func (w *Workdir) Dir() string { return w.cfg.Dir }

// buildEnv returns the environment of every command, for tfexec's SetEnv:
// the inherited variables, then cfg.Env, then the variables atoll always
// sets. cfg.Env's TF_VAR_NAME entries are returned apart, in vars (by
// NAME), since terraform-exec refuses them in its environment;
// TF_IN_AUTOMATION and TF_INPUT are dropped, since terraform-exec sets the
// first itself and passes -input=false to every command that could prompt.
func buildEnv(cfg Config, lookup func(string) (string, bool)) (env, vars map[string]string, err error) {
	env = map[string]string{}
	vars = map[string]string{}
	for _, k := range inheritedEnv {
		if v, ok := lookup(k); ok {
			env[k] = v
		}
	}
	for k, v := range cfg.Env {
		if err := checkEnvKey(k); err != nil {
			return nil, nil, err
		}
		switch {
		case strings.HasPrefix(k, "TF_VAR_"):
			vars[strings.TrimPrefix(k, "TF_VAR_")] = v
		case k == "TF_IN_AUTOMATION" || k == "TF_INPUT":
		default:
			env[k] = v
		}
	}
	env["CHECKPOINT_DISABLE"] = "1"
	if cfg.TempDir != "" {
		env["TMPDIR"] = cfg.TempDir
	}
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
	return env, vars, nil
}

// checkEnvKey refuses names that are malformed or that atoll or
// terraform-exec manage.
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
	case k == "TF_VAR_":
		return fmt.Errorf("environment variable %s is not allowed: it names no variable", k)
	case k == runIDEnv || k == jobMarkEnv:
		return fmt.Errorf("environment variable %s is not allowed: atoll sets it", k)
	case strings.HasPrefix(k, "TF_VAR_") || k == "TF_IN_AUTOMATION" || k == "TF_INPUT":
		return nil // handled by buildEnv
	case len(tfexec.ProhibitedEnv(map[string]string{k: ""})) > 0:
		return fmt.Errorf("environment variable %s is not allowed: terraform-exec manages it", k)
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
