package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/emulator"

	"github.com/atollhq/atoll/testdrive/pgtest"
)

// atollBin is the atoll binary under test, built once by TestMain.
var atollBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "atoll-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	atollBin = filepath.Join(dir, "atoll")
	// The crash points (runner/crashpoint) are compiled in: they act only
	// when a test's environment arms one.
	build := exec.Command("go", "build", "-tags", "atoll_crashpoints", "-o", atollBin, "github.com/atollhq/atoll/cmd/atoll")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build atoll:", err)
		os.Exit(1)
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: terraform is not on PATH: run `make tools` and add $ATOLL_TOOLS_DIR/bin to PATH (make test does)")
		os.Exit(1)
	}
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// Org is the organization of every test repository.
const Org = "acme"

// Options shape an Env.
type Options struct {
	// ServerConfig is YAML merged over the harness's server config.
	ServerConfig string
	// TokenTTL is the emulator's installation token lifetime.
	TokenTTL time.Duration
	// NoStart leaves atoll stopped; call StartAtoll.
	NoStart bool
}

// Env is one emulator and one atoll server.
type Env struct {
	t *testing.T
	// Dir is the test's own directory, for the files its Terraform
	// reads and writes: atoll's sandbox lets terraform write there
	// (sandbox_write_paths).
	Dir string
	// Private holds what terraform must never reach: the App key, the
	// server config, atoll's data dir (DataDir) and the emulator's.
	Private  string
	Emu      *emulator.Server
	GitHub   *httptest.Server
	C        *testdrive.Client
	Secret   string
	Token    string
	AtollURL string
	Config   string
	// AtollEnv is added to atoll's environment at each StartAtoll (e.g.
	// ATOLL_TEST_CRASHPOINT=...).
	AtollEnv []string

	listen string
	proc   testdrive.Process
}

