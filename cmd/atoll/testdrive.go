package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/emulator"
)

// ReadyInfo is what `atoll testdrive --ready-file FILE` writes once the
// emulator and the server both answer.
type ReadyInfo struct {
	GitHubURL string `json:"github_url"`
	AtollURL  string `json:"atoll_url"`
	// AtollURLs are every replica's URL, the first AtollURL (with
	// --replicas N).
	AtollURLs     []string `json:"atoll_urls,omitempty"`
	WebhookSecret string   `json:"webhook_secret"`
	APIToken      string   `json:"api_token"`
	DataDir       string   `json:"data_dir"`
	// CAFile is the emulator's certificate authority (PEM), with --tls.
	CAFile string `json:"ca_file,omitempty"`
}

// testdriveMain is `atoll testdrive`: the GitHub emulator and an atoll
// server wired to it as a GitHub App, and (unless --no-demo) the demo.
type testdriveMain struct {
	clientSecret string
	NoDemo       bool
	Keep         bool
	TLS          bool
	Listen       string
	ReadyFile    string
	ServerConfig string
	DataDir      string
	Verbose      bool
	// RedeliverEach has the emulator deliver every webhook this many times.
	RedeliverEach int
	// Database is the server config key database: a PostgreSQL URL the
	// servers share (empty: each its own bbolt).
	Database string
	// Replicas is how many atoll servers run on Database; the emulator
	// spreads webhook deliveries over them round-robin.
	Replicas int
	Stdout   io.Writer
	Stderr   io.Writer

	Info ReadyInfo
	// Terraform is the binary the server runs (Path "" when none of 1.5
	// or newer is on PATH, and the server downloads one, or when
	// --server-config chooses the binary: terraformSet).
	Terraform    terraform.Binary
	terraformSet bool
	// LogFile holds the server's log lines, unless Verbose.
	LogFile string

	tempDir  bool
	keepData bool // the demo failed: its data dir and log stay to read
	log      *os.File
	emu      *emulator.Server
	emuSrv   *http.Server
	server   *serverMain   // the first replica
	others   []*serverMain // replicas 2..N
	logs     []*os.File    // the other replicas' logs
	done     chan error
}

// ParseFlags reads the testdrive flags.
func (m *testdriveMain) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("atoll testdrive", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.BoolVar(&m.NoDemo, "no-demo", false, "start the emulator and the server only, and run until SIGINT or SIGTERM")
	fs.BoolVar(&m.Keep, "keep", false, "after the demo, keep everything running to explore")
	fs.StringVar(&m.Listen, "listen", "", "atoll's HOST:PORT (default: a free loopback port); the emulator takes the next free one")
	fs.StringVar(&m.ReadyFile, "ready-file", "", "write {github_url, atoll_url, webhook_secret, api_token, data_dir} as JSON here once ready")
	fs.StringVar(&m.ServerConfig, "server-config", "", "a server config file merged over the testdrive defaults")
	fs.StringVar(&m.DataDir, "data-dir", "", "where everything lives (default: a new temporary directory)")
	fs.BoolVar(&m.TLS, "tls", false, "serve the emulator over HTTPS with a certificate authority of its own, written to DATA_DIR/github/ca.pem")
	fs.BoolVar(&m.Verbose, "verbose", false, "show the server's log lines inline, not only in DATA_DIR/server.log")
	fs.IntVar(&m.RedeliverEach, "redeliver-each", 1, "deliver every webhook N times, each copy under a delivery id of its own (1 to 100)")
	fs.StringVar(&m.Database, "database", "", "a PostgreSQL URL (postgres://...) the servers keep everything in (default: bbolt in the data dir)")
	fs.IntVar(&m.Replicas, "replicas", 1, "how many atoll servers run on --database; the emulator spreads webhooks over them round-robin (1 to 16)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if m.RedeliverEach < 1 || m.RedeliverEach > 100 {
		return fmt.Errorf("%w: --redeliver-each must be between 1 and 100", errUsage)
	}
	if m.Replicas < 1 || m.Replicas > 16 {
		return fmt.Errorf("%w: --replicas must be between 1 and 16", errUsage)
	}
	if m.Replicas > 1 && m.Database == "" {
		return fmt.Errorf("%w: --replicas %d needs --database: replicas share one PostgreSQL database (bbolt has one writer)", errUsage, m.Replicas)
	}
	return nil
}

