package execute

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/sandbox"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/runner/workflow"
)

// Sandbox is how the runner confines terraform and what it starts, and
// the commands of workflows' custom steps and hooks (see runner/sandbox):
// each command sees the job's worktree, its private temp
// dir and the state dir of its project and workspace (read-write; the
// backend's workspace_dir may be listed, not read), the binary, the plugin
// cache (read-write for init only), the provider mirrors of the CLI
// configuration and the system directories (read-only), and nothing
// else: not the data dir, not atoll's configuration, keys or /proc
// entries.
type Sandbox struct {
	// Self is atoll's own executable, started as `atoll sandbox-exec`.
	Self string
	// Hide are paths terraform never reads even where it may read their
	// directory (atoll's configuration and secret files). The data dir is
	// always hidden.
	Hide []string
	// Read and Write are paths the operator lets terraform read, or read
	// and write, besides its job's own (server config sandbox_read_paths
	// and sandbox_write_paths).
	Read, Write []string
}

// jobTempDir is the private temp dir of the job whose worktree is root:
// terraform's TMPDIR, the var file of TF_VAR_ values, and the plan file
// while terraform writes it. dropWorktree removes it.
//
// It is a short path under the system temp dir, not beside the worktree:
// providers put their plugin sockets in TMPDIR, and a Unix socket's path
// is limited to 108 bytes, which a long data dir and a job id overrun
// (terraform then fails with "Unrecognized remote plugin message"). The
// name is a salted hash of root, the same for the life of the process and
// not guessable by another local user.
func jobTempDir(root string) string {
	h := sha256.New()
	h.Write(tempSalt)
	h.Write([]byte(root))
	return filepath.Join(os.TempDir(), "atoll-"+hex.EncodeToString(h.Sum(nil)[:8]))
}

// tempSalt keeps jobTempDir's names unguessable.
var tempSalt = func() []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return b
}()

// tfPaths are the paths one job's terraform commands use.
type tfPaths struct {
	bin   terraform.Binary
	root  string    // the worktree
	tmp   string    // jobTempDir(root)
	state stateDirs // the project's local state dirs under the data dir; zero when it names a backend
	cache string    // the plugin cache
}

// jobPaths returns the paths of job's terraform commands in the checkout
// at root, running bin: it writes the project's state backend when it
// names none (ensureStateBackend) and makes the job's temp dir.
func (x *Jobs) jobPaths(job records.Job, root string, bin terraform.Binary) (tfPaths, error) {
	dir := filepath.Join(root, filepath.FromSlash(job.Project.Dir))
	state, err := x.ensureStateBackend(job, root, dir)
	if err != nil {
		return tfPaths{}, err
	}
	cache := x.srv.Terraform.PluginCacheDir
	if cache == "" {
		cache = filepath.Join(x.cfg.DataDir, "plugin-cache")
	}
	p := tfPaths{bin: bin, root: root, tmp: jobTempDir(root), state: state, cache: cache}
	return p, os.MkdirAll(p.tmp, 0o700)
}

// wrapper returns the sandbox for one terraform command of a job, or nil
// when terraform runs unconfined. cacheWritable is for init, which fills
// the shared plugin cache; plans and applies, which run providers, only
// read it, so that a provider cannot replace another repository's.
func (x *Jobs) wrapper(p tfPaths, cacheWritable bool) *terraform.Wrapper {
	sb := x.cfg.Sandbox
	if sb == nil {
		return nil
	}
	path, env := sandbox.Wrap(sb.Self, x.policy(p, cacheWritable), p.bin.Path)
	return &terraform.Wrapper{Path: path, Env: env}
}

// launcher returns the Launcher of a job's custom steps and hooks
// (runner/workflow): Config.Launch, with every command confined as the
// job's terraform is past init. Custom steps run the pull request's code
// as much as terraform does.
func (x *Jobs) launcher(p tfPaths) workflow.Launcher {
	launch, sb := x.cfg.Launch, x.cfg.Sandbox
	if sb == nil {
		return launch
	}
	pol := x.policy(p, false)
	return func(ctx context.Context, cmd *exec.Cmd) error {
		if cmd.Err != nil {
			return launch(ctx, cmd) // not found: fails without running
		}
		prog := cmd.Path
		if !filepath.IsAbs(prog) {
			prog = filepath.Join(cmd.Dir, prog)
		}
		path, env := sandbox.Wrap(sb.Self, pol, prog)
		cmd.Path = path
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		return launch(ctx, cmd)
	}
}

// policy is what one job's commands may reach (see Sandbox).
func (x *Jobs) policy(p tfPaths, cacheWritable bool) sandbox.Policy {
	sb := x.cfg.Sandbox
	pol := sandbox.Policy{
		Read:  append([]string{p.bin.Path}, sandbox.SystemRead...),
		Write: append([]string{p.root, p.tmp}, sandbox.Devices...),
		Hide:  append([]string{x.cfg.DataDir}, sb.Hide...),
	}
	pol.Read = append(pol.Read, sb.Read...)
	pol.Write = append(pol.Write, sb.Write...)
	if p.state.own != "" {
		// Its own workspace's state, and the names of the project's
		// workspaces (terraform's workspace list, select and new read
		// workspace_dir), never another workspace's or project's state.
		pol.Write = append(pol.Write, p.state.own)
		pol.List = append(pol.List, p.state.list)
	}
	if cacheWritable {
		pol.Write = append(pol.Write, p.cache)
	} else {
		pol.Read = append(pol.Read, p.cache)
	}
	if rc := x.srv.Terraform.CLIConfigFile; rc != "" {
		pol.Read = append(pol.Read, rc)
		if dirs, err := terraform.CLIConfigDirs(rc); err == nil {
			pol.Read = append(pol.Read, dirs...)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		// terraform's own files in HOME: its CLI configuration,
		// credentials and implied provider mirrors, and git's
		// configuration (git, which fetches modules, refuses to run
		// when it cannot read it); never HOME itself.
		pol.Read = append(pol.Read, filepath.Join(home, ".terraformrc"), filepath.Join(home, ".tofurc"),
			filepath.Join(home, ".terraform.d"), filepath.Join(home, ".local", "share", "terraform"),
			filepath.Join(home, ".gitconfig"), filepath.Join(home, ".config", "git"))
	}
	return pol
}
