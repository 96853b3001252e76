package terraform

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
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

// fakeBinary writes an executable shell script and returns its path.
func fakeBinary(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "terraform")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
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
