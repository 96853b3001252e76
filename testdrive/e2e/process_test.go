package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// process is one atoll server process: its command, its log (kept across
// restarts) and whether it has exited. The zero value is stopped.
type process struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	log    bytes.Buffer
	exited chan struct{}
}

// run starts `atoll server --config config` with env added to its
// environment and waits until url answers /healthz; it fails t if the
// process exits first or does not answer within 30s. name says which
// server in those failures.
func (p *process) run(t *testing.T, name, config, url string, env []string) {
	t.Helper()
	p.mu.Lock()
	cmd := exec.Command(atollBin, "server", "--config", config)
	cmd.Stdout = &lockedWriter{mu: &p.mu, w: &p.log}
	cmd.Stderr = cmd.Stdout
	cmd.Env = append(append(os.Environ(), "ATOLL_TEST=1"), env...)
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("%s exited at start:\n%s", name, p.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within 30s:\n%s", name, p.Log())
		}
	}
}

// signal sends sig to the process, if running, and waits for it to exit,
// killing it if it has not within 30s.
func (p *process) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Log is what the process printed so far, over all its runs.
func (p *process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// pid is the running process's id; it fails t if none runs.
func (p *process) pid(t *testing.T) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		t.Fatal("atoll is not running")
	}
	return p.cmd.Process.Pid
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
