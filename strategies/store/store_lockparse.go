package store

import (
	"github.com/reloadlab/reloadlab/strategies/config"
)

// LockParse is the article's chapter 4.4 Reload turned into a store, kept
// as the anti-pattern it is: the whole parse of the new file and the
// in-place rebuild of the map happen while holding the write lock, so every
// reader that arrives during a reload waits for a YAML parse (milliseconds,
// growing with the file), not for a pointer swap. The reload pipeline finds
// it through [RawApplier] and hands it the raw bytes; everything else —
// the read path, and a plain Apply of a snapshot parsed elsewhere — is
// LockMap's. The zero value is not usable; call NewLockParse.
type LockParse struct {
	LockMap
}

var (
	_ Store      = (*LockParse)(nil)
	_ RawApplier = (*LockParse)(nil)
)

// NewLockParse returns an empty LockParse.
func NewLockParse() *LockParse { return &LockParse{LockMap: LockMap{values: map[string]string{}}} }

// Name returns "lockparse".
func (m *LockParse) Name() string { return "lockparse" }

// ApplyRaw takes the write lock, then parses data with parse and, if it is
// valid, rebuilds the map from it before unlocking: the article's
//
//	s.mu.Lock()
//	defer s.mu.Unlock()
//	s.routes = parseRoutes(cfgBytes)
//
// A file that fails to parse leaves the serving config as it was, but its
// readers waited for the failed parse all the same.
func (m *LockParse) ApplyRaw(data []byte, parse func([]byte) (*config.Snapshot, error)) (*config.Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := parse(data)
	if err != nil {
		return nil, err
	}
	m.rebuildLocked(s)
	return s, nil
}
