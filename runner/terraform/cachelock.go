package terraform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// cacheLockFile is the file, inside a plugin cache directory, that inits
// into that cache flock(2) for their whole run. Terraform ignores it (it is
// not a hostname directory).
const cacheLockFile = ".atoll-init.lock"

// cacheLocks holds one in-process lock per plugin cache directory. The
// in-process lock spares goroutines of this process from polling the
// flock; the flock keeps other processes (another atoll, a terraform CLI
// wrapper using this package) out.
var cacheLocks = struct {
	sync.Mutex
	m map[string]chan struct{}
}{m: map[string]chan struct{}{}}

// cacheSem returns the in-process semaphore (capacity 1) for dir.
func cacheSem(dir string) chan struct{} {
	cacheLocks.Lock()
	defer cacheLocks.Unlock()
	s, ok := cacheLocks.m[dir]
	if !ok {
		s = make(chan struct{}, 1)
		cacheLocks.m[dir] = s
	}
	return s
}

// lockCache takes the exclusive init lock of the plugin cache dir (an
// absolute, clean path), waiting as long as ctx allows. The returned
// function releases it.
func lockCache(ctx context.Context, dir string) (unlock func(), err error) {
	sem := cacheSem(dir)
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the plugin cache lock in %s: %w", dir, ctx.Err())
	}
	f, err := flockWait(ctx, filepath.Join(dir, cacheLockFile), syscall.LOCK_EX)
	if err != nil {
		<-sem
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
		<-sem
	}, nil
}

// lockCacheShared takes the plugin cache dir's init lock shared: inits
// that only link providers already in the cache run together, while an
// init that may install into the cache (lockCache) waits for them and
// they for it. flock(2) locks belong to open files, not processes, so
// shared and exclusive holders in this process exclude each other too.
func lockCacheShared(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := flockWait(ctx, filepath.Join(dir, cacheLockFile), syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// flockWait opens path and takes a flock of kind how (LOCK_EX or
// LOCK_SH) on it, polling so that ctx can end the wait.
func flockWait(ctx context.Context, path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the plugin cache lock: %w", err)
	}
	delay := 10 * time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("waiting for the plugin cache lock %s (held by another process): %w", path, ctx.Err())
		case <-t.C:
		}
		if delay < 250*time.Millisecond {
			delay *= 2
		}
	}
}
