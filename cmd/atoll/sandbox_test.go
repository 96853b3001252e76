package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
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

// TestSandboxExecBeforeHeavyInit checks that a sandboxing parent (this
// test binary stands in for atoll) confines itself and execs its program
// from cmd/atoll/internal/sandboxexec's package initialisation, before
// atoll's heavy packages are initialised: their initialisation was most
// of the start of every sandboxed terraform command. Both ways in are
// checked: the subcommand, and the environment variable terraform-exec's
// start carries (sandbox.Wrap).
func TestSandboxExecBeforeHeavyInit(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := sandbox.Policy{Read: sandbox.SystemRead, Write: []string{out, "/dev/null"}}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	wrapPath, wrapEnv := sandbox.Wrap(self, p, sh)
	for name, cmd := range map[string]*exec.Cmd{
		"subcommand":  exec.Command(self, append(p.Command(sh)[0:], "-c", "echo ran >"+out)...),
		"environment": exec.Command(wrapPath, "-c", "echo ran >"+out),
	} {
		t.Run(name, func(t *testing.T) {
			cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
			if name == "environment" {
				for k, v := range wrapEnv {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			if b, err := os.ReadFile(out); err != nil || string(b) != "ran\n" {
				t.Fatalf("the program did not run: %q %v", b, err)
			}
			for _, heavy := range []string{"github.com/atollhq/atoll/runner ", "github.com/open-policy-agent/opa/v1/ast ", "github.com/atollhq/atoll/server "} {
				if strings.Contains(stderr.String(), "init "+heavy) {
					t.Errorf("%sinitialised before the exec:\n%s", heavy, stderr.String())
				}
			}
			if !strings.Contains(stderr.String(), "init github.com/atollhq/atoll/runner/sandbox ") {
				t.Errorf("no init trace (GODEBUG=inittrace=1): %q", stderr.String())
			}
			_ = os.WriteFile(out, nil, 0o600)
		})
	}
}
