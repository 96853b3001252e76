package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs/github"
)

// setupMain is `atoll setup`: it creates atoll's GitHub App through
// GitHub's App manifest flow and writes its credentials and a server
// configuration that uses them.
//
// It serves one page on Listen whose form posts the manifest to GitHub's
// new-App page; GitHub sends the browser back to /callback with a code,
// which setup converts (POST /app-manifests/{code}/conversions) into the
// App's id, private key, webhook secret, client id and client secret.
type setupMain struct {
	GitHubURL  string // web URL, https://github.com or https://GHES
	APIURL     string // default: derived from GitHubURL
	Owner      string // organization that owns the App
	URL        string // atoll's public URL
	Out        string // server configuration to write
	SecretsDir string // default: Out's directory
	Name       string
	Listen     string
	Stdout     io.Writer
	HTTPClient *http.Client

	ln    net.Listener
	state string
	done  chan error
	pages *templates.Renderer
}

// ParseFlags reads `atoll setup` flags.
func (m *setupMain) ParseFlags(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("atoll setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&m.GitHubURL, "github-url", "https://github.com", "GitHub's web URL (GitHub Enterprise Server: https://HOST)")
	fs.StringVar(&m.APIURL, "api-url", "", "GitHub's REST API root (default: api.github.com for github.com, else GITHUB_URL/api/v3/)")
	fs.StringVar(&m.Owner, "owner", "", "organization that will own the App (required)")
	fs.StringVar(&m.URL, "url", "", "atoll's public URL; webhooks go to URL/events (required)")
	fs.StringVar(&m.Out, "out", "server.yaml", "server configuration to write")
	fs.StringVar(&m.SecretsDir, "secrets-dir", "", "directory for the key and secrets (default: the directory of --out)")
	fs.StringVar(&m.Name, "name", "atoll", "the App's name on GitHub (unique on the GitHub instance)")
	fs.StringVar(&m.Listen, "listen", "127.0.0.1:4142", "address of the setup page opened in a browser")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	for _, f := range []struct{ name, v string }{{"owner", m.Owner}, {"url", m.URL}, {"out", m.Out}} {
		if f.v == "" {
			return fmt.Errorf("%w: --%s is required", errUsage, f.name)
		}
	}
	for _, u := range []struct{ name, v string }{{"github-url", m.GitHubURL}, {"url", m.URL}, {"api-url", m.APIURL}} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%w: --%s %q is not an http(s) URL", errUsage, u.name, u.v)
		}
	}
	return nil
}

// secretFiles are the files setup writes besides Out.
func (m *setupMain) secretFiles() (key, webhook, client string) {
	dir := m.SecretsDir
	if dir == "" {
		dir = filepath.Dir(m.Out)
	}
	return filepath.Join(dir, "app.pem"), filepath.Join(dir, "webhook-secret"), filepath.Join(dir, "client-secret")
}

// Open checks that nothing would be overwritten and listens.
func (m *setupMain) Open() error {
	if m.Stdout == nil {
		m.Stdout = os.Stdout
	}
	m.GitHubURL = strings.TrimRight(m.GitHubURL, "/")
	if m.APIURL == "" {
		m.APIURL = apiURLOf(m.GitHubURL)
	}
	key, hook, client := m.secretFiles()
	for _, f := range []string{m.Out, key, hook, client} {
		if _, err := os.Stat(f); err == nil {
			return fmt.Errorf("%s exists: setup writes new credentials and overwrites nothing; move it away first", f)
		}
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	m.state = hex.EncodeToString(b[:])
	var err error
	if m.pages, err = templates.New(""); err != nil {
		return err
	}
	if m.ln, err = net.Listen("tcp", m.Listen); err != nil {
		return fmt.Errorf("listen on %s: %w", m.Listen, err)
	}
	m.done = make(chan error, 1)
	return nil
}

// PageURL is the setup page to open in a browser.
func (m *setupMain) PageURL() string { return "http://" + loopbackAddr(m.ln.Addr().String()) + "/" }

// Run serves the setup page until the App is created (or ctx ends).
func (m *setupMain) Run(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", m.form)
	mux.HandleFunc("GET /callback", m.callback)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(m.ln) }()
	defer srv.Close()
	fmt.Fprintf(m.Stdout, "Open %s in a browser signed in to %s as an owner of %s, and create the App.\n", m.PageURL(), m.GitHubURL, m.Owner)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-m.done:
		// Let the browser get the last page.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return err
	}
}