// Open starts the emulator and the server and wires them together.
func (m *testdriveMain) Open(ctx context.Context) (err error) {
	if m.Stdout == nil {
		m.Stdout = os.Stdout
	}
	if m.Stderr == nil {
		m.Stderr = os.Stderr
	}
	if m.DataDir == "" {
		if m.DataDir, err = os.MkdirTemp("", "atoll-testdrive-"); err != nil {
			return err
		}
		m.tempDir = true
	}
	if m.DataDir, err = filepath.Abs(m.DataDir); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	keyFile := filepath.Join(m.DataDir, "app-key.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		return err
	}
	m.Info = ReadyInfo{WebhookSecret: randomHex(20), APIToken: randomHex(20), DataDir: m.DataDir}
	m.clientSecret = randomHex(20)

	emuLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	m.emu, err = emulator.New(emulator.Config{AppID: testdriveAppID, AppSlug: "atoll", AppPublicKey: &key.PublicKey,
		WebhookSecret: m.Info.WebhookSecret, DataDir: filepath.Join(m.DataDir, "github"), RedeliverEach: m.RedeliverEach,
		// The web UI signs people in through the emulator's OAuth flow,
		// which offers to sign in as any demo user.
		ClientID: testdriveClientID, ClientSecret: m.clientSecret,
		// Whoever reads the emulator without a token (the demo, a script
		// polling for comments) stands for a signed-in user: GitHub's
		// limit for those is 5,000 an hour, not the anonymous 60.
		AnonymousRateLimit: 5000,
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		emuLn.Close()
		return fmt.Errorf("emulator: %w", err)
	}
	m.Info.GitHubURL = "http://" + emuLn.Addr().String()
	m.emuSrv = &http.Server{Handler: m.emu.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if m.TLS {
		if err := m.serveTLS(); err != nil {
			emuLn.Close()
			return err
		}
		m.Info.GitHubURL = "https://" + emuLn.Addr().String()
		go func() { _ = m.emuSrv.ServeTLS(emuLn, "", "") }()
	} else {
		go func() { _ = m.emuSrv.Serve(emuLn) }()
	}

	var hooks []string
	for i := range max(m.Replicas, 1) {
		s, err := m.openServer(ctx, keyFile, i)
		if err != nil {
			return err
		}
		url := "http://" + loopbackAddr(s.Addr)
		m.Info.AtollURLs = append(m.Info.AtollURLs, url)
		hooks = append(hooks, url+"/events")
	}
	m.Info.AtollURL = m.Info.AtollURLs[0]
	if len(m.others) == 0 {
		m.Info.AtollURLs = nil
	}
	m.emu.SetWebhookURLs(hooks...)
	return nil
}

// openServer opens replica i (0: the first, m.server) with its own
// config, data dir and log.
func (m *testdriveMain) openServer(ctx context.Context, keyFile string, i int) (*serverMain, error) {
	cfgPath, err := m.writeServerConfig(ctx, keyFile, i)
	if err != nil {
		return nil, err
	}
	serverLog := m.Stderr
	if !m.Verbose {
		name := "server.log"
		if i > 0 {
			name = fmt.Sprintf("server-%d.log", i+1)
		}
		f, err := os.OpenFile(filepath.Join(m.DataDir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("server log: %w", err)
		}
		if i == 0 {
			m.LogFile, m.log = f.Name(), f
		} else {
			m.logs = append(m.logs, f)
		}
		serverLog = f
	}
	s := &serverMain{ConfigPath: cfgPath, Stderr: serverLog, Env: func(string) (string, bool) { return "", false },
		// Its App key, config and emulator live in the testdrive dir; the
		// ready file holds the webhook secret and API token.
		Hide: []string{m.DataDir, m.ReadyFile}}
	if i == 0 {
		m.server = s
	} else {
		m.others = append(m.others, s)
	}
	return s, s.Open(ctx)
}

// servers are every replica, the first first.
func (m *testdriveMain) servers() []*serverMain {
	if m.server == nil {
		return m.others
	}
	return append([]*serverMain{m.server}, m.others...)
}

// serveTLS makes the emulator's certificate authority and certificate
// and has this process trust it: the server's GitHub client, the git it
// runs and the demo all read SSL_CERT_FILE (Go) or GIT_SSL_CAINFO (git),
// here a bundle of the system's authorities and the emulator's, so that
// terraform and everything else keep reaching the hosts they did.
func (m *testdriveMain) serveTLS() error {
	dir := filepath.Join(m.DataDir, "github")
	cfg, caFile, err := emulator.WriteTLS(dir)
	if err != nil {
		return err
	}
	m.emuSrv.TLSConfig = cfg
	m.Info.CAFile = caFile
	bundle, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	for _, sys := range []string{os.Getenv("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"} {
		if b, err := os.ReadFile(sys); sys != "" && err == nil {
			bundle = append(append(bundle, '\n'), b...)
			break
		}
	}
	bundleFile := filepath.Join(dir, "ca-bundle.pem")
	if err := os.WriteFile(bundleFile, bundle, 0o644); err != nil {
		return err
	}
	os.Setenv("SSL_CERT_FILE", bundleFile)
	os.Setenv("GIT_SSL_CAINFO", bundleFile)
	return nil
}

// findTerraform is the binary the testdrive runs: the first terraform of
// version 1.5 or newer on PATH, else such a tofu (`make testdrive` builds
// terraform into the tools cache, first on PATH, only when neither is
// there). Binary{} when there is none: the server then downloads one.
func findTerraform(ctx context.Context) terraform.Binary {
	for _, dist := range []terraform.Distribution{terraform.Terraform, terraform.OpenTofu} {
		b, err := terraform.Resolve(ctx, terraform.ResolveOptions{Distribution: dist, VersionConstraint: ">= 1.5", NoDownload: true})
		if err == nil {
			return b
		}
	}
	return terraform.Binary{}
}

// testdriveAppID is the emulated GitHub App's id.
const testdriveAppID = 1001

// testdriveClientID is the emulated App's OAuth client id.
const testdriveClientID = "Iv1.testdrive"

// writeServerConfig writes replica i's server config: the testdrive
// defaults with --server-config merged over them. Replicas after the
// first listen on a port of their own and keep their mirrors and
// worktrees in a data dir of their own.
func (m *testdriveMain) writeServerConfig(ctx context.Context, keyFile string, i int) (string, error) {
	listen := m.Listen
	if listen == "" || i > 0 {
		listen = "127.0.0.1:0"
	}
	dataDir, name := filepath.Join(m.DataDir, "atoll"), "server.yaml"
	if i > 0 {
		dataDir, name = filepath.Join(m.DataDir, fmt.Sprintf("atoll-%d", i+1)), fmt.Sprintf("server-%d.yaml", i+1)
	}
	// The sandbox grants only paths that exist when terraform starts.
	for _, d := range []string{filepath.Join(m.DataDir, "state"), filepath.Dir(testdrive.DemoMotdPath(m.DataDir))} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	base := map[string]any{
		"listen":   listen,
		"data_dir": dataDir,
		"github": map[string]any{
			"app_id":           testdriveAppID,
			"private_key_file": keyFile,
			"webhook_secret":   m.Info.WebhookSecret,
			"api_url":          m.Info.GitHubURL + "/",
			"client_id":        testdriveClientID,
			"client_secret":    m.clientSecret,
		},
		"api_token":          m.Info.APIToken,
		"reconcile_interval": "30s",
		"terraform":          map[string]any{"plugin_cache_dir": filepath.Join(m.DataDir, "plugin-cache")},
		// The demo's projects keep their state and files here: the only
		// places of the testdrive dir its sandboxed terraform may reach.
		"sandbox_write_paths": []string{filepath.Join(m.DataDir, "state"), filepath.Dir(testdrive.DemoMotdPath(m.DataDir))},
	}
	if !m.NoDemo {
		dir := filepath.Join(m.DataDir, "policies", "security")
		if err := testdrive.DemoPolicy(dir); err != nil {
			return "", err
		}
		base["policy_sets"] = []any{map[string]any{"name": "security", "path": dir,
			"owners": []any{testdrive.DemoOrg + "/security"}, "enforcement": "mandatory"}}
	}
	if rc := testdrive.ToolsCLIConfig(); rc != "" {
		base["terraform"].(map[string]any)["cli_config_file"] = rc
	}
	var over map[string]any
	if m.ServerConfig != "" {
		data, err := os.ReadFile(m.ServerConfig)
		if err != nil {
			return "", fmt.Errorf("--server-config: %w", err)
		}
		if err := yaml.Unmarshal(data, &over); err != nil {
			return "", fmt.Errorf("--server-config %s: %w", m.ServerConfig, err)
		}
	}
	// The binary is chosen here unless --server-config chooses it.
	tf, _ := over["terraform"].(map[string]any)
	if tf["distribution"] == nil && tf["binary"] == nil && tf["version"] == nil {
		if m.Terraform = findTerraform(ctx); m.Terraform.Path != "" {
			base["terraform"].(map[string]any)["distribution"] = string(m.Terraform.Distribution)
			base["terraform"].(map[string]any)["binary"] = m.Terraform.Path
		}
	} else {
		m.terraformSet = true
	}
	if m.Database != "" {
		base["database"] = m.Database
	}
	testdrive.MergeConfig(base, over)
	out, err := yaml.Marshal(base)
	if err != nil {
		return "", err
	}
	path := filepath.Join(m.DataDir, name)
	return path, os.WriteFile(path, out, 0o600)
}

// Run serves until ctx ends; with the demo, it runs the demo first.
func (m *testdriveMain) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	servers := m.servers()
	m.done = make(chan error, len(servers))
	for _, s := range servers {
		go func() { m.done <- s.Run(ctx) }()
	}
	// waitAll waits for every server once ctx is cancelled; the first
	// error is returned.
	waitAll := func(first error) error {
		errs := []error{first}
		for range len(servers) - 1 {
			errs = append(errs, <-m.done)
		}
		return errors.Join(errs...)
	}
	if err := m.waitReady(ctx); err != nil {
		return err
	}
	if m.ReadyFile != "" {
		data, _ := json.MarshalIndent(m.Info, "", "  ")
		if err := os.WriteFile(m.ReadyFile, data, 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(m.Stdout, "GitHub emulator: %s\natoll:           %s (web UI)\ndata dir:        %s\n",
		m.Info.GitHubURL, m.Info.AtollURL, m.Info.DataDir)
	for i, u := range m.Info.AtollURLs[min(1, len(m.Info.AtollURLs)):] {
		fmt.Fprintf(m.Stdout, "replica %d:       %s\n", i+2, u)
	}
	switch {
	case m.terraformSet:
		fmt.Fprintf(m.Stdout, "terraform:       as --server-config sets it\n")
	case m.Terraform.Path != "":
		fmt.Fprintf(m.Stdout, "%-17s%s (%s)\n", filepath.Base(m.Terraform.Path)+":", m.Terraform.Path, m.Terraform.Version)
	default:
		fmt.Fprintf(m.Stdout, "terraform:       none of 1.5 or newer on PATH; atoll downloads one\n")
	}
	if m.LogFile != "" {
		fmt.Fprintf(m.Stdout, "server log:      %s (--verbose shows it here)\n", m.LogFile)
	}
	if !m.NoDemo {
		demo := &testdrive.Demo{GitHubURL: m.Info.GitHubURL, AtollURL: m.Info.AtollURL, APIToken: m.Info.APIToken,
			DataDir: m.DataDir, Out: m.Stdout}
		err := demo.Run(ctx)
		if err != nil && m.LogFile != "" {
			m.keepData = true
			fmt.Fprintf(m.Stdout, "The server's log is in %s.\n", m.LogFile)
		}
		if err != nil || !m.Keep {
			if err == nil {
				fmt.Fprintln(m.Stdout, "Everything stops now; to explore the web UI, the emulator and the demo repos, run `make testdrive ARGS=--keep`.")
			}
			cancel()
			return errors.Join(err, waitAll(<-m.done))
		}
		fmt.Fprintf(m.Stdout, "\nEverything keeps running (--keep): the web UI is at %s. Press Ctrl-C to stop.\n", m.Info.AtollURL)
	}
	select {
	case <-ctx.Done():
		return waitAll(<-m.done)
	case err := <-m.done:
		cancel() // one replica stopped: stop them all
		return waitAll(err)
	}
}

// waitReady waits until both servers answer.
func (m *testdriveMain) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	urls := []string{m.Info.AtollURL + "/healthz", m.Info.GitHubURL + "/_testdrive/deliveries"}
	for _, u := range m.Info.AtollURLs[min(1, len(m.Info.AtollURLs)):] {
		urls = append(urls, u+"/healthz")
	}
	for _, u := range urls {
		for {
			resp, err := http.Get(u)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s did not answer within 30s", u)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case err := <-m.done:
				return fmt.Errorf("atoll stopped: %v", err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// Close stops the emulator and releases the data dir; a temporary data dir
// is removed unless --keep or the demo failed.
func (m *testdriveMain) Close() error {
	var errs []error
	for _, s := range m.servers() {
		errs = append(errs, s.Close())
	}
	for _, f := range m.logs {
		errs = append(errs, f.Close())
	}
	if m.emuSrv != nil {
		_ = m.emuSrv.Close()
	}
	if m.emu != nil {
		errs = append(errs, m.emu.Close())
	}
	if m.log != nil {
		errs = append(errs, m.log.Close())
	}
	if m.tempDir && !m.Keep && !m.keepData {
		_ = os.RemoveAll(m.DataDir)
	}
	return errors.Join(errs...)
}

func runTestdrive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := &testdriveMain{Stdout: stdout, Stderr: stderr}
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	err := m.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
