package lease

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestKeyedMutexForgetsKeys locks many keys, some contended, and checks
// that no key's mutex outlives its last holder or waiter.
func TestKeyedMutexForgetsKeys(t *testing.T) {
	var k KeyedMutex
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := k.Lock(fmt.Sprintf("run-%d", i%7))
			unlock()
			k.Lock(fmt.Sprintf("once-%d", i))()
		}()
	}
	wg.Wait()
	if n := k.Size(); n != 0 {
		t.Errorf("%d keys left after every lock was released; want 0", n)
	}
}

// TestKeyedMutexExcludes checks that holders of one key never overlap
// (the race detector sees the unguarded counters) while other keys go on.
func TestKeyedMutexExcludes(t *testing.T) {
	var k KeyedMutex
	const keys, per = 4, 50
	inside := make([]int, keys) // guarded by the key's mutex only
	total := make([]int, keys)
	var wg sync.WaitGroup
	for i := range keys * per {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := i % keys
			unlock := k.Lock(fmt.Sprint(key))
			defer unlock()
			inside[key]++
			if inside[key] != 1 {
				t.Errorf("key %d: %d holders at once", key, inside[key])
			}
			total[key]++
			inside[key]--
		}()
	}
	wg.Wait()
	for key, n := range total {
		if n != per {
			t.Errorf("key %d: %d critical sections, want %d", key, n, per)
		}
	}
	if n := k.Size(); n != 0 {
		t.Errorf("%d keys left; want 0", n)
	}
}

// TestKeyedMutexWaiterKeepsKey checks that a key whose holder leaves while
// another goroutine waits is not freed under the waiter, and that a locker
// arriving then still waits for the waiter.
func TestKeyedMutexWaiterKeepsKey(t *testing.T) {
	var k KeyedMutex
	refs := func() int {
		k.mu.Lock()
		defer k.mu.Unlock()
		if e := k.m["a"]; e != nil {
			return e.refs
		}
		return 0
	}
	waitRefs := func(n int) {
		for refs() != n {
			runtime.Gosched()
		}
	}
	unlock := k.Lock("a")
	got := make(chan func())
	go func() { got <- k.Lock("a") }()
	waitRefs(2)
	unlock()
	unlock2 := <-got
	third := make(chan struct{})
	go func() { k.Lock("a")(); close(third) }()
	waitRefs(2)
	time.Sleep(10 * time.Millisecond)
	select {
	case <-third:
		t.Fatal("a third locker got the key while it was held")
	default:
	}
	unlock2()
	<-third
	if n := k.Size(); n != 0 {
		t.Errorf("size = %d; want 0", n)
	}
}
