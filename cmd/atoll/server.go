package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/mask"
	"github.com/atollhq/atoll/runner/sandbox"
	"github.com/atollhq/atoll/server"
	"github.com/atollhq/atoll/server/metrics"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
	"github.com/atollhq/atoll/vcs/git"
	"github.com/atollhq/atoll/vcs/github"
)

// serverMain is `atoll server`: it loads the configuration, opens the
// data dir, and runs the HTTP edge and the runner. Tests and `atoll
// testdrive` drive the same struct.
type serverMain struct {
	ConfigPath string
	Flags      map[string]string // config keys given as flags
	Env        func(string) (string, bool)
	Stderr     io.Writer
	// Hide are files terraform must never read besides atoll's
	// configuration and secret files (testdrive's key and ready file).
	Hide []string

	Config config.Server
	// Addr is the address the server listens on, once Open returned.
	Addr string

	db      locks.Store
	runner  *runner.Runner
	http    *server.Server
	ln      net.Listener
	log     *slog.Logger
	metrics *metrics.Metrics
	// metricsLn serves /metrics when metrics_listen is set.
	metricsLn net.Listener
	// releaseReplica lets go of the data dir's replica file (claimReplica).
	releaseReplica func()
	// MetricsAddr is the address metricsLn listens on ("": none).
	MetricsAddr string
	probe       *gitHubProbe
}

// ParseFlags reads `atoll server` flags: --config FILE and any
// configuration key as --key=value (see the README's reference).
func (m *serverMain) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("atoll server", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&m.ConfigPath, "config", os.Getenv("ATOLL_CONFIG"), "server configuration file (YAML)")
	m.Flags = map[string]string{}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name == "config" || name == "h" || name == "help" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return fmt.Errorf("%w: flag --%s needs a value", errUsage, name)
			}
			i++
			value = args[i]
		}
		m.Flags[name] = value
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// Open loads the configuration, checks it, opens the data dir and listens.
// Every problem is reported before anything runs: a broken config, a Rego
// syntax error, a data dir another atoll holds.
func (m *serverMain) Open(ctx context.Context) error {
	if m.Env == nil {
		m.Env = os.LookupEnv
	}
	if m.Stderr == nil {
		m.Stderr = os.Stderr
	}
	cfg, err := config.LoadServer(m.ConfigPath, m.Env, m.Flags)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	m.Config = cfg
	// One masker for every text atoll writes: its own secrets, the
	// terraform secrets, and installation tokens as they are minted.
	masker := mask.New(cfg.GitHub.WebhookSecret, cfg.APIToken, cfg.GitHub.PrivateKey)
	_, tfSecrets := cfg.Terraform.Environ(os.LookupEnv)
	masker.Add(tfSecrets...)
	masker.AddPattern(mask.GitHubToken)
	m.log = newLogger(cfg, m.Stderr, masker.Handler)
	m.metrics = metrics.New(m.log)
	// Non-dumpable: a process of the same user cannot read atoll's
	// environment or memory through /proc, nor ptrace it.
	if err := sandbox.HideSelf(); err != nil {
		m.log.Warn("atoll's /proc entries stay readable", "err", err)
	}
	sb, sandboxStatus, err := sandboxFor(cfg, m.ConfigPath, m.Hide, m.log)
	if err != nil {
		return err
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	replica, release, err := claimReplica(dataDir)
	if err != nil {
		return err
	}
	m.releaseReplica = release
	engine, err := compilePolicies(ctx, cfg)
	if err != nil {
		return err
	}
	tmpl, err := templates.New(cfg.TemplatesDir)
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	gh, err := github.New(github.Config{AppID: cfg.GitHub.AppID, PrivateKeyPEM: []byte(cfg.GitHub.PrivateKey),
		APIURL: cfg.GitHub.APIURL, GraphQLURL: cfg.GitHub.GraphQLURL, Logger: m.log, Observer: m.metrics,
		Mask: masker.Mask, Secret: masker.AddEphemeral})
	if err != nil {
		return fmt.Errorf("github: %w", err)
	}
	webURL := webURLOf(cfg.GitHub.APIURL)
	mirrors := &git.Mirrors{Dir: filepath.Join(dataDir, "repos"), Token: gh.Token, Logger: m.log,
		CloneURL: func(r vcs.Repo) string { return webURL + "/" + r.FullName() + ".git" }}
	if m.db, err = openStore(ctx, dataDir, cfg.Database); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		m.db.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	m.ln, m.Addr = ln, ln.Addr().String()
	if cfg.MetricsListen != "" {
		if m.metricsLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			return m.closeAfter(fmt.Errorf("metrics_listen on %s: %w", cfg.MetricsListen, err))
		}
		m.MetricsAddr = m.metricsLn.Addr().String()
	}
	baseURL := strings.TrimSuffix(cfg.URL, "/")
	if u, err := url.Parse(baseURL); baseURL == "" || (err == nil && u.Port() == "0") {
		baseURL = "http://" + loopbackAddr(m.Addr) // listening on a port the kernel chose
	}
	trail := audit.New(m.db, nil)
	m.runner, err = runner.New(runner.Config{
		Server: cfg, Masker: masker, Host: gh, Git: mirrors, Store: m.db, Templates: tmpl,
		Policies: engine, ParseEvent: github.ParseWebhook,
		DataDir: dataDir, Sandbox: sb, BaseURL: baseURL, HTMLURL: webURL, Version: version, Commit: commit, Logger: m.log,
		Observer: m.metrics,
		Audit:    trail, AuditRetention: cfg.Audit.Retention,
		Cluster: runner.Cluster{ReplicaID: replica, JobLease: cfg.JobLease, Shared: cfg.Database != ""},
	})
	if err != nil {
		return m.closeAfter(err)
	}
	hook, err := server.NewWebhookHandler(server.WebhookHandler{Secret: []byte(cfg.GitHub.WebhookSecret),
		Inbox: m.db, Notify: m.runner.Notify, Logger: m.log, Metrics: m.metrics})
	if err != nil {
		return m.closeAfter(err)
	}
	m.metrics.SetState(runnerState(m.runner))
	m.probe = newGitHubProbe(gh.Ping, gh.LastAnswer, cfg.ReadyGitHubWindow, m.log)
	var metricsOnMain http.Handler
	if m.metricsLn == nil {
		metricsOnMain = m.metrics.Handler()
	}
	m.http, err = server.New(server.Config{Webhook: hook, Engine: m.runner, APIToken: cfg.APIToken, Pages: tmpl, Logger: m.log,
		Metrics: metricsOnMain, Ready: m.ready, Mask: masker.Mask, Health: []string{sandboxStatus},
		Tokens: &server.Tokens{Store: m.db}, Sessions: m.db, Audit: trail,
		Login: server.Login{ClientID: cfg.GitHub.ClientID, ClientSecret: cfg.GitHub.ClientSecret, WebURL: webURL,
			APIURL: cfg.GitHub.APIURL, BaseURL: baseURL, SessionTTL: cfg.UI.SessionTTL, AdminTeams: cfg.UI.AdminTeams}})
	if err != nil {
		return m.closeAfter(err)
	}
	return nil
}

