package testdrive

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is one atoll server process, as the end-to-end tests and the
// benchmarks run it: its command, what it printed (kept across restarts)
// and whether it has exited. The zero value is stopped; Start after Signal
// restarts it. Its methods may be called from several goroutines.
type Process struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	log    bytes.Buffer
	exited chan struct{}
}

// Start runs `bin server --config config` with env added to its
// environment, copying its output to Log (and to tee, if not nil), and
// waits until url answers /healthz. It returns an error holding the log if
// the process exits first or does not answer within 30s (it is then
// stopped), or ctx's error if ctx ends first. name says which server in
// those errors.
func (p *Process) Start(ctx context.Context, name, bin, config, url string, env []string, tee io.Writer) error {
	cmd := exec.Command(bin, "server", "--config", config)
	var out io.Writer = &p.log
	if tee != nil {
		out = io.MultiWriter(&p.log, tee)
	}
	cmd.Stdout = &lockedWriter{mu: &p.mu, w: out}
	cmd.Stderr = cmd.Stdout
	cmd.Env = append(os.Environ(), env...)
	p.mu.Lock()
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return err
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
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited at start:\n%s", name, p.Log())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Signal(syscall.SIGTERM, 30*time.Second)
			return fmt.Errorf("%s did not answer within 30s:\n%s", name, p.Log())
		}
	}
}

// Signal sends sig to the process, if it runs, and waits for it to exit,
// killing it if it has not within grace.
func (p *Process) Signal(sig syscall.Signal, grace time.Duration) {
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
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Log is what the process printed so far, over all its runs.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Pid is the running process's id, or 0 if none runs.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
