package terraform

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is an io.Writer safe for concurrent use, for Config.Output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// watch, when set, is closed the first time the output contains want.
	want  string
	watch chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.watch != nil && b.want != "" && strings.Contains(b.buf.String(), b.want) {
		close(b.watch)
		b.watch = nil
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// watchFor returns a buffer whose channel is closed once want was written.
func watchFor(want string) (*syncBuffer, <-chan struct{}) {
	ch := make(chan struct{})
	return &syncBuffer{want: want, watch: ch}, ch
}

// fakeVersion is what a fake binary answers to "version -json", which
// terraform-exec runs before most commands.
const fakeVersion = `{"terraform_version":"1.5.7","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}`

// fakeBinary writes an executable shell script that answers "version"
// with fakeVersion and runs script for every other command, and returns
// its path.
func fakeBinary(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "terraform")
	head := "#!/bin/sh\nif [ \"$1\" = version ]; then echo '" + fakeVersion + "'; exit 0; fi\n"
	if err := os.WriteFile(path, []byte(head+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// recorder is a fake terraform that records the argv and environment of
// every command but "version", then runs script.
type recorder struct {
	dir string
}

// newRecorder returns a Workdir whose terraform is a recorder running
// script after recording.
func newRecorder(t *testing.T, script string, cfg Config) (*Workdir, *recorder) {
	t.Helper()
	r := &recorder{dir: t.TempDir()}
	rec := `n=$(( $(ls ` + r.dir + ` | grep -c 'args$') ))
for a in "$@"; do printf '%s\036' "$a"; done > ` + r.dir + `/$n.args
env > ` + r.dir + `/$n.env
`
	return fakeWorkdir(t, rec+script, cfg), r
}

// calls returns the argv (after the binary) of every recorded command,
// in order.
func (r *recorder) calls(t *testing.T) [][]string {
	t.Helper()
	var out [][]string
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(r.dir, strconv.Itoa(i)+".args"))
		if err != nil {
			return out
		}
		out = append(out, strings.Split(strings.TrimSuffix(string(b), "\036"), "\036"))
	}
}

// env returns the environment of the i-th recorded command.
func (r *recorder) env(t *testing.T, i int) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, strconv.Itoa(i)+".env"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// fakeWorkdir returns a Workdir running script as its terraform.
func fakeWorkdir(t *testing.T, script string, cfg Config) *Workdir {
	t.Helper()
	cfg.Binary = Binary{Path: fakeBinary(t, script), Version: "1.5.7", Distribution: Terraform}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// assertArgs compares an argv, as terraform-exec's assertCmd does.
func assertArgs(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("args:\n got  %q\n want %q", got, want)
	}
}

// envValue returns the value of key in an environment list.
func envValue(env []string, key string) (string, bool) {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v, true
		}
	}
	return "", false
}
