// Package safefs is how atoll itself (never the sandboxed terraform) reads
// and writes files in places a pull request's code can change: a job's
// checkout, and the job's temp dir, which sandboxed commands may write.
//
// A name is always resolved beneath a directory (dir) with os.Root, whose
// lookups are race free (openat with each component checked, as
// openat2's RESOLVE_BENEATH): a symlink that stays beneath dir is
// followed, one that leads out of it (or an absolute one, or "..") is
// refused, even when the directory is swapped for a symlink between two
// calls. A file written replaces whatever had its name (a symlink
// included) and is never written through it.
package safefs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ErrEscapes is the error of a name that leads out of its directory.
var ErrEscapes = errors.New("leads out of the checkout")

// wrap makes os.Root's escape error ErrEscapes, keeping the others. os
// does not export that error; its text, innermost in a chain of
// *fs.PathError, is its contract in practice.
func wrap(name string, err error) error {
	if err == nil {
		return nil
	}
	inner := err
	for u := errors.Unwrap(inner); u != nil; u = errors.Unwrap(inner) {
		inner = u
	}
	if inner.Error() == "path escapes from parent" {
		return fmt.Errorf("%s: %w (a symlink to outside the checkout)", filepath.ToSlash(name), ErrEscapes)
	}
	return err
}

// Dir opens the directory rel beneath dir, which it must not lead out
// of. The caller closes it.
func Dir(dir, rel string) (*os.Root, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if rel == "" || filepath.Clean(rel) == "." {
		return os.OpenRoot(dir)
	}
	sub, err := root.OpenRoot(filepath.FromSlash(rel))
	if err != nil {
		return nil, wrap(rel, err)
	}
	return sub, nil
}

// CheckDir returns an error wrapping ErrEscapes when the directory rel
// beneath dir leads out of it, and os.Root's error when it is not a
// directory.
func CheckDir(dir, rel string) error {
	r, err := Dir(dir, rel)
	if err != nil {
		return err
	}
	return r.Close()
}

// WriteFile writes data to name beneath root with mode perm, replacing
// whatever had its name: a symlink there is removed, never written
// through. Missing parent directories are made (mode 0755).
func WriteFile(root *os.Root, name string, data []byte, perm fs.FileMode) error {
	f, err := Create(root, name, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Create creates name beneath root for writing, as WriteFile.
func Create(root *os.Root, name string, perm fs.FileMode) (*os.File, error) {
	name = filepath.FromSlash(name)
	if d := filepath.Dir(name); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return nil, wrap(name, err)
		}
	}
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, wrap(name, err)
	}
	// O_EXCL: a symlink put in its place since the removal fails the
	// open instead of being followed.
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	return f, wrap(name, err)
}

// WriteFileIn is WriteFile beneath the directory dir.
func WriteFileIn(dir, name string, data []byte, perm fs.FileMode) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return WriteFile(root, name, data, perm)
}

// Open opens the regular file name beneath the directory dir for
// reading; anything else (a directory, a FIFO, a device) is refused.
func Open(dir, name string) (*os.File, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		return nil, wrap(name, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is not a regular file", filepath.ToSlash(name))
		}
		return nil, err
	}
	return f, nil
}

// ReadFile reads the regular file name beneath the directory dir (Open).
func ReadFile(dir, name string) ([]byte, error) {
	f, err := Open(dir, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// ReadPath is ReadFile of a path split into its directory and base name:
// only the file itself may not be a symlink out of its directory; the
// directory is trusted.
func ReadPath(path string) ([]byte, error) {
	return ReadFile(filepath.Dir(path), filepath.Base(path))
}

// WritePath is WriteFileIn of a path split into its directory and base
// name: the file is replaced, never written through a symlink; the
// directory is trusted.
func WritePath(path string, data []byte, perm fs.FileMode) error {
	return WriteFileIn(filepath.Dir(path), filepath.Base(path), data, perm)
}

// MaxConfigSize bounds what ReadRegular reads: no configuration file of
// a repository comes near it.
const MaxConfigSize = 64 << 20

// ReadRegular reads the file at path, which must be a regular file of at
// most MaxConfigSize bytes. It is for files of a checkout atoll parses
// itself (configuration, the dependency lock file): one a pull request
// made a symlink to a device, a FIFO or a huge file would otherwise make
// atoll's process block or read without end. The type is checked on the
// open file (O_NONBLOCK keeps a FIFO from blocking the open), so a file
// swapped since it was listed is checked too.
func ReadRegular(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > MaxConfigSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, MaxConfigSize>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxConfigSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, MaxConfigSize>>20)
	}
	return b, nil
}
