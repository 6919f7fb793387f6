package bench

import (
	"context"
	"sync"
	"syscall"
	"time"

	"reloadlab/harness/analysis"
	"reloadlab/harness/target"
	"reloadlab/harness/writepattern"
	"reloadlab/strategies/config"
)

// configName is the config file's name in the work directory.
const configName = "config.yaml"

// reloadWriter rewrites the config on a schedule set per phase, and keeps
// a log of every complete version it wrote.
type reloadWriter struct {
	dir      string
	keys     int
	every    time.Duration
	pattern  writepattern.Pattern
	signal   bool // send SIGUSR1 to the target after each write
	proc     *target.Process
	onError  func(error)
	mu       sync.Mutex
	phase    string
	mode     string // "off", "continuous" or "alternating"
	started  time.Time
	block    time.Duration
	version  int64
	writes   []analysis.Write
	failures int
	next     []byte // the next version's content, generated ahead of its write (writer goroutine only)
}

// setPhase switches the schedule at the start of a phase.
func (w *reloadWriter) setPhase(spec phaseSpec, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.phase, w.mode, w.started, w.block = spec.Name, spec.Reloads, now, spec.Block
}

// pause stops writing until the next setPhase.
func (w *reloadWriter) pause() {
	w.mu.Lock()
	w.mode = "off"
	w.mu.Unlock()
}

// due reports whether a write is scheduled now, and in which phase.
func (w *reloadWriter) due(now time.Time) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch w.mode {
	case "continuous":
		return w.phase, true
	case "alternating":
		// even blocks reload, odd blocks are quiet
		return w.phase, w.block <= 0 || (now.Sub(w.started)/w.block)%2 == 0
	}
	return "", false
}

// run writes on every tick that is due until ctx is done. Half an
// interval after each write it generates the next version's content, so
// that work falls at the same place relative to every strategy's reload
// window, not at the write instant (which lies outside the window of a
// debounced trigger but inside that of a signal).
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
			if w.next == nil {
				w.next = config.Generate(w.version+1, w.keys)
			}
		case now := <-tick.C:
			phase, ok := w.due(now)
			if !ok {
				continue
			}
			if err := w.writeOnce(ctx, phase); err != nil && ctx.Err() == nil {
				w.onError(err)
			}
			prepare.Reset(w.every / 2)
		}
	}
}

// writeOnce writes the next version(s), using the content run prepared
// ahead of time, so the write instant costs the load generator's CPU only
// the write's own system calls, not formatting a 10k-key file.
func (w *reloadWriter) writeOnce(ctx context.Context, phase string) error {
	var pending []analysis.Write
	next := func() []byte {
		w.mu.Lock()
		w.version++
		v := w.version
		w.mu.Unlock()
		pending = append(pending, analysis.Write{Version: v, Phase: phase, Start: time.Now()})
		if data := w.next; data != nil {
			w.next = nil
			return data
		}
		return config.Generate(v, w.keys)
	}
	_, err := w.pattern.Write(ctx, w.dir, configName, next)
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
