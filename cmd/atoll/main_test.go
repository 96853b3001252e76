package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/atollhq/atoll/testdrive/pgtest"
)

// TestMain lets the test binary be terraform's sandboxing parent, as the
// atoll binary is, when testdrive runs in-process.
func TestMain(m *testing.M) {
	sandboxExecFirst()
	os.Exit(pgtest.Main(m))
}

func TestVersionAndHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errOut); code != 0 {
		t.Fatalf("atoll version exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"atoll ", "commit ", runtime.Version()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("atoll version printed %q, want it to contain %q", out.String(), want)
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "atoll testdrive") {
		t.Errorf("atoll help exited %d and printed %q", code, out.String())
	}
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errOut); code != 2 {
		t.Errorf("an unknown command exited %d, want 2", code)
	}
}

func TestConfigValidateExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("version: 1\nprojects:\n  - dir: app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("version: 1\nprojects:\n  - dir: app\n    when_modifed: [\"*.tf\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"config", "validate", good}, &out, &errOut); code != 0 {
		t.Errorf("a valid atoll.yaml exited %d: %s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	code := run(context.Background(), []string{"config", "validate", bad}, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "bad.yaml:4:5") || !strings.Contains(out.String(), "when_modifed") {
		t.Errorf("a broken atoll.yaml exited %d and printed %q; want 1 and the file, line and key", code, out.String())
	}
}

// TestServerRefusesBrokenConfig: a broken server configuration and a Rego
// syntax error each stop the server before it serves, naming the problem.
func TestServerRefusesBrokenConfig(t *testing.T) {
	dir := t.TempDir()
	policies := filepath.Join(dir, "policies")
	if err := os.MkdirAll(policies, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(policies, "broken.rego"), []byte("package atoll\n\ndeny contains msg if {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(key, testKeyPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, config, want string
	}{
		{"no webhook secret", "github: {app_id: 1, private_key_file: " + key + "}\ndata_dir: " + dir + "/data\n", "webhook secret is required"},
		{"rego syntax error", "github: {app_id: 1, private_key_file: " + key + ", webhook_secret: s}\ndata_dir: " + dir + "/data\n" +
			"policy_sets: [{name: security, path: " + policies + ", owners: [acme/security]}]\n", "broken.rego:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(cfg, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out, errOut bytes.Buffer
			code := run(ctx, []string{"server", "--config", cfg, "--listen", "127.0.0.1:0"}, &out, &errOut)
			if code == 0 || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("atoll server exited %d with %q; want a failure naming %q", code, errOut.String(), tc.want)
			}
		})
	}
}

