package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// SystemRead are the system directories every sandboxed program may read
// and execute: binaries, libraries, and /etc (certificates, resolver
// configuration, time zones). Missing ones are skipped. atoll's own files
// under them are carved out by Policy.Hide.
//
// /etc/resolv.conf is named on its own so that what it links to (under
// /run, which is not readable) is readable too.
var SystemRead = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
	"/etc/resolv.conf", "/run/systemd/resolve"}

// Devices are the device files every sandboxed program may read and write.
var Devices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}

// Policy says what a sandboxed program may reach. Paths must be absolute;
// missing ones are skipped. Each entry covers the whole tree under it.
type Policy struct {
	// Read may be read and executed.
	Read []string
	// Write may be read, written, executed, created, renamed and removed.
	Write []string
	// List are directories whose entries may be listed (Landlock's
	// read_dir), not read, written or executed: for a directory under
	// them, listing too, nothing more, unless another entry grants it.
	List []string
	// Hide may never be read, even where a Read or Write entry holds it:
	// such an entry is replaced by its children, recursively, leaving out
	// the hidden paths. A Read or Write entry under a hidden path is still
	// granted: an explicit grant wins over a hidden parent.
	Hide []string
}

// Subcommand is the hidden atoll subcommand that runs a program under a
// Policy.
const Subcommand = "sandbox-exec"

// Command returns the arguments of `atoll sandbox-exec` (after atoll's
// own path) that run program under p; the program's arguments follow.
func (p Policy) Command(program string) []string {
	args := []string{Subcommand}
	for _, f := range []struct {
		flag  string
		paths []string
	}{{"--ro", p.Read}, {"--rw", p.Write}, {"--ls", p.List}, {"--hide", p.Hide}} {
		for _, path := range f.paths {
			args = append(args, f.flag, path)
		}
	}
	return append(args, "--", program)
}

// ParseCommand parses the arguments of `atoll sandbox-exec` (Subcommand
// excluded): the policy, then the program and its arguments after "--".
func ParseCommand(args []string) (Policy, []string, error) {
	var p Policy
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if i+1 >= len(args) {
				return p, nil, errors.New("sandbox-exec: no program after --")
			}
			return p, args[i+1:], nil
		}
		if i+1 >= len(args) {
			return p, nil, fmt.Errorf("sandbox-exec: %s needs a path", a)
		}
		path := args[i+1]
		if !filepath.IsAbs(path) {
			return p, nil, fmt.Errorf("sandbox-exec: %s %s: the path must be absolute", a, path)
		}
		switch a {
		case "--ro":
			p.Read = append(p.Read, path)
		case "--rw":
			p.Write = append(p.Write, path)
		case "--ls":
			p.List = append(p.List, path)
		case "--hide":
			p.Hide = append(p.Hide, path)
		default:
			return p, nil, fmt.Errorf("sandbox-exec: unknown flag %q (want --ro, --rw, --ls, --hide or --)", a)
		}
		i++
	}
	return p, nil, errors.New("sandbox-exec: missing -- PROGRAM")
}

// grants are a Policy resolved to what Landlock is given: existing paths,
// symlinks resolved, hidden paths carved out, directories apart from
// files (Landlock grants directory rights on directories only).
type grants struct {
	roDirs, roFiles, rwDirs, rwFiles, lsDirs []string
}

// resolve turns p into grants. A missing path is skipped; any other error
// reading the file system is returned.
func (p Policy) resolve() (grants, error) {
	var g grants
	var hide []string
	for _, h := range p.Hide {
		r, err := filepath.EvalSymlinks(h)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return g, fmt.Errorf("sandbox: hide %s: %w", h, err)
		}
		hide = append(hide, r, filepath.Clean(h))
	}
	for _, rw := range []bool{false, true} {
		paths := p.Read
		if rw {
			paths = p.Write
		}
		for _, path := range paths {
			if err := g.add(path, rw, hide, 0); err != nil {
				return g, err
			}
		}
	}
	for _, path := range p.List {
		// Listing shows names only: nothing hidden is carved out.
		r, err := filepath.EvalSymlinks(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return g, fmt.Errorf("sandbox: %s: %w", path, err)
		}
		if fi, err := os.Stat(r); err != nil {
			return g, fmt.Errorf("sandbox: %s: %w", path, err)
		} else if !fi.IsDir() {
			return g, fmt.Errorf("sandbox: --ls %s: not a directory", path)
		}
		g.lsDirs = appendNew(g.lsDirs, r)
	}
	return g, nil
}

// maxDepth bounds the carving of hidden paths out of a granted tree.
const maxDepth = 32

// add grants path (rw: read-write) unless it is hidden, carving out the
// hidden paths it holds.
func (g *grants) add(path string, rw bool, hide []string, depth int) error {
	r, err := filepath.EvalSymlinks(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("sandbox: %s: %w", path, err)
	}
	fi, err := os.Stat(r)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("sandbox: %s: %w", path, err)
	}
	holds := false
	for _, h := range hide {
		if h == r || (depth > 0 && within(r, h)) {
			return nil // hidden (a top-level grant under a hidden dir stays: explicit wins)
		}
		if within(h, r) {
			holds = true
		}
	}
	if !holds || !fi.IsDir() {
		switch {
		case fi.IsDir() && rw:
			g.rwDirs = appendNew(g.rwDirs, r)
		case fi.IsDir():
			g.roDirs = appendNew(g.roDirs, r)
		case rw:
			g.rwFiles = appendNew(g.rwFiles, r)
		default:
			g.roFiles = appendNew(g.roFiles, r)
		}
		return nil
	}
	if depth >= maxDepth {
		return fmt.Errorf("sandbox: %s: hidden paths nested too deep", path)
	}
	entries, err := os.ReadDir(r)
	if err != nil {
		return fmt.Errorf("sandbox: %s: %w", path, err)
	}
	for _, e := range entries {
		if e.Type()&os.ModeSymlink != 0 {
			// A symlink needs no grant of its own: what it points to is
			// reached, or refused, by the grants of its target's tree,
			// as it would be without the carving.
			continue
		}
		if err := g.add(filepath.Join(r, e.Name()), rw, hide, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// within reports whether path is strictly under dir.
func within(path, dir string) bool {
	return strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
