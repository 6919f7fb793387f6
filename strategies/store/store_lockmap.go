package store

import (
	"sync"

	"github.com/reloadlab/reloadlab/strategies/config"
)

// LockMap is a map guarded by a sync.RWMutex and updated in place: Apply
// deletes vanished keys and assigns every new value while holding the write
// lock, so readers wait for O(keys) work on every reload. It is the common
// hand-written reload store. The zero value is not usable; call NewLockMap.
type LockMap struct {
	mu      sync.RWMutex
	values  map[string]string
	version int64
}

var _ Store = (*LockMap)(nil)

// NewLockMap returns an empty LockMap.
func NewLockMap() *LockMap { return &LockMap{values: map[string]string{}} }

// Name returns "lockmap".
func (m *LockMap) Name() string { return "lockmap" }

// Get reads key under the read lock.
func (m *LockMap) Get(key string) (string, bool) {
	m.mu.RLock()
	v, ok := m.values[key]
	m.mu.RUnlock()
	return v, ok
}

// Apply rewrites the map in place under the write lock.
func (m *LockMap) Apply(s *config.Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rebuildLocked(s)
}

// rebuildLocked rewrites the map to hold s; the caller holds the write lock.
func (m *LockMap) rebuildLocked(s *config.Snapshot) {
	for k := range m.values {
		if _, ok := s.Get(k); !ok {
			delete(m.values, k)
		}
	}
	s.Range(func(k, v string) bool {
		m.values[k] = v
		return true
	})
	m.version = s.Version()
}

// Version returns the version of the last Apply.
func (m *LockMap) Version() int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.version
}
