package rig

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/reloadlab/reloadlab/strategies/config"
)

// Observation kinds, as written by a column (in the lab or in a child, one
// JSON object per line).
const (
	ObsStarted    = "started"     // the column's watch is established
	ObsStartError = "start-error" // the column could not start; Msg says why
	ObsReady      = "ready"       // the child started all its columns
	ObsApply      = "apply"       // the column now serves new content
	ObsRejected   = "rejected"    // a read failed to read or parse; the old content serves (viper, our pipeline)
	ObsError      = "error"       // a trigger error, or a peer's watch ending; Msg says what
	ObsStale      = "stale"       // the column reported that the file it reads was replaced where it cannot follow (robust, reload-lib); Msg says why
	ObsStatus     = "status"      // final counters (Unchanged), written when the column stops
	ObsIdle       = "idle"        // idle-cost result (CPU)
	ObsResult     = "result"      // an experiment's result (Data)
)

// Observation is one thing a column (or a child's experiment) reported.
type Observation struct {
	T     int64  `json:"t"` // Unix nanoseconds (CLOCK_REALTIME, shared by lab and child)
	Col   string `json:"col"`
	Kind  string `json:"kind"`
	State        // for ObsApply: what the column serves now
	// AfterError: the apply followed a failed read (viper calls
	// OnConfigChange even when ReadInConfig failed; koanf's README
	// callback serves a fresh, empty koanf when Load failed).
	AfterError bool   `json:"after_error,omitempty"`
	Msg        string `json:"msg,omitempty"`
	Unchanged  uint64 `json:"unchanged,omitempty"` // ObsStatus: pipeline runs that found the content unchanged
	CPUNanos   int64  `json:"cpu_ns,omitempty"`    // ObsIdle
	WallNanos  int64  `json:"wall_ns,omitempty"`   // ObsIdle
	Data       []byte `json:"data,omitempty"`      // ObsResult: JSON
}

// Time returns T as a time.
func (o Observation) Time() time.Time { return time.Unix(0, o.T) }

// State identifies the content a column serves. Our pipeline reports the
// SHA-256 of the bytes it read (Hash); a peer reports the canonical digest
// of the map it loaded (Digest, see Digest), since it never exposes
// bytes.
type State struct {
	Version int64  `json:"version"` // -1 when the served map has no version key
	Keys    int    `json:"keys"`    // keys besides version
	Hash    string `json:"hash,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// ID is the oracle key of s.
func (s State) ID() string {
	if s.Hash != "" {
		return "h:" + s.Hash
	}
	return "d:" + s.Digest
}

// Describe says what s is in words, for torn-read samples.
func (s State) Describe() string {
	if s.Version < 0 {
		return fmt.Sprintf("no version, %d keys", s.Keys)
	}
	return fmt.Sprintf("version %d with %d keys", s.Version, s.Keys)
}

// Digest returns the canonical digest of a flat config map: SHA-256 over
// the sorted lines "key=value\n", values formatted with fmt.Sprint (so the
// integer version reads "17"). A map loaded by viper or koanf and the
// snapshot our parser makes of the same file give the same digest.
func Digest(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{'='})
		h.Write([]byte(m[k]))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// StateOfMap builds the State of a loaded map (peers).
func StateOfMap(all map[string]any) State {
	flat := make(map[string]string, len(all))
	for k, v := range all {
		flat[k] = fmt.Sprint(v)
	}
	st := State{Version: -1, Keys: len(flat), Digest: Digest(flat)}
	if v, ok := flat[config.VersionKey]; ok {
		st.Keys--
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			st.Version = n
		}
	}
	return st
}

// Written is one complete version a trial or experiment wrote: the oracle
// entry.
type Written struct {
	Version int64
	Hash    string // SHA-256 of the bytes
	Digest  string // canonical digest of the parsed map
	Keys    int
}

// OracleEntry parses data (a complete version the lab generated) and
// returns both of its identities.
func OracleEntry(data []byte) (Written, error) {
	snap, err := config.Parse(data)
	if err != nil {
		return Written{}, fmt.Errorf("detect: oracle: a written version does not parse: %w", err)
	}
	flat := map[string]string{config.VersionKey: strconv.FormatInt(snap.Version(), 10)}
	snap.Range(func(k, v string) bool { flat[k] = v; return true })
	sum := sha256.Sum256(data)
	return Written{Version: snap.Version(), Hash: hex.EncodeToString(sum[:]), Digest: Digest(flat), Keys: snap.Len()}, nil
}

// Oracle is the set of complete versions written in one trial, including
// the first.
type Oracle struct {
	byID map[string]Written
}

// NewOracle returns an empty oracle.
func NewOracle() *Oracle { return &Oracle{byID: map[string]Written{}} }

// Add records w as a complete version.
func (o *Oracle) Add(w Written) {
	o.byID["h:"+w.Hash] = w
	o.byID["d:"+w.Digest] = w
}

// Lookup returns the complete version s is, if it is one.
func (o *Oracle) Lookup(s State) (Written, bool) {
	w, ok := o.byID[s.ID()]
	return w, ok
}

// Same reports whether s serves exactly w.
func Same(s State, w Written) bool {
	if s.Hash != "" {
		return s.Hash == w.Hash
	}
	return s.Digest == w.Digest
}