func (m *serverMain) closeAfter(err error) error {
	_ = m.Close()
	return err
}

// Run serves until ctx ends (SIGTERM or SIGINT), then stops gracefully:
// the runner takes no more jobs and queues running plans again while
// webhooks are still stored, running applies get shutdown_grace to
// finish, and only then do the HTTP servers stop.
func (m *serverMain) Run(ctx context.Context) error {
	// The runner and the HTTP servers outlive ctx by the drain.
	runCtx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRunner()
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	errc := make(chan error, 2)
	go func() { errc <- m.http.Serve(httpCtx, m.ln) }()
	if m.metricsLn != nil {
		ms := &http.Server{Handler: server.WithRequestID(m.log, m.metrics.Handler()), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := ms.Serve(m.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("metrics_listen: %w", err)
			}
		}()
		defer ms.Close()
	}
	go m.probe.run(runCtx)
	if err := m.runner.Start(runCtx); err != nil {
		return err
	}
	m.log.Info("atoll is serving", "addr", m.Addr, "metrics_addr", m.MetricsAddr, "version", version)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	m.log.Info("atoll is stopping", "shutdown_grace", m.Config.ShutdownGrace.String())
	m.runner.Drain(m.Config.ShutdownGrace)
	stopRunner()
	m.runner.Wait()
	stopHTTP()
	if err == nil {
		err = <-errc
	}
	m.log.Info("atoll stopped")
	return err
}

// ready names what is not ready: the database, the workers, GitHub.
func (m *serverMain) ready(ctx context.Context) map[string]string {
	problems := map[string]string{}
	if err := m.db.Ping(ctx); err != nil {
		problems["database"] = err.Error()
	}
	for _, p := range m.runner.Ready() {
		problems[p] = "the workers are not running (starting or stopping)"
	}
	if p := m.probe.problem(); p != "" {
		problems["github"] = p
	}
	return problems
}

// Close releases the data dir.
func (m *serverMain) Close() error {
	var errs []error
	if m.ln != nil {
		_ = m.ln.Close()
	}
	if m.metricsLn != nil {
		_ = m.metricsLn.Close()
	}
	if m.db != nil {
		errs = append(errs, m.db.Close())
		m.db = nil
	}
	if m.releaseReplica != nil {
		m.releaseReplica()
		m.releaseReplica = nil
	}
	return errors.Join(errs...)
}

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := &serverMain{Stderr: stderr}
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}

// compilePolicies compiles the configured policy sets once; a Rego error
// stops the server with file and line.
func compilePolicies(ctx context.Context, cfg config.Server) (*policy.Engine, error) {
	if len(cfg.PolicySets) == 0 {
		return nil, nil
	}
	var sets []policy.SetConfig
	for _, s := range cfg.PolicySets {
		sets = append(sets, policy.SetConfig{Name: s.Name, Path: s.Path, Owners: s.Owners, Approvals: s.Approvals,
			Enforcement: s.Enforcement, Repos: s.Repos, Projects: s.Projects,
			AllowAuthorApproval: s.AllowAuthorApproval, ReviewApproves: s.ReviewApproves,
			Format: s.Format, Namespaces: s.Namespaces})
	}
	e, err := policy.Compile(ctx, sets, policy.Options{})
	if err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	return e, nil
}

// webURLOf is the code host's web (and git) URL for its API URL:
// https://api.github.com/ -> https://github.com, https://ghe/api/v3/ ->
// https://ghe; any other root (the emulator) is its own web URL.
func webURLOf(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil {
		return strings.TrimSuffix(apiURL, "/")
	}
	if u.Host == "api.github.com" {
		return "https://github.com"
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3")
	return strings.TrimSuffix(u.String(), "/")
}

// loopbackAddr turns a wildcard listen address into one a browser opens.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