// testKeyPEM is a throwaway RSA key, made for each test run.
func testKeyPEM(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// TestTestdriveDemo runs `atoll testdrive`, the demo of the README's quick
// start, in process: it must end with every step done, with the server's
// log lines in the data dir's server.log rather than between the steps.
func TestTestdriveDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"testdrive", "--data-dir", dataDir}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "demo complete") {
		t.Fatalf("atoll testdrive exited %d:\n%s\n--- stderr:\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"Plan: 2 to add", "Locked by", "Waiting", "Started by the plan queue", "Apply complete!", "policies_passed", "drifted", "is closed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	logFile := filepath.Join(dataDir, "server.log")
	if !strings.Contains(out.String(), "server log:      "+logFile) {
		t.Errorf("the demo's output does not name the server's log %s:\n%s", logFile, out.String())
	}
	if strings.Contains(out.String()+errOut.String(), "level=") {
		t.Errorf("server log lines were printed among the steps:\n%s\n--- stderr:\n%s", out.String(), errOut.String())
	}
	if log, err := os.ReadFile(logFile); err != nil || !strings.Contains(string(log), "atoll is serving") {
		t.Errorf("the server's log %s lacks its start (%v):\n%s", logFile, err, log)
	}
}

// TestTestdriveTLS: with --tls the emulator serves HTTPS with a CA it
// writes to the data dir, and the whole demo runs over it.
func TestTestdriveTLS(t *testing.T) {
	// --tls points this process's SSL_CERT_FILE and GIT_SSL_CAINFO at the
	// emulator's CA bundle: restore them after.
	t.Setenv("SSL_CERT_FILE", os.Getenv("SSL_CERT_FILE"))
	t.Setenv("GIT_SSL_CAINFO", os.Getenv("GIT_SSL_CAINFO"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"testdrive", "--tls", "--data-dir", dataDir}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "demo complete") {
		t.Fatalf("atoll testdrive --tls exited %d:\n%s\n--- stderr:\n%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "GitHub emulator: https://127.0.0.1:") {
		t.Errorf("the emulator is not named with https:\n%s", out.String())
	}
	ca, err := os.ReadFile(filepath.Join(dataDir, "github", "ca.pem"))
	if err != nil || !strings.Contains(string(ca), "BEGIN CERTIFICATE") {
		t.Errorf("no CA in the data dir: %v %q", err, ca)
	}
}

// TestTestdriveVerbose: with --verbose, the server's log lines are shown
// inline and no log file is written.
func TestTestdriveVerbose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	ready := filepath.Join(t.TempDir(), "ready.json")
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"testdrive", "--no-demo", "--verbose", "--data-dir", dataDir, "--ready-file", ready}, &out, &errOut)
	}()
	// Ready, and the server's log line saying so shown.
	for {
		if _, err := os.Stat(ready); err == nil && strings.Contains(errOut.String(), "atoll is serving") {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("atoll testdrive exited %d before it was ready and said so on stderr:\n%s\n--- stderr:\n%s", code, out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("atoll testdrive exited %d:\n%s\n--- stderr:\n%s", code, out.String(), errOut.String())
	}
	if strings.Contains(out.String(), "server log:") {
		t.Errorf("--verbose still names a log file:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dataDir, "server.log")); !os.IsNotExist(err) {
		t.Errorf("--verbose wrote server.log (%v)", err)
	}
}

// `atoll config validate atlantis.yaml` reads it as Atlantis does and names
// every key atoll does not act on with its line; `atoll policy check
// --format conftest` reads conftest policies over a bare plan.
func TestAtlantisValidateAndConftestCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "atlantis.yaml")
	if err := os.WriteFile(file, []byte("version: 3\nprojects:\n- dir: app\n  import_requirements: [approved]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"config", "validate", file}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "atlantis.yaml:4:24: projects[0].import_requirements: warning:") || !strings.Contains(out.String(), ": ok") {
		t.Errorf("validate atlantis.yaml exited %d and printed %q", code, out.String())
	}

	policies := filepath.Join(dir, "policies")
	if err := os.MkdirAll(policies, 0o755); err != nil {
		t.Fatal(err)
	}
	rego := "package main\n\ndeny[msg] {\n\tinput.resource_changes[_].change.actions[_] == \"delete\"\n\tmsg := \"no deletes\"\n}\n"
	if err := os.WriteFile(filepath.Join(policies, "p.rego"), []byte(rego), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(plan, []byte(`{"format_version":"1.2","resource_changes":[{"address":"a.b","change":{"actions":["delete"]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code = run(context.Background(), []string{"policy", "check", "--policies", policies, "--format", "conftest", plan}, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "DENY: no deletes") {
		t.Errorf("policy check --format conftest exited %d and printed %q (%s)", code, out.String(), errOut.String())
	}
}

// `atoll migrate atlantis` writes a server config and lists what it left.
func TestMigrateAtlantis(t *testing.T) {
	out := filepath.Join(t.TempDir(), "server.yaml")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"migrate", "atlantis", "--repos-yaml", "../../runner/config/migrate/testdata/repos.yaml",
		"--flags", "../../runner/config/migrate/testdata/flags.yaml", "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "Not carried over") || !strings.Contains(stdout.String(), "repos[0].plan_requirements: atoll's server has no default for it") {
		t.Errorf("output lacks the list of what was not carried over:\n%s", stdout.String())
	}
	if data, err := os.ReadFile(out); err != nil || !strings.Contains(string(data), "repo_rules:") {
		t.Errorf("server.yaml: %v\n%s", err, data)
	}
	if code := run(context.Background(), []string{"migrate", "atlantis", "--repos-yaml", "x"}, &stdout, &stderr); code != 2 {
		t.Errorf("without --out: exit %d, want 2", code)
	}
}

// lockedBuffer is a bytes.Buffer that one goroutine may write while
// another reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestTestdriveTerraform: the testdrive runs the first terraform of 1.5 or
// newer on PATH, else such a tofu, unless --server-config chooses the
// binary.
func TestTestdriveTerraform(t *testing.T) {
	tfPath, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform is not on PATH: run make tools and add $ATOLL_TOOLS_DIR/bin to PATH (make test does)")
	}
	tofuPath, err := exec.LookPath("tofu")
	if err != nil {
		t.Fatal("tofu is not on PATH: run make tools and add $ATOLL_TOOLS_DIR/bin to PATH (make test does)")
	}
	// A terraform too old for the demo (no real one is at hand: a script
	// that answers `version -json` as terraform 1.3.9 does), and a
	// directory holding only the real tofu.
	old := t.TempDir()
	script := "#!/bin/sh\necho '{\"terraform_version\":\"1.3.9\",\"platform\":\"linux_amd64\",\"provider_selections\":{},\"terraform_outdated\":false}'\n"
	if err := os.WriteFile(filepath.Join(old, "terraform"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tofuOnly := t.TempDir()
	if err := os.Symlink(tofuPath, filepath.Join(tofuOnly, "tofu")); err != nil {
		t.Fatal(err)
	}
	over := filepath.Join(t.TempDir(), "over.yaml")
	if err := os.WriteFile(over, []byte("terraform:\n  distribution: opentofu\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		path         string
		serverConfig string
		wantDist     string
		wantBinary   string
	}{
		{"terraform on PATH", os.Getenv("PATH"), "", "terraform", tfPath},
		{"an old terraform first on PATH", old + string(os.PathListSeparator) + os.Getenv("PATH"), "", "terraform", tfPath},
		{"only an old terraform and a tofu", old + string(os.PathListSeparator) + tofuOnly, "", "opentofu", filepath.Join(tofuOnly, "tofu")},
		{"chosen by --server-config", os.Getenv("PATH"), over, "opentofu", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			m := &testdriveMain{DataDir: t.TempDir(), ServerConfig: tc.serverConfig, NoDemo: true}
			path, err := m.writeServerConfig(context.Background(), filepath.Join(m.DataDir, "key.pem"), 0)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var cfg struct {
				Terraform struct{ Distribution, Binary string }
			}
			if err := yaml.Unmarshal(data, &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.Terraform.Distribution != tc.wantDist || cfg.Terraform.Binary != tc.wantBinary {
				t.Errorf("terraform = %+v, want distribution %q and binary %q", cfg.Terraform, tc.wantDist, tc.wantBinary)
			}
		})
	}
}

// With --server-config and --repo, the repository's repo_rules decide what
// its atlantis.yaml may set.
func TestValidateWithRepoRules(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(key, testKeyPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	server := filepath.Join(dir, "server.yaml")
	cfg := "github:\n  app_id: 1\n  private_key_file: " + key + "\n  webhook_secret: s\n" +
		"workflows:\n  tflint:\n    plan:\n      steps: [init, {run: tflint}, plan]\n" +
		"repo_rules:\n- id: acme/infra\n  allowed_overrides: [workflow]\n"
	if err := os.WriteFile(server, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "atlantis.yaml")
	if err := os.WriteFile(file, []byte("version: 3\nprojects:\n- dir: .\n  workflow: tflint\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"config", "validate", "--server-config", server, "--repo", "acme/infra", file}, &out, &errOut); code != 0 {
		t.Errorf("acme/infra may pick tflint: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	code := run(context.Background(), []string{"config", "validate", "--server-config", server, "--repo", "acme/other", file}, &out, &errOut)
	if code != 1 || !strings.Contains(out.String(), "atlantis.yaml:4:13: projects[0].workflow: this server does not let repositories pick a workflow") {
		t.Errorf("acme/other may not pick a workflow: exit %d\n%s", code, out.String())
	}
}

// TestTestdriveReplicas: --database URL --replicas 2 starts two servers
// on one PostgreSQL database, each with its data dir and log, one of
// them leading, and names both in the ready file.
func TestTestdriveReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	ready := filepath.Join(t.TempDir(), "ready.json")
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"testdrive", "--no-demo", "--data-dir", dataDir, "--ready-file", ready,
			"--database", pgtest.Database(t), "--replicas", "2"}, &out, &errOut)
	}()
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("atoll testdrive exited %d before it was ready:\n%s\n--- stderr:\n%s", code, out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	var info ReadyInfo
	data, _ := os.ReadFile(ready)
	if err := json.Unmarshal(data, &info); err != nil || len(info.AtollURLs) != 2 || info.AtollURLs[0] != info.AtollURL {
		t.Fatalf("ready file %s: want two replicas, the first atoll_url (%v)", data, err)
	}
	for _, u := range info.AtollURLs {
		resp, err := http.Get(u + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("replica %s does not answer: %v", u, err)
		} else {
			resp.Body.Close()
		}
	}
	leading := 0
	for _, name := range []string{"server.log", "server-2.log"} {
		deadline := time.Now().Add(20 * time.Second)
		for {
			log, _ := os.ReadFile(filepath.Join(dataDir, name))
			if strings.Contains(string(log), "atoll is serving") || time.Now().After(deadline) {
				if !strings.Contains(string(log), "atoll is serving") {
					t.Errorf("%s lacks the replica's start:\n%s", name, log)
				}
				if strings.Contains(string(log), "leading:") {
					leading++
				}
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if leading > 1 {
		t.Errorf("%d replicas lead at once", leading)
	}
	if !strings.Contains(out.String(), "replica 2:") {
		t.Errorf("the output does not name the second replica:\n%s", out.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("atoll testdrive exited %d:\n%s\n--- stderr:\n%s", code, out.String(), errOut.String())
	}
}
