package sandbox

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// ErrUnsupported is returned (wrapped) by Probe and Exec when the kernel
// offers no Landlock: too old, built without it, not enabled at boot
// (lsm=), or the syscalls are blocked (an old container seccomp profile).
var ErrUnsupported = errors.New("the kernel offers no Landlock")

// Probe returns the Landlock ABI version the kernel offers, or an error
// wrapping ErrUnsupported.
func Probe() (int, error) {
	abi, err := llsys.LandlockGetABIVersion()
	if err != nil || abi < 1 {
		return 0, fmt.Errorf("%w (%v)", ErrUnsupported, err)
	}
	return abi, nil
}

// config is what Exec asks of Landlock: every file system right and IPC
// scope go-landlock knows, downgraded to what the kernel offers; network
// rights are left alone (providers and backends need the network).
var config = landlock.Config{HandledAccessFS: landlock.V11.HandledAccessFS, Scoped: landlock.V11.Scoped}.BestEffort()

// Restrict confines the calling process (all its threads) and whatever
// it starts afterwards to p. It cannot be undone.
func Restrict(p Policy) error {
	abi, err := Probe()
	if err != nil {
		return err
	}
	g, err := p.resolve()
	if err != nil {
		return err
	}
	var rules []landlock.Rule
	if len(g.roDirs) > 0 {
		rules = append(rules, landlock.RODirs(g.roDirs...))
	}
	if len(g.roFiles) > 0 {
		rules = append(rules, landlock.ROFiles(g.roFiles...))
	}
	if len(g.rwDirs) > 0 {
		// Refer lets terraform rename across its own directories, but
		// only from ABI 2 on: asked of ABI 1, go-landlock's best effort
		// would drop the whole sandbox. ResolveUnix lets terraform reach
		// its providers' plugin sockets.
		rw := landlock.RWDirs(g.rwDirs...).WithResolveUnix()
		if abi >= 2 {
			rw = rw.WithRefer()
		}
		rules = append(rules, rw)
	}
	if len(g.rwFiles) > 0 {
		rules = append(rules, landlock.RWFiles(g.rwFiles...))
	}
	if len(g.lsDirs) > 0 {
		rules = append(rules, landlock.PathAccess(llsys.AccessFSReadDir, g.lsDirs...))
	}
	if err := config.Restrict(rules...); err != nil {
		return fmt.Errorf("sandbox: landlock: %w", err)
	}
	return nil
}

// Exec restricts the process to p (Restrict) and replaces it with argv,
// looked up as an absolute path, with the environment env. It returns
// only on failure, and then has run nothing.
func Exec(p Policy, argv []string, env []string) error {
	if len(argv) == 0 {
		return errors.New("sandbox: no program")
	}
	if err := Restrict(p); err != nil {
		return err
	}
	if err := syscall.Exec(argv[0], argv, env); err != nil {
		return fmt.Errorf("sandbox: exec %s: %w", argv[0], err)
	}
	return nil
}

// HideSelf makes the calling process non-dumpable: its /proc/PID entries
// that reveal memory or environment (environ, mem, maps, fd, ...) become
// root's, and processes of the same user can no longer ptrace it. A
// program it execs is dumpable again.
func HideSelf() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("sandbox: prctl(PR_SET_DUMPABLE): %w", err)
	}
	return nil
}

// Main runs `atoll sandbox-exec` with args (Subcommand excluded): it
// restricts itself and execs the program with its own environment. It
// returns only on failure.
func Main(args []string) error {
	p, argv, err := ParseCommand(args)
	if err != nil {
		return err
	}
	return Exec(p, argv, os.Environ())
}
