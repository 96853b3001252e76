// Package pgtest runs a real PostgreSQL server for tests and benchmarks:
// Debian's postgresql 15 server binaries, a cluster made by initdb in a
// temporary directory, listening on a Unix socket in that directory only
// (no TCP port), removed when it stops.
//
// One server serves a whole test binary: call Main from TestMain, then
// Database in each test for a fresh, empty database of its own.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) { url := pgtest.Database(t); ... }
//
// PostgreSQL refuses to run as root, so when the test runs as root the
// cluster is made and run as the unprivileged user "nobody" (its files
// owned by it); as any other user it runs as that user.
//
// There is no fallback: when the binaries are missing, Start fails with a
// message saying how to install them (make tools installs Debian's
// postgresql package).
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultBinDir is where Debian's postgresql-15 package puts the server
// binaries. ATOLL_PG_BIN overrides it.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

// superuser is the cluster's superuser role; it authenticates by trust
// (only processes that can reach the socket directory can connect).
const superuser = "atoll"

// Options configures Start. The zero value is what tests want.
type Options struct {
	// Durable keeps fsync on (as a production server has it), for
	// benchmarks that compare with bbolt's fsynced commits. Off by
	// default: tests do not survive a power cut anyway, and fsync slows
	// them down a lot on a shared machine.
	Durable bool
}

// Server is a running PostgreSQL cluster in a temporary directory.
type Server struct {
	dir     string // the temporary directory: data/ and the socket
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped sync.Once
	logPath string
	next    atomic.Int64
}

// BinDir returns the directory of the server binaries: $ATOLL_PG_BIN or
// DefaultBinDir. It fails, saying how to install them, when initdb or
// postgres is missing there.
func BinDir() (string, error) {
	dir := os.Getenv("ATOLL_PG_BIN")
	if dir == "" {
		dir = DefaultBinDir
	}
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("PostgreSQL server binaries not found (%s/%s): run `make tools`, "+
				"which installs Debian's postgresql package, or set ATOLL_PG_BIN to the directory of initdb and postgres", dir, name)
		}
	}
	return dir, nil
}

// Start makes a new cluster in a temporary directory and starts its
// server; it returns once the server accepts connections. Stop it with
// Stop. If the calling process dies, the kernel stops the server too.
func Start(ctx context.Context, o Options) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	cred, uid, gid, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "atoll-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{dir: dir, exited: make(chan struct{}), logPath: filepath.Join(dir, "postgres.log")}
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(fmt.Errorf("pgtest: hand %s to the unprivileged user: %w", dir, err))
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", superuser,
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pgtest: initdb: %w\n%s", err, out))
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return fail(fmt.Errorf("pgtest: %w", err))
	}
	defer logf.Close()
	args := []string{"-D", data, "-k", dir, "-c", "listen_addresses=", "-c", "max_connections=200",
		"-c", "shared_buffers=32MB", "-c", "unix_socket_permissions=0777"}
	if !o.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	// The server runs as a direct child (not daemonised by pg_ctl) so
	// that Pdeathsig stops it when the test binary dies without Stop.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	// Pdeathsig fires when the OS thread that started the child exits, not
	// only the process: start it from a goroutine locked to its thread,
	// which lives (and keeps the thread) as long as the server does.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return fail(fmt.Errorf("pgtest: start postgres: %w", err))
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// runAs returns the credential to run PostgreSQL with: nil for a normal
// user, "nobody" for root (initdb and postgres refuse root).
func runAs() (*syscall.Credential, int, int, error) {
	if os.Geteuid() != 0 {
		return nil, 0, 0, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, 0, 0, fmt.Errorf("pgtest: running as root, PostgreSQL needs an unprivileged user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(s.logPath)
			return fmt.Errorf("pgtest: postgres exited at start-up:\n%s", log)
		case <-ctx.Done():
			log, _ := os.ReadFile(s.logPath)
			return fmt.Errorf("pgtest: postgres not ready after 60s (%v):\n%s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL returns the connection URL of database name on this server (over
// its Unix socket, as the superuser).
func (s *Server) URL(name string) string {
	q := url.Values{"host": {s.dir}, "user": {superuser}, "sslmode": {"disable"}}
	return "postgres:///" + url.PathEscape(name) + "?" + q.Encode()
}

// CreateDatabase makes a new empty database and returns its URL. Its name
// is prefix and a counter.
func (s *Server) CreateDatabase(ctx context.Context, prefix string) (string, error) {
	name := fmt.Sprintf("%s_%d", sanitize(prefix), s.next.Add(1))
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.URL(name), nil
}

// sanitize keeps a database name short and made of [a-z0-9_].
func sanitize(p string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(p) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "db"
	}
	return b.String()
}

// Stop shuts the server down (fast shutdown: connections are ended) and
// removes its directory. It is safe to call more than once.
func (s *Server) Stop() {
	s.stopped.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-s.exited:
			case <-time.After(20 * time.Second):
				_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
				<-s.exited
			}
		}
		_ = os.RemoveAll(s.dir)
	})
}

var (
	shared    *Server
	sharedErr error
	sharedMu  sync.Mutex
)

// Main starts the test binary's shared server, runs the tests and stops
// the server; use it as os.Exit(pgtest.Main(m)) in TestMain. The server
// is started lazily, by the first Database call, so a run that needs no
// database starts none.
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Stop()
	}
	return code
}

// Shared returns the test binary's shared server, starting it on first
// use. Main stops it.
func Shared(ctx context.Context) (*Server, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = Start(ctx, Options{})
	}
	return shared, sharedErr
}

// Database returns the URL of a new, empty database on the shared server,
// for this test alone. It fails the test (never skips it) when PostgreSQL
// cannot be started.
func Database(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	s, err := Shared(ctx)
	if err != nil {
		t.Fatalf("PostgreSQL for this test: %v", err)
	}
	u, err := s.CreateDatabase(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return u
}