func (m *setupMain) form(w http.ResponseWriter, _ *http.Request) {
	man := github.NewManifest(m.Name, m.URL, strings.TrimSuffix(m.PageURL(), "/")+"/callback")
	data, err := json.Marshal(man)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	m.page(w, http.StatusOK, "setup.html.tmpl", map[string]any{
		"Title": "set up the GitHub App", "Name": m.Name, "Owner": m.Owner, "GitHubURL": m.GitHubURL, "WebhookURL": man.HookAttributes.URL,
		"Action":   m.GitHubURL + "/organizations/" + url.PathEscape(m.Owner) + "/settings/apps/new?state=" + m.state,
		"Manifest": string(data),
	})
}

func (m *setupMain) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(m.state)) != 1 || q.Get("code") == "" {
		m.page(w, http.StatusBadRequest, "setup_error.html.tmpl", map[string]any{"Title": "setup failed",
			"StateMismatch": true})
		return
	}
	creds, err := github.ConvertManifest(r.Context(), m.APIURL, q.Get("code"), m.HTTPClient)
	if err == nil {
		err = m.write(creds)
	}
	if err != nil {
		m.page(w, http.StatusBadGateway, "setup_error.html.tmpl", map[string]any{"Title": "setup failed", "Error": err.Error(), "StateMismatch": false})
		m.finish(err)
		return
	}
	m.page(w, http.StatusOK, "setup_done.html.tmpl", map[string]any{"Title": "GitHub App created", "Slug": creds.Slug, "ID": creds.ID, "Out": m.Out, "URL": m.URL,
		"InstallURL": m.GitHubURL + "/apps/" + creds.Slug + "/installations/new"})
	fmt.Fprintf(m.Stdout, "Created the GitHub App %s (id %d) and wrote %s.\nInstall it on your repositories: %s/apps/%s/installations/new\n",
		creds.Slug, creds.ID, m.Out, m.GitHubURL, creds.Slug)
	m.finish(nil)
}

func (m *setupMain) finish(err error) {
	select {
	case m.done <- err:
	default:
	}
}

func (m *setupMain) page(w http.ResponseWriter, status int, name string, data any) {
	body, err := m.pages.Page(name, data)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// write stores the credentials, each secret in a file of mode 0600, and a
// server configuration that reads them.
func (m *setupMain) write(c github.AppCredentials) error {
	key, hook, client := m.secretFiles()
	for _, f := range []struct{ path, data string }{{key, c.PrivateKeyPEM}, {hook, c.WebhookSecret + "\n"}, {client, c.ClientSecret + "\n"}} {
		if err := writeNew(f.path, []byte(f.data)); err != nil {
			return err
		}
	}
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	cfg := map[string]any{
		"url": m.URL,
		"github": map[string]any{"app_id": c.ID, "api_url": m.APIURL,
			"private_key_file": abs(key), "webhook_secret_file": abs(hook)},
	}
	body, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	head := fmt.Sprintf("# Written by `atoll setup` for the GitHub App %s (id %d) of %s.\n"+
		"# Its OAuth client id is %s; its client secret is in %s.\n"+
		"# The configuration reference is in atoll's README.\n", c.Slug, c.ID, m.Owner, c.ClientID, abs(client))
	return writeNew(m.Out, append([]byte(head), body...))
}

// writeNew writes a new file readable by its owner alone.
func writeNew(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// apiURLOf is the REST API root of a GitHub web URL: api.github.com for
// github.com, else GitHub Enterprise Server's URL/api/v3/.
func apiURLOf(webURL string) string {
	u, err := url.Parse(webURL)
	if err == nil && (u.Host == "github.com" || u.Host == "www.github.com") {
		return github.DefaultAPIURL
	}
	return strings.TrimRight(webURL, "/") + "/api/v3/"
}

func runSetup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := &setupMain{Stdout: stdout}
	if err := m.ParseFlags(args, stderr); err != nil {
		return err
	}
	if err := m.Open(); err != nil {
		return err
	}
	err := m.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return errors.New("setup stopped before the App was created")
	}
	return err
}
