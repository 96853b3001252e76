package lease

import "sync"

// KeyedMutex is a set of mutexes by key. A key's mutex is made when it is
// first locked and freed when no one holds or waits for it, so keys that
// come and go (run ids, pull requests) do not accumulate. The zero value
// is ready to use: the single process's mutex. With Shared set (replicas
// on one store: Leases.Mutex), holding a key's mutex also holds its lease
// in the store, so that other replicas wait too.
type KeyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
	// Shared, when set, is called with the key once this process holds
	// its mutex, and returns what releases the cross-replica half.
	Shared func(key string) (unlock func())
}

// keyedEntry is one key's mutex and the number of goroutines that hold or
// wait for it (guarded by KeyedMutex.mu).
type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// Lock locks key's mutex and returns the function that unlocks it, to be
// called exactly once.
func (k *KeyedMutex) Lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	release := func() {}
	if k.Shared != nil {
		release = k.Shared(key)
	}
	return func() {
		release()
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// Size is the number of keys whose mutex is held or waited for.
func (k *KeyedMutex) Size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}
