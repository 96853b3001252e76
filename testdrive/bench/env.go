package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/emulator"
)

// github is the emulator, served over loopback HTTP.
type ghEmu struct {
	emu    *emulator.Server
	srv    *http.Server
	url    string
	key    *rsa.PrivateKey
	secret string
	client *testdrive.Client
}

const appID = 4711

func startGitHub(dir string) (*ghEmu, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	g := &ghEmu{key: key, secret: randomHex(16)}
	g.emu, err = emulator.New(emulator.Config{AppID: appID, AppSlug: "atoll", AppPublicKey: &key.PublicKey,
		WebhookSecret: g.secret, DataDir: filepath.Join(dir, "github"), AnonymousRateLimit: 1 << 30,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g.url = "http://" + ln.Addr().String()
	g.srv = &http.Server{Handler: g.emu.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = g.srv.Serve(ln) }()
	return g, nil
}

func (g *ghEmu) close() {
	_ = g.emu.Close()
	_ = g.srv.Close()
}

// atoll is one real atoll server process.
type atoll struct {
	bin, dir, config string
	url, token       string
	proc             testdrive.Process
	logFile          *os.File
}

// newAtoll writes the server configuration of an atoll wired to g as its
// GitHub App (debug log, workers, the tools' CLI config and one plugin
// cache shared with the bare references) and starts it.
func newAtoll(ctx context.Context, bin, dir string, g *ghEmu, cache string, over map[string]any) (*atoll, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(g.key)}), 0o600); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	a := &atoll{bin: bin, dir: dir, url: "http://" + addr, token: randomHex(16)}
	base := map[string]any{
		"listen":   addr,
		"data_dir": filepath.Join(dir, "data"),
		"github": map[string]any{"app_id": appID, "private_key_file": keyFile, "webhook_secret": g.secret,
			"api_url": g.url + "/"},
		"api_token":          a.token,
		"reconcile_interval": "1h",
		"log_level":          "debug",
		"workers":            4,
		"terraform":          map[string]any{"plugin_cache_dir": cache},
	}
	if rc := testdrive.ToolsCLIConfig(); rc != "" {
		base["terraform"].(map[string]any)["cli_config_file"] = rc
	}
	testdrive.MergeConfig(base, over)
	data, err := yaml.Marshal(base)
	if err != nil {
		return nil, err
	}
	a.config = filepath.Join(dir, "server.yaml")
	if err := os.WriteFile(a.config, data, 0o600); err != nil {
		return nil, err
	}
	g.emu.SetWebhookURL(a.url + "/events")
	return a, a.start(ctx)
}

func (a *atoll) start(ctx context.Context) error {
	var tee io.Writer
	if f, err := os.OpenFile(filepath.Join(a.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		a.logFile = f // closed by stop, once the output is copied
		tee = f
	}
	return a.proc.Start(ctx, "atoll", a.bin, a.config, a.url, nil, tee)
}

// stop ends the server (SIGTERM, then SIGKILL after 20 s).
func (a *atoll) stop() {
	a.proc.Signal(syscall.SIGTERM, 20*time.Second)
	if a.logFile != nil {
		_ = a.logFile.Close()
		a.logFile = nil
	}
}

func (a *atoll) logText() string { return a.proc.Log() }

// rssMB is the server's resident memory (VmRSS), in MB.
func (a *atoll) rssMB() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.proc.Pid()))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			kb, err := strconv.ParseFloat(f[0], 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
