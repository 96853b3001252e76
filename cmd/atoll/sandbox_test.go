package main

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/sandbox"
)

func TestSandboxFor(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.DefaultServer()
	cfg.GitHub.PrivateKeyFile = "/etc/atoll/app.pem"
	cfg.APITokenFile = "/etc/token"
	cfg.SandboxReadPaths = []string{"/home/atoll/.aws"}

	cfg.Sandbox = config.SandboxOff
	sb, status, err := sandboxFor(cfg, "/etc/atoll/config.yaml", nil, log)
	if err != nil || sb != nil || !strings.HasPrefix(status, "sandbox: off") {
		t.Errorf("off: %+v %q %v", sb, status, err)
	}

	for _, mode := range []string{config.SandboxAuto, config.SandboxRequired} {
		cfg.Sandbox = mode
		sb, status, err := sandboxFor(cfg, "/etc/atoll/config.yaml", []string{"/tmp/ready.json"}, log)
		if err != nil || sb == nil || !strings.HasPrefix(status, "sandbox: landlock (ABI ") {
			t.Fatalf("%s (this kernel offers Landlock): %+v %q %v", mode, sb, status, err)
		}
		want := []string{"/etc/atoll/config.yaml", "/etc/atoll", "/etc/atoll/app.pem", "/etc/atoll", "/etc/token", "/tmp/ready.json"}
		if !reflect.DeepEqual(sb.Hide, want) {
			t.Errorf("%s: Hide = %q, want %q", mode, sb.Hide, want)
		}
		if !reflect.DeepEqual(sb.Read, cfg.SandboxReadPaths) || sb.Self == "" {
			t.Errorf("%s: %+v", mode, sb)
		}
	}
}

func TestSandboxForWithoutLandlock(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	probeSandbox = func() (int, error) { return 0, fmt.Errorf("%w (ENOSYS)", sandbox.ErrUnsupported) }
	t.Cleanup(func() { probeSandbox = sandbox.Probe })
	cfg := config.DefaultServer()
	sb, status, err := sandboxFor(cfg, "", nil, log)
	if err != nil || sb != nil || !strings.HasPrefix(status, "sandbox: unavailable (terraform runs unconfined)") {
		t.Errorf("auto: %+v %q %v", sb, status, err)
	}
	cfg.Sandbox = config.SandboxRequired
	if _, _, err := sandboxFor(cfg, "", nil, log); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("required without Landlock: %v", err)
	}
}
