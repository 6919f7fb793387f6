package store

import (
	"sync/atomic"

	"github.com/reloadlab/reloadlab/strategies/config"
)

// Atomic holds an atomic.Pointer to an immutable snapshot: Apply is one
// atomic store, Get is one atomic load plus a map lookup, and View hands out
// the snapshot itself, consistent for a whole request. This is the article's
// "atomic.Value double buffer", written with the typed atomic.Pointer. The
// zero value is ready to use and serves an empty config at version 0.
type Atomic struct {
	p atomic.Pointer[config.Snapshot]
}

var (
	_ Store  = (*Atomic)(nil)
	_ Viewer = (*Atomic)(nil)
)

// NewAtomic returns an empty Atomic store.
func NewAtomic() *Atomic {
	a := &Atomic{}
	a.p.Store(config.NewSnapshot(0, nil, [32]byte{}))
	return a
}

// Name returns "atomic".
func (a *Atomic) Name() string { return "atomic" }

// Get reads key from the current snapshot.
func (a *Atomic) Get(key string) (string, bool) {
	s := a.p.Load()
	if s == nil {
		return "", false
	}
	return s.Get(key)
}

// View returns the current snapshot.
func (a *Atomic) View() *config.Snapshot {
	if s := a.p.Load(); s != nil {
		return s
	}
	return config.NewSnapshot(0, nil, [32]byte{})
}

// Apply publishes s with one atomic store.
func (a *Atomic) Apply(s *config.Snapshot) { a.p.Store(s) }

// Version returns the version of the current snapshot.
func (a *Atomic) Version() int64 { return a.View().Version() }