// Start starts the emulator and atoll.
func Start(t *testing.T, o Options) *Env {
	t.Helper()
	e := &Env{t: t, Dir: t.TempDir(), Private: t.TempDir(), Secret: randomHex(16), Token: randomHex(16)}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(e.Private, "app.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	e.Emu, err = emulator.New(emulator.Config{AppID: 42, AppSlug: "atoll", AppPublicKey: &key.PublicKey,
		WebhookSecret: e.Secret, DataDir: filepath.Join(e.Private, "github"), TokenTTL: o.TokenTTL,
		ClientID: "Iv1.e2e", ClientSecret: "e2e-client-secret",
		// e.C reads GitHub without a token, as a signed-in user would, with
		// a user's hourly limit rather than the anonymous 60.
		AnonymousRateLimit: 5000,
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.GitHub = httptest.NewServer(e.Emu.Handler())
	t.Cleanup(func() { e.Emu.Close(); e.GitHub.Close() })
	e.listen = freeAddr(t)
	e.AtollURL = "http://" + e.listen
	e.Emu.SetWebhookURL(e.AtollURL + "/events")
	if e.C, err = testdrive.NewClient(e.GitHub.URL, e.AtollURL, e.Token); err != nil {
		t.Fatal(err)
	}
	e.Config = e.writeConfig(keyFile, o.ServerConfig)
	t.Cleanup(func() {
		e.Stop()
		if t.Failed() {
			t.Logf("atoll's log:\n%s", e.Log())
		}
	})
	if !o.NoStart {
		e.StartAtoll()
	}
	return e
}

func (e *Env) writeConfig(keyFile, overlay string) string {
	base := map[string]any{
		"listen":   e.listen,
		"url":      e.AtollURL,
		"data_dir": e.DataDir(),
		// Every test runs terraform sandboxed; it may write the test's
		// own files.
		"sandbox":             "required",
		"sandbox_write_paths": []string{e.Dir},
		"github": map[string]any{"app_id": 42, "private_key_file": keyFile, "webhook_secret": e.Secret,
			"api_url": e.GitHub.URL + "/", "client_id": "Iv1.e2e", "client_secret": "e2e-client-secret"},
		"api_token":          e.Token,
		"reconcile_interval": "1h",
		"log_level":          "debug",
		"terraform":          map[string]any{"plugin_cache_dir": filepath.Join(os.TempDir(), "atoll-e2e-plugin-cache")},
	}
	if rc := testdrive.ToolsCLIConfig(); rc != "" {
		base["terraform"].(map[string]any)["cli_config_file"] = rc
	}
	if overlay != "" {
		var over map[string]any
		if err := yaml.Unmarshal([]byte(overlay), &over); err != nil {
			e.t.Fatalf("server config overlay: %v", err)
		}
		testdrive.MergeConfig(base, over)
		// The test's own dir stays writable whatever the overlay grants.
		if paths, ok := over["sandbox_write_paths"].([]any); ok {
			base["sandbox_write_paths"] = append(paths, e.Dir)
		}
	}
	data, err := yaml.Marshal(base)
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(e.Private, "server.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// StartAtoll starts the atoll server and waits until it answers.
func (e *Env) StartAtoll() {
	e.t.Helper()
	runAtoll(e.t, &e.proc, "atoll", e.Config, e.AtollURL, e.AtollEnv)
}

// Kill kills atoll with SIGKILL, as a crash would.
func (e *Env) Kill() { e.signal(syscall.SIGKILL) }

// Stop stops atoll with SIGTERM and waits for it.
func (e *Env) Stop() { e.signal(syscall.SIGTERM) }

func (e *Env) signal(sig syscall.Signal) { stopAtoll(&e.proc, sig) }

// WaitLog waits until atoll's log holds sub (e.g. a crash point's line).
func (e *Env) WaitLog(sub string) {
	e.t.Helper()
	e.Eventually("atoll's log to show "+sub, func() bool { return strings.Contains(e.Log(), sub) })
}

// Log is what atoll printed so far.
func (e *Env) Log() string { return e.proc.Log() }

// Ctx is a context for one test step.
func (e *Env) Ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	e.t.Cleanup(cancel)
	return ctx
}

// Repo creates acme/NAME with files, and sets permissions (user ->
// read|triage|write|maintain|admin).
func (e *Env) Repo(name string, files map[string]string, perms map[string]string) string {
	e.t.Helper()
	ctx := e.Ctx()
	if _, err := e.C.Control.CreateRepo(ctx, emulator.CreateRepo{Owner: Org, Name: name, Files: files}); err != nil {
		e.t.Fatal(err)
	}
	full := Org + "/" + name
	for u, p := range perms {
		if err := e.C.Control.SetPermission(ctx, full, u, p); err != nil {
			e.t.Fatal(err)
		}
	}
	return full
}

// PR commits files on a new branch and opens a pull request by author.
func (e *Env) PR(repo, branch, author string, files map[string]*string) int {
	e.t.Helper()
	ctx := e.Ctx()
	if _, err := e.C.Control.Commit(ctx, emulator.Commit{Repo: repo, Branch: branch, Author: author, Message: "change " + branch, Files: files}); err != nil {
		e.t.Fatal(err)
	}
	n, err := e.C.Control.OpenPR(ctx, emulator.OpenPR{Repo: repo, Head: branch, Title: branch, Author: author})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// Comment comments as author and returns the id of the newest comment
// before it, to wait for replies after it.
func (e *Env) Comment(repo string, n int, author, body string) int64 {
	e.t.Helper()
	ctx := e.Ctx()
	last := e.C.LastCommentID(ctx, repo, n)
	if _, err := e.C.Control.Comment(ctx, emulator.Comment{Repo: repo, Number: n, Author: author, Body: body}); err != nil {
		e.t.Fatal(err)
	}
	return last
}

// Wait waits for an atoll comment after `after` containing every sub.
//
// A run's comment is edited in place as each project finishes, so unless
// the test asks for a running state, a run's comment matches only once the
// run is done: a two-project apply whose first project shows "Apply
// complete!" is not finished.
func (e *Env) Wait(repo string, n int, after int64, subs ...string) testdrive.Comment {
	e.t.Helper()
	contains := testdrive.Contains(subs...)
	wantsRunning := strings.Contains(strings.Join(subs, "\n"), "running")
	match := func(body string) bool {
		if !contains(body) {
			return false
		}
		return wantsRunning || !isRunningRun(body)
	}
	cm, err := e.C.WaitComment(e.Ctx(), repo, n, after, 3*time.Minute, match)
	if err != nil {
		e.t.Fatal(err)
	}
	return cm
}

// WaitMatch waits for an atoll comment after `after` that match accepts.
func (e *Env) WaitMatch(repo string, n int, after int64, match func(string) bool) testdrive.Comment {
	e.t.Helper()
	cm, err := e.C.WaitComment(e.Ctx(), repo, n, after, 3*time.Minute, match)
	if err != nil {
		e.t.Fatal(err)
	}
	return cm
}

// BotComments are atoll's comments on repo#n.
func (e *Env) BotComments(repo string, n int) []testdrive.Comment {
	e.t.Helper()
	cs, err := e.C.Comments(e.Ctx(), repo, n)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []testdrive.Comment
	for _, c := range cs {
		if strings.HasSuffix(c.Author, "[bot]") {
			out = append(out, c)
		}
	}
	return out
}

// Head is the head SHA of a PR.
func (e *Env) Head(repo string, n int) string {
	e.t.Helper()
	pr, err := e.C.PullRequest(e.Ctx(), repo, n)
	if err != nil {
		e.t.Fatal(err)
	}
	return pr.GetHead().GetSHA()
}

// Eventually polls cond until it holds or a minute passes.
func (e *Env) Eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// S is a pointer to s, for file contents in commits.
func S(s string) *string { return &s }

// DataDir is atoll's data dir.
func (e *Env) DataDir() string { return filepath.Join(e.Private, "atoll") }

// StatePath is an absolute state path for a project in the test's dir.
func (e *Env) StatePath(name string) string { return filepath.Join(e.Dir, "state", name+".tfstate") }

// Backend is a terraform block with a local backend at StatePath(name).
func (e *Env) Backend(name string) string {
	return fmt.Sprintf("terraform {\n  backend \"local\" {\n    path = %q\n  }\n}\n", e.StatePath(name))
}

// reviewOf is an approving review of repo#n by author.
func reviewOf(repo string, n int, author string) emulator.Review {
	return emulator.Review{Repo: repo, Number: n, Author: author, State: "APPROVED"}
}

// isRunningRun reports whether body is the (first part of the) comment of
// a command run that is still running.
func isRunningRun(body string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	if !strings.HasPrefix(first, "<!-- atoll:") || strings.Contains(first, ":part:") {
		return false
	}
	return strings.Contains(body, "🔄 **running**")
}
