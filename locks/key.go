package locks

import (
	"fmt"
	"path"
	"strings"
)

// MaxKeySize is the longest key a store accepts, in bytes: a lock key's
// three parts together, a record bucket name, a record key, a delivery id.
// It fits both bbolt's key limit and a PostgreSQL B-tree index entry.
const MaxKeySize = 1000

// Key names what a lock protects: one workspace of one project directory of
// one repository.
type Key struct {
	// Repo is the repository's full name, "owner/name", compared exactly:
	// pass the code host's canonical spelling.
	Repo string
	// Dir is the project directory relative to the repository root. It is
	// cleaned with path.Clean ("" and "./" become ".", "a/b/" becomes "a/b"),
	// so every spelling of a directory names one lock; locks returned by
	// a store carry the cleaned Dir.
	Dir string
	// Workspace is the Terraform workspace, e.g. "default".
	Workspace string
}

// String is "owner/name dir=DIR workspace=WS", for messages.
func (k Key) String() string {
	return fmt.Sprintf("%s dir=%s workspace=%s", k.Repo, k.Dir, k.Workspace)
}

// Canonical returns k with Dir cleaned.
func (k Key) Canonical() Key {
	k.Dir = path.Clean(k.Dir)
	return k
}

// Validate reports why a canonical key cannot be stored: an empty part, a
// NUL byte in a part, or more than MaxKeySize bytes in all (ErrInvalid).
func (k Key) Validate() error {
	for _, part := range []struct{ name, value string }{
		{"repo", k.Repo}, {"dir", k.Dir}, {"workspace", k.Workspace},
	} {
		if part.value == "" {
			return fmt.Errorf("lock key %q: empty %s: %w", k.String(), part.name, ErrInvalid)
		}
		if strings.IndexByte(part.value, 0) >= 0 {
			return fmt.Errorf("lock key %q: NUL byte in %s: %w", k.String(), part.name, ErrInvalid)
		}
	}
	if n := len(k.Repo) + len(k.Dir) + len(k.Workspace) + 2; n > MaxKeySize {
		return fmt.Errorf("lock key %q: %d bytes, more than %d: %w", k.String(), n, MaxKeySize, ErrInvalid)
	}
	return nil
}
