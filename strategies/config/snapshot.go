package config

import (
	"crypto/sha256"
	"slices"
)

// Snapshot is one parsed and validated configuration. It is immutable: the
// map it wraps is never written after Parse or NewSnapshot returns, so a
// Snapshot can be shared between goroutines without locks. The zero value is
// an empty config at version 0.
type Snapshot struct {
	version int64
	values  map[string]string
	hash    [sha256.Size]byte
}

// NewSnapshot builds a Snapshot from version and values. It takes ownership
// of values: the caller must not modify the map afterwards. hash identifies
// the file content the snapshot came from (see Hash); pass the zero value for
// snapshots that were not read from a file.
func NewSnapshot(version int64, values map[string]string, hash [sha256.Size]byte) *Snapshot {
	if values == nil {
		values = map[string]string{}
	}
	return &Snapshot{version: version, values: values, hash: hash}
}

// Version returns the integer version declared by the file.
func (s *Snapshot) Version() int64 { return s.version }

// Get returns the value of key and whether it is present.
func (s *Snapshot) Get(key string) (string, bool) {
	v, ok := s.values[key]
	return v, ok
}

// Len returns the number of keys, not counting version.
func (s *Snapshot) Len() int { return len(s.values) }

// Hash returns the SHA-256 of the file content the snapshot was parsed from.
func (s *Snapshot) Hash() [sha256.Size]byte { return s.hash }

// Range calls fn for every key and value, in no particular order, until fn
// returns false.
func (s *Snapshot) Range(fn func(key, value string) bool) {
	for k, v := range s.values {
		if !fn(k, v) {
			return
		}
	}
}

// Keys returns the keys in sorted order. It allocates; keep it off hot paths.
func (s *Snapshot) Keys() []string {
	keys := make([]string, 0, len(s.values))
	for k := range s.values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
