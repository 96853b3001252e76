package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/atollhq/atoll/cmd/atoll/internal/sandboxexec"
	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/sandbox"
)

// sandboxExecFirst runs `atoll sandbox-exec` when the process was started
// as terraform's sandboxing parent (runner/sandbox), and never returns
// then. The import of cmd/atoll/internal/sandboxexec has already done so
// during package initialisation, before atoll's heavy packages are
// initialised (see there); this call in main (and in the tests' TestMain,
// whose binary is atoll's stand-in when testdrive runs in-process) only
// states that nothing of atoll's may run before it.
func sandboxExecFirst() {
	if code, ok := sandboxexec.Run(os.Args, os.Stderr); ok {
		os.Exit(code)
	}
}

// probeSandbox is sandbox.Probe; tests replace it.
var probeSandbox = sandbox.Probe

// sandboxFor decides how terraform runs, from cfg.Sandbox and the kernel:
// the runner's Sandbox (nil: unconfined) and the line /healthz shows. It
// fails when cfg.Sandbox is required and the kernel offers no Landlock.
// hide are paths besides atoll's configuration and secret files that
// terraform must never read (testdrive's).
func sandboxFor(cfg config.Server, configPath string, hide []string, log *slog.Logger) (*runner.Sandbox, string, error) {
	mode := cfg.Sandbox
	if mode == "" {
		mode = config.SandboxAuto
	}
	if mode == config.SandboxOff {
		log.Warn("sandbox: off: terraform runs unconfined, and a plan's code can read atoll's configuration, keys and data dir")
		return nil, "sandbox: off (terraform runs unconfined)", nil
	}
	abi, err := probeSandbox()
	if err == nil {
		var self string
		if self, err = os.Executable(); err == nil {
			sb := &runner.Sandbox{Self: self, Read: cfg.SandboxReadPaths, Write: cfg.SandboxWritePaths}
			for _, p := range []string{configPath, cfg.GitHub.PrivateKeyFile, cfg.GitHub.WebhookSecretFile, cfg.APITokenFile} {
				sb.Hide = append(sb.Hide, ownFiles(p)...)
			}
			for _, p := range hide {
				if abs, err := filepath.Abs(p); err == nil && p != "" {
					sb.Hide = append(sb.Hide, abs)
				}
			}
			log.Info("sandbox: terraform runs confined by Landlock", "abi", abi)
			return sb, fmt.Sprintf("sandbox: landlock (ABI %d)", abi), nil
		}
	}
	if mode == config.SandboxRequired {
		return nil, "", fmt.Errorf("sandbox: required, but it cannot run: %w", err)
	}
	log.Warn("sandbox: unavailable: terraform runs unconfined, and a plan's code can read atoll's configuration, keys and data dir", "err", err)
	return nil, fmt.Sprintf("sandbox: unavailable (terraform runs unconfined): %v", err), nil
}

// ownFiles are the paths to hide for one of atoll's files: the file, and
// its directory unless that is a system directory terraform reads (such
// as /etc) or the root: atoll's files usually share a directory of their
// own (/etc/atoll), which may hold more secrets than the config names.
func ownFiles(path string) []string {
	if path == "" {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	dir := filepath.Dir(abs)
	if dir == "/" || slices.Contains(sandbox.SystemRead, dir) {
		return []string{abs}
	}
	return []string{abs, dir}
}
