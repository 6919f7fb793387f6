package store

import (
	"fmt"
	"strings"

	"github.com/reloadlab/reloadlab/strategies/config"
)

// Store holds the serving configuration.
type Store interface {
	// Name returns the store's registry name ("atomic", …).
	Name() string
	// Get returns the serving value of key. It is the hot path.
	Get(key string) (string, bool)
	// Apply makes s the serving configuration. Concurrent readers see either
	// the old or the new value of each key; whether they can see a mix across
	// keys depends on the store (see Viewer).
	Apply(s *config.Snapshot)
	// Version returns the version of the last completed Apply (0 before any).
	Version() int64
}

// Viewer is implemented by stores that can hand out a request-scoped,
// consistent view: every key read through one View comes from one version.
type Viewer interface {
	View() *config.Snapshot
}

// RawApplier is implemented by stores that parse the file themselves,
// inside their own critical section (lockparse: the article's chapter 4.4
// anti-pattern). The reload pipeline hands such a store the raw bytes and
// the parser instead of a parsed snapshot; ApplyRaw returns the snapshot it
// applied, or the parser's error, in which case nothing changed.
type RawApplier interface {
	ApplyRaw(data []byte, parse func([]byte) (*config.Snapshot, error)) (*config.Snapshot, error)
}

// kinds is the registry of stores in presentation order.
var kinds = []struct {
	name, desc string
	new        func() Store
}{
	{"lockmap", "sync.RWMutex + map updated in place under the write lock", func() Store { return NewLockMap() }},
	{"lockswap", "sync.RWMutex guarding a snapshot pointer; new map built outside the lock", func() Store { return NewLockSwap() }},
	{"syncmap", "sync.Map with per-key Store/Delete; never atomic across keys", func() Store { return NewSyncMap() }},
	{"lockparse", "sync.RWMutex + map; the whole parse and rebuild inside the write lock (the article's chapter 4.4 Reload)", func() Store { return NewLockParse() }},
	{"atomic", "atomic.Pointer to an immutable snapshot; one atomic load per read", func() Store { return NewAtomic() }},
}

// Names returns the names of all stores.
func Names() []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.name
	}
	return names
}

// Describe returns a one-line description of the named store, or "" if the
// name is unknown.
func Describe(name string) string {
	for _, k := range kinds {
		if k.name == name {
			return k.desc
		}
	}
	return ""
}

// New returns an empty store of the named kind, or an error listing the valid
// names.
func New(name string) (Store, error) {
	for _, k := range kinds {
		if k.name == name {
			return k.new(), nil
		}
	}
	return nil, fmt.Errorf("store: unknown store %q (valid: %s)", name, strings.Join(Names(), ", "))
}
