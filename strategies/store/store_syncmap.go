package store

import (
	"sync"
	"sync/atomic"

	"github.com/reloadlab/reloadlab/strategies/config"
)

// SyncMap stores each key in a sync.Map and applies a new config with one
// Store per key and one Delete per vanished key. Reads never block, but an
// Apply is never atomic across keys: a reader can see some keys at the new
// version and others at the old one, and Version may run ahead of or behind
// the values being read. The zero value is ready to use.
type SyncMap struct {
	m       sync.Map
	version atomic.Int64
}

var _ Store = (*SyncMap)(nil)

// NewSyncMap returns an empty SyncMap.
func NewSyncMap() *SyncMap { return &SyncMap{} }

// Name returns "syncmap".
func (m *SyncMap) Name() string { return "syncmap" }

// Get loads key.
func (m *SyncMap) Get(key string) (string, bool) {
	v, ok := m.m.Load(key)
	if !ok {
		return "", false
	}
	return v.(string), true
}

// Apply stores every key of s, deletes keys s does not have, then publishes
// the version.
func (m *SyncMap) Apply(s *config.Snapshot) {
	s.Range(func(k, v string) bool {
		m.m.Store(k, v)
		return true
	})
	m.m.Range(func(k, _ any) bool {
		if _, ok := s.Get(k.(string)); !ok {
			m.m.Delete(k)
		}
		return true
	})
	m.version.Store(s.Version())
}

// Version returns the version published by the last completed Apply.
func (m *SyncMap) Version() int64 { return m.version.Load() }
