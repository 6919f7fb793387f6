package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"time"

	"reloadlab/strategies/config"
)

// Observation kinds, as written by a column (in the lab or in a child, one
// JSON object per line).
const (
	obsStarted    = "started"     // the column's watch is established
	obsStartError = "start-error" // the column could not start; Msg says why
	obsReady      = "ready"       // the child started all its columns
	obsApply      = "apply"       // the column now serves new content
	obsRejected   = "rejected"    // a read failed to read or parse; the old content serves (viper, our pipeline)
	obsError      = "error"       // a trigger error, or a peer's watch ending; Msg says what
	obsStatus     = "status"      // final counters (Unchanged), written when the column stops
	obsIdle       = "idle"        // idle-cost result (CPU)
	obsResult     = "result"      // an experiment's result (Data)
)

// observation is one thing a column reported.
type observation struct {
	T     int64  `json:"t"` // Unix nanoseconds (CLOCK_REALTIME, shared by lab and child)
	Col   string `json:"col"`
	Kind  string `json:"kind"`
	State        // for obsApply: what the column serves now
	// AfterError: the apply followed a failed read (viper calls
	// OnConfigChange even when ReadInConfig failed; koanf's README
	// callback serves a fresh, empty koanf when Load failed).
	AfterError bool   `json:"after_error,omitempty"`
	Msg        string `json:"msg,omitempty"`
	Unchanged  uint64 `json:"unchanged,omitempty"` // obsStatus: pipeline runs that found the content unchanged
	CPUNanos   int64  `json:"cpu_ns,omitempty"`    // obsIdle
	WallNanos  int64  `json:"wall_ns,omitempty"`   // obsIdle
	Data       []byte `json:"data,omitempty"`      // obsResult: JSON
}

func (o observation) time() time.Time { return time.Unix(0, o.T) }

// State identifies the content a column serves. Our pipeline reports the
// SHA-256 of the bytes it read (Hash); a peer reports the canonical digest
// of the map it loaded (Digest, see digestOf), since it never exposes
// bytes.
type State struct {
	Version int64  `json:"version"` // -1 when the served map has no version key
	Keys    int    `json:"keys"`    // keys besides version
	Hash    string `json:"hash,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// id is the oracle key of s.
func (s State) id() string {
	if s.Hash != "" {
		return "h:" + s.Hash
	}
	return "d:" + s.Digest
}

// describe says what s is in words, for torn-read samples.
func (s State) describe() string {
	if s.Version < 0 {
		return fmt.Sprintf("no version, %d keys", s.Keys)
	}
	return fmt.Sprintf("version %d with %d keys", s.Version, s.Keys)
}

// digestOf returns the canonical digest of a flat config map: SHA-256 over
// the sorted lines "key=value\n", values formatted with fmt.Sprint (so the
// integer version reads "17"). A map loaded by viper or koanf and the
// snapshot our parser makes of the same file give the same digest.
func digestOf(m map[string]string) string {
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

// stateOfMap builds the State of a loaded map (peers).
func stateOfMap(all map[string]any) State {
	flat := make(map[string]string, len(all))
	for k, v := range all {
		flat[k] = fmt.Sprint(v)
	}
	st := State{Version: -1, Keys: len(flat), Digest: digestOf(flat)}
	if v, ok := flat[config.VersionKey]; ok {
		st.Keys--
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			st.Version = n
		}
	}
	return st
}

// written is one complete version a trial wrote: the oracle entry.
type written struct {
	Version int64
	Hash    string // SHA-256 of the bytes
	Digest  string // canonical digest of the parsed map
	Keys    int
}

// oracleEntry parses data (a complete version the lab generated) and
// returns both of its identities.
func oracleEntry(data []byte) (written, error) {
	snap, err := config.Parse(data)
	if err != nil {
		return written{}, fmt.Errorf("detect: oracle: a written version does not parse: %w", err)
	}
	flat := map[string]string{config.VersionKey: strconv.FormatInt(snap.Version(), 10)}
	snap.Range(func(k, v string) bool { flat[k] = v; return true })
	sum := sha256.Sum256(data)
	return written{Version: snap.Version(), Hash: hex.EncodeToString(sum[:]), Digest: digestOf(flat), Keys: snap.Len()}, nil
}

// oracle is the set of complete versions written in one trial, including
// the first.
type oracle struct {
	byID map[string]written
}

func newOracle() *oracle { return &oracle{byID: map[string]written{}} }

func (o *oracle) add(w written) {
	o.byID["h:"+w.Hash] = w
	o.byID["d:"+w.Digest] = w
}

// lookup returns the complete version s is, if it is one.
func (o *oracle) lookup(s State) (written, bool) {
	w, ok := o.byID[s.id()]
	return w, ok
}

// same reports whether s serves exactly w.
func same(s State, w written) bool {
	if s.Hash != "" {
		return s.Hash == w.Hash
	}
	return s.Digest == w.Digest
}
