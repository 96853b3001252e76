package locks

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// keySep joins the parts of an encoded lock key. No part may contain it.
const keySep = 0x00

// Key names what a lock protects: one workspace of one project directory of
// one repository.
type Key struct {
	// Repo is the repository's full name, "owner/name", compared exactly:
	// pass the code host's canonical spelling.
	Repo string
	// Dir is the project directory relative to the repository root. It is
	// cleaned with path.Clean ("" and "./" become ".", "a/b/" becomes "a/b"),
	// so every spelling of a directory names one lock; locks returned by
	// this package carry the cleaned Dir.
	Dir string
	// Workspace is the Terraform workspace, e.g. "default".
	Workspace string
}

// String is "owner/name dir=DIR workspace=WS", for messages.
func (k Key) String() string {
	return fmt.Sprintf("%s dir=%s workspace=%s", k.Repo, k.Dir, k.Workspace)
}

// canonical returns k with Dir cleaned.
func (k Key) canonical() Key {
	k.Dir = path.Clean(k.Dir)
	return k
}

// validate reports why a canonical key cannot be stored.
func (k Key) validate() error {
	for _, part := range []struct{ name, value string }{
		{"repo", k.Repo}, {"dir", k.Dir}, {"workspace", k.Workspace},
	} {
		if part.value == "" {
			return fmt.Errorf("lock key %q: empty %s: %w", k.String(), part.name, ErrInvalid)
		}
		if strings.IndexByte(part.value, keySep) >= 0 {
			return fmt.Errorf("lock key %q: NUL byte in %s: %w", k.String(), part.name, ErrInvalid)
		}
	}
	if n := len(k.Repo) + len(k.Dir) + len(k.Workspace) + 2; n > bolt.MaxKeySize {
		return fmt.Errorf("lock key %q: %d bytes, more than %d: %w", k.String(), n, bolt.MaxKeySize, ErrInvalid)
	}
	return nil
}

// encodeKey returns the bucket key of k: Repo NUL Dir NUL Workspace, with
// Dir cleaned. It fails with ErrInvalid for a key validate rejects.
func encodeKey(k Key) ([]byte, error) {
	k = k.canonical()
	if err := k.validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(k.Repo)+len(k.Dir)+len(k.Workspace)+2)
	b = append(b, k.Repo...)
	b = append(b, keySep)
	b = append(b, k.Dir...)
	b = append(b, keySep)
	b = append(b, k.Workspace...)
	return b, nil
}

// decodeKey is the inverse of encodeKey. It accepts only what encodeKey
// produces (three valid parts, Dir already clean), so decoding then
// encoding gives back the same bytes.
func decodeKey(b []byte) (Key, error) {
	parts := bytes.Split(b, []byte{keySep})
	if len(parts) != 3 {
		return Key{}, fmt.Errorf("lock key %q: %d parts, want 3: %w", b, len(parts), ErrInvalid)
	}
	k := Key{Repo: string(parts[0]), Dir: string(parts[1]), Workspace: string(parts[2])}
	if err := k.validate(); err != nil {
		return Key{}, err
	}
	if clean := path.Clean(k.Dir); clean != k.Dir {
		return Key{}, fmt.Errorf("lock key %q: dir %q is not clean (%q): %w", b, k.Dir, clean, ErrInvalid)
	}
	return k, nil
}
