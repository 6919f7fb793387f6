package store

import (
	"sync"

	"github.com/reloadlab/reloadlab/strategies/config"
)

// LockSwap is a sync.RWMutex guarding a pointer to an immutable snapshot. The
// new map is built before Apply (by the parser), so the write lock is held
// only for one pointer assignment. Because the snapshot behind the pointer is
// never mutated, LockSwap can hand out a consistent View. The zero value is
// ready to use and serves an empty config at version 0.
type LockSwap struct {
	mu   sync.RWMutex
	snap *config.Snapshot
}

var (
	_ Store  = (*LockSwap)(nil)
	_ Viewer = (*LockSwap)(nil)
)

// NewLockSwap returns an empty LockSwap.
func NewLockSwap() *LockSwap { return &LockSwap{snap: config.NewSnapshot(0, nil, [32]byte{})} }

// Name returns "lockswap".
func (m *LockSwap) Name() string { return "lockswap" }

// Get reads key from the current snapshot under the read lock.
func (m *LockSwap) Get(key string) (string, bool) {
	m.mu.RLock()
	s := m.snap
	m.mu.RUnlock()
	if s == nil {
		return "", false
	}
	return s.Get(key)
}

// View returns the current snapshot (one RLock/RUnlock).
func (m *LockSwap) View() *config.Snapshot {
	m.mu.RLock()
	s := m.snap
	m.mu.RUnlock()
	if s == nil {
		return config.NewSnapshot(0, nil, [32]byte{})
	}
	return s
}

// Apply swaps the snapshot pointer under the write lock.
func (m *LockSwap) Apply(s *config.Snapshot) {
	m.mu.Lock()
	m.snap = s
	m.mu.Unlock()
}

// Version returns the version of the current snapshot.
func (m *LockSwap) Version() int64 { return m.View().Version() }
