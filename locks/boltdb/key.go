package boltdb

import (
	"bytes"
	"fmt"
	"path"

	"github.com/atollhq/atoll/locks"
)

// keySep joins the parts of an encoded lock key. No part may contain it.
const keySep = 0x00

// encodeKey returns the bucket key of k: Repo NUL Dir NUL Workspace, with
// Dir cleaned. It fails with ErrInvalid for a key validate rejects.
func encodeKey(k locks.Key) ([]byte, error) {
	k = k.Canonical()
	if err := k.Validate(); err != nil {
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
func decodeKey(b []byte) (locks.Key, error) {
	parts := bytes.Split(b, []byte{keySep})
	if len(parts) != 3 {
		return locks.Key{}, fmt.Errorf("lock key %q: %d parts, want 3: %w", b, len(parts), locks.ErrInvalid)
	}
	k := locks.Key{Repo: string(parts[0]), Dir: string(parts[1]), Workspace: string(parts[2])}
	if err := k.Validate(); err != nil {
		return locks.Key{}, err
	}
	if clean := path.Clean(k.Dir); clean != k.Dir {
		return locks.Key{}, fmt.Errorf("lock key %q: dir %q is not clean (%q): %w", b, k.Dir, clean, locks.ErrInvalid)
	}
	return k, nil
}
