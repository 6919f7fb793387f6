package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/target"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies/config"
)

// configName is the config file's name in the work directory.
const configName = "config.yaml"

// content is one prepared write: its kind, bytes, hash and version.
type content struct {
	kind    string
	data    []byte
	hash    string
	version int64
}

// reloadWriter changes the config every interval while a phase asks it
// to, in the phase's mix of shot kinds, and keeps a log of every write.
type reloadWriter struct {
	dir     string
	keys    int
	every   time.Duration
	pattern writepattern.Pattern
	signal  bool // send SIGUSR1 to the target after each write
	proc    *target.Process
	// put, when set, replaces the file write: the config lives in a store
	// (etcd) and each change is one put of the new bytes.
	put func(ctx context.Context, data []byte) error
	// change, when set, replaces the write altogether: an external target
	// is asked to serve the version (its config is not the lab's file).
	change  func(ctx context.Context, version int64) error
	onError func(error)

	mu       sync.Mutex
	phase    string
	mix      []string // kinds of the current phase; nil = off
	started  time.Time
	version  int64  // highest version number used (applied or rejected)
	serving  []byte // the last reload content written (what an identical rewrite repeats)
	writes   []analysis.Write
	failures int

	// Writer goroutine only.
	rng   *rand.Rand
	deck  []string // kinds left in the current shuffled block
	ready *content // the next write, prepared half an interval ahead
}

func newReloadWriter(dir string, keys int, every time.Duration, p writepattern.Pattern, signal bool, proc *target.Process, initial []byte, onError func(error)) *reloadWriter {
	return &reloadWriter{
		dir: dir, keys: keys, every: every, pattern: p, signal: signal, proc: proc, onError: onError,
		version: 1, serving: initial, rng: rand.New(rand.NewPCG(7, 11)),
	}
}

// setPhase starts writing in mix at the start of a phase.
func (w *reloadWriter) setPhase(name string, mix []string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.phase, w.mix, w.started = name, mix, now
}

// pause stops writing until the next setPhase.
func (w *reloadWriter) pause() {
	w.mu.Lock()
	w.mix = nil
	w.mu.Unlock()
}

func (w *reloadWriter) current() (string, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.phase, w.mix
}

// nextKind deals the next kind from a shuffled deck of the mix, so every
// block of len(mix) writes holds the mix exactly, in a random order.
func (w *reloadWriter) nextKind(mix []string) string {
	if len(w.deck) == 0 || !sameSet(w.deck, mix) {
		w.deck = append(w.deck[:0], mix...)
		w.rng.Shuffle(len(w.deck), func(i, j int) { w.deck[i], w.deck[j] = w.deck[j], w.deck[i] })
	}
	k := w.deck[0]
	w.deck = w.deck[1:]
	return k
}

func sameSet(deck, mix []string) bool {
	in := map[string]bool{}
	for _, k := range mix {
		in[k] = true
	}
	for _, k := range deck {
		if !in[k] {
			return false
		}
	}
	return true
}

// prepare builds the bytes of a write of kind, so that the write instant
// costs the load generator's CPU only the write's own system calls.
func (w *reloadWriter) prepare(kind string) *content {
	w.mu.Lock()
	v := w.version
	serving := w.serving
	w.mu.Unlock()
	c := &content{kind: kind}
	if w.change != nil { // an external target: only reloads, no bytes
		c.kind, c.version = analysis.KindReload, v+1
		return c
	}
	switch kind {
	case analysis.KindIdentical:
		c.data, c.version = serving, v
	case analysis.KindReject:
		c.data, c.version = RejectedConfig(v+1, w.keys), v+1
	default:
		c.kind = analysis.KindReload
		c.data, c.version = config.Generate(v+1, w.keys), v+1
	}
	sum := sha256.Sum256(c.data)
	c.hash = hex.EncodeToString(sum[:])
	return c
}

// RejectedConfig returns a config of version v with keys keys that parses
// to its last line and is then rejected: the last line repeats the first
// key. The pipeline pays the whole parse and validation, and applies
// nothing.
func RejectedConfig(v int64, keys int) []byte {
	data := config.Generate(v, keys)
	first := bytes.Index(data, []byte("\n")) + 1 // after "version: v"
	end := bytes.Index(data[first:], []byte("\n"))
	if end < 0 {
		return append(data, "version: 0\n"...)
	}
	return append(data, data[first:first+end+1]...)
}

// run writes once every interval while a phase's mix is set, until ctx is
// done. Half an interval after each write it prepares the next one.
func (w *reloadWriter) run(ctx context.Context) {
	tick := time.NewTicker(w.every)
	defer tick.Stop()
	prepare := time.NewTimer(w.every / 2)
	defer prepare.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-prepare.C:
			if _, mix := w.current(); w.ready == nil && len(mix) > 0 {
				w.ready = w.prepare(w.nextKind(mix))
			}
		case <-tick.C:
			phase, mix := w.current()
			if len(mix) == 0 {
				continue
			}
			c := w.ready
			w.ready = nil
			if c == nil || !contains(mix, c.kind) {
				c = w.prepare(w.nextKind(mix))
			}
			if err := w.writeOnce(ctx, phase, c); err != nil && ctx.Err() == nil {
				w.onError(err)
			}
			prepare.Reset(w.every / 2)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// writeOnce performs one write of c with the pattern. A pattern that asks
// for several contents (a burst) gets c first and then fresh versions of
// the same kind.
func (w *reloadWriter) writeOnce(ctx context.Context, phase string, c *content) error {
	var pending []analysis.Write
	first := true
	next := func() []byte {
		cur := c
		if !first {
			cur = w.prepare(c.kind)
		}
		first = false
		w.mu.Lock()
		w.version = max(w.version, cur.version)
		if cur.kind == analysis.KindReload {
			w.serving = cur.data
		}
		w.mu.Unlock()
		pending = append(pending, analysis.Write{Version: cur.version, Kind: cur.kind, Hash: cur.hash, Phase: phase, Start: time.Now()})
		return cur.data
	}
	var err error
	if w.change != nil {
		next()
		err = w.change(ctx, c.version)
	} else if w.put != nil {
		err = w.put(ctx, next())
	} else {
		_, err = w.pattern.Write(ctx, w.dir, configName, next)
	}
	if err == nil && w.signal {
		err = w.proc.Signal(syscall.SIGUSR1)
	}
	end := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.failures++
		return err
	}
	for i := range pending {
		pending[i].End = end
	}
	w.writes = append(w.writes, pending...)
	return nil
}

// log returns the writes so far.
func (w *reloadWriter) log() []analysis.Write {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]analysis.Write(nil), w.writes...)
}
