package terraform

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestLockCacheExcludesInProcess(t *testing.T) {
	dir := t.TempDir()
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := lockCache(context.Background(), dir)
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := maxInside.Load()
				if n <= m || maxInside.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Errorf("%d holders at once", maxInside.Load())
	}
}

// TestLockCacheFlock: the flock keeps out a holder that does not share
// the in-process lock (another process: flock locks belong to open file
// descriptions, so a second open in this process stands in for it).
func TestLockCacheFlock(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockCache(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if f, err := flockWait(ctx, dir+"/"+cacheLockFile, syscall.LOCK_EX); err == nil {
		f.Close()
		t.Fatal("second flock acquired while the first is held")
	}
	unlock()
	f, err := flockWait(context.Background(), dir+"/"+cacheLockFile, syscall.LOCK_EX)
	if err != nil {
		t.Fatalf("flock after unlock: %v", err)
	}
	f.Close()
}

func TestLockCacheContext(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockCache(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := lockCache(ctx, dir); err == nil {
		t.Fatal("lock acquired twice")
	}
}

// TestCacheLockShared: link-only inits hold the cache lock together; an
// init that may install waits for them.
func TestCacheLockShared(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	u1, err := lockCacheShared(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	u2, err := lockCacheShared(ctx, dir)
	if err != nil {
		t.Fatalf("a second shared holder waits: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if unlock, err := lockCache(short, dir); err == nil {
		unlock()
		t.Fatal("the exclusive lock was taken while shared holders held it")
	}
	u1()
	u2()
	unlock, err := lockCache(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}
