package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// replicaFile names this data dir's replica in a shared store's leases.
const replicaFile = "replica"

// claimReplica returns the replica id of dataDir, made once (host name
// and a random suffix) and kept in dataDir/replica, and holds an
// exclusive lock on that file until release. The id outlives restarts,
// so a replica that starts again knows the jobs its previous life held
// are dead and takes them over at once rather than after their lease;
// the lock makes that safe: no two live processes share a data dir (on
// bbolt the database's own lock says the same).
func claimReplica(dataDir string) (id string, release func(), err error) {
	path := filepath.Join(dataDir, replicaFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("replica id: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return "", nil, fmt.Errorf("data dir %s is in use by another atoll process: each replica needs a data dir of its own", dataDir)
		}
		return "", nil, fmt.Errorf("replica id: lock %s: %w", path, err)
	}
	release = func() { _ = f.Close() }
	b, err := os.ReadFile(path)
	if err != nil {
		release()
		return "", nil, fmt.Errorf("replica id: %w", err)
	}
	if id = strings.TrimSpace(string(b)); id != "" {
		return id, release, nil
	}
	host, _ := os.Hostname()
	var r [4]byte
	_, _ = rand.Read(r[:])
	id = host + "-" + hex.EncodeToString(r[:])
	if _, err := f.WriteString(id + "\n"); err != nil {
		release()
		return "", nil, fmt.Errorf("replica id: %w", err)
	}
	if err := f.Sync(); err != nil {
		release()
		return "", nil, fmt.Errorf("replica id: %w", err)
	}
	return id, release, nil
}
