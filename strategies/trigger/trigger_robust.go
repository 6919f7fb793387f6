package trigger

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/reloadlab/reloadlab/strategies/safefile"
)

// Robust combines every defence the lab knows of:
//
//   - a DirWatch-style directory watch, symlink-aware, debounced, for low
//     latency where inotify works;
//   - a safety net: every SafetyInterval it reads and hashes the file
//     itself. When the content differs from the last look it may be in the
//     middle of being written (an in-place writer between its truncate and
//     its last write), so the net re-hashes every Debounce and fires only
//     once the content has stayed the same for one Debounce (at most MaxWait
//     after it first saw the change): a file being written is not read
//     half done, whether or not inotify reports the writes. Content that
//     stays the same is fired again every safetyRefire intervals, so a
//     pipeline run that failed transiently is retried, and the pipeline's
//     content-hash check turns it into a no-op. This catches what inotify
//     never reports (NFS, FUSE, a lost watch, a dropped event, a content
//     change that keeps mtime and size) within one interval plus Debounce;
//   - on fsnotify.ErrEventOverflow it fires at once (a rescan), since the
//     dropped events may have been the change;
//   - a lost watch (directory removed, renamed or replaced, or a watch that
//     could not be added at start, for example at the inotify watch limit)
//     is reported and re-established on the next safety tick, after which it
//     fires a rescan; until then the safety net carries on alone;
//   - the signals in its Options fire at once (New("robust"): ReloadSignals;
//     NewRobust and the zero value: none unless WithSignals names some).
//
// Start does not fail when inotify is unavailable; it reports the error to
// the Sink and runs on the safety net. Whatever runs with less than full
// strength (no watch yet, a lost watch, signals or a directory-replacement
// check the platform lacks) is also reported to a DegradedSink, and the
// note is cleared when the watch is back.
//
// The zero value is ready to use: every interval takes its default when
// Start runs (NewRobust sets them).
type Robust struct{ opts Options }

// Name returns "robust".
func (t *Robust) Name() string { return "robust" }

// safetyRefire is how many safety intervals unchanged content goes without
// a fire.
const safetyRefire = 10

type robustRun struct {
	opts   Options
	sink   Sink
	filter *dirFilter
	deb    *debouncer
	sigs   chan os.Signal
	done   chan struct{}
	wg     sync.WaitGroup
	// platform lists what this platform cannot do (fixed at Start).
	platform []string

	// Owned by the loop goroutine once it runs.
	w        *fsnotify.Watcher
	dirIno   uint64
	lastLost string
	noWatch  string // why there is no watch now, "" while watching
	reported string // the last degradation note sent
}

// Start establishes the watch if it can, installs the signal handler and
// starts the safety net.
func (t *Robust) Start(path string, sink Sink) (io.Closer, error) {
	if err := validateStart("robust", path, sink); err != nil {
		return nil, err
	}
	o := t.opts.withDefaults()
	r := &robustRun{
		opts:   o,
		sink:   sink,
		filter: newDirFilter(path),
		sigs:   make(chan os.Signal, 1),
		done:   make(chan struct{}),
	}
	if !dirIDSupported {
		r.platform = append(r.platform, "no directory-replacement check on this platform (the safety poll covers a replaced directory)")
	}
	sigs, note := deliverable(o.Signals)
	if note != "" {
		r.platform = append(r.platform, note)
	}
	r.deb = newDebouncer(o.Debounce, o.MaxWait, sink)
	if err := r.watch(); err != nil {
		r.noWatch = "no directory watch (" + err.Error() + ")"
		sink.Error(fmt.Errorf("trigger robust: %w; running on the %s safety poll until the watch can be added", err, o.SafetyInterval))
	}
	r.report()
	if len(sigs) > 0 {
		signal.Notify(r.sigs, sigs...)
	}
	first := r.hash()
	r.wg.Add(2)
	go r.loop()
	go r.safetyNet(first)
	var once sync.Once
	return closerFunc(func() error {
		once.Do(func() {
			signal.Stop(r.sigs)
			r.deb.stop()
			close(r.done)
			r.wg.Wait()
		})
		return nil
	}), nil
}

// watch (re-)establishes the directory watch.
func (r *robustRun) watch() error {
	r.dropWatch()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("new watcher: %w", err)
	}
	if err := w.Add(r.filter.dir); err != nil {
		w.Close()
		return fmt.Errorf("watch %s: %w", r.filter.dir, err)
	}
	r.w = w
	r.dirIno = dirID(r.filter.dir)
	r.filter.refresh()
	return nil
}

func (r *robustRun) dropWatch() {
	if r.w != nil {
		r.w.Close()
		r.w = nil
	}
}

// report tells a DegradedSink what the run lacks now, when that changed.
func (r *robustRun) report() {
	var parts []string
	if r.noWatch != "" {
		parts = append(parts, r.noWatch+"; running on the "+r.opts.SafetyInterval.String()+" safety poll")
	}
	parts = append(parts, r.platform...)
	note := ""
	if len(parts) > 0 {
		note = "robust: " + strings.Join(parts, "; ")
	}
	if note != r.reported {
		r.reported = note
		degrade(r.sink, note)
	}
}

func (r *robustRun) loop() {
	defer r.wg.Done()
	defer r.dropWatch()
	tick := time.NewTicker(r.opts.SafetyInterval)
	defer tick.Stop()
	for {
		var events <-chan fsnotify.Event
		var errs <-chan error
		if r.w != nil {
			events, errs = r.w.Events, r.w.Errors
		}
		select {
		case <-r.done:
			return
		case ev := <-events:
			if r.filter.lostWatch(ev) {
				r.lost(fmt.Sprintf("%s %s", ev.Op, r.filter.dir))
				r.sink.Fire(Notice{Reason: "robust: directory " + ev.Op.String() + ", rescan", Seen: time.Now(), Rescan: true})
				continue
			}
			if reason, ok := r.filter.relevant(ev); ok {
				r.deb.poke("robust: "+reason, time.Now())
			}
		case err := <-errs:
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				r.sink.Error(fmt.Errorf("trigger robust: %w; rescanning", err))
				r.sink.Fire(Notice{Reason: "robust: inotify queue overflow, rescan", Seen: time.Now(), Rescan: true})
				continue
			}
			r.sink.Error(fmt.Errorf("trigger robust: %w", err))
		case s := <-r.sigs:
			r.sink.Fire(Notice{Reason: "robust: " + SignalName(s), Seen: time.Now()})
		case now := <-tick.C:
			if r.w == nil || dirID(r.filter.dir) != r.dirIno {
				if r.w != nil {
					r.lost("directory " + r.filter.dir + " replaced")
				}
				if err := r.watch(); err != nil {
					if msg := err.Error(); msg != r.lastLost {
						r.lastLost = msg
						r.sink.Error(fmt.Errorf("trigger robust: re-adding watch: %w", err))
					}
				} else {
					r.lastLost, r.noWatch = "", ""
					r.report()
					r.sink.Fire(Notice{Reason: "robust: watch re-established, rescan", Seen: now, Rescan: true})
				}
			}
		}
	}
}

// safetyNet is the content poll described on Robust; prev is the hash of
// the content when watching began.
func (r *robustRun) safetyNet(prev []byte) {
	defer r.wg.Done()
	tick := time.NewTicker(r.opts.SafetyInterval)
	defer tick.Stop()
	quiet := 0
	for {
		select {
		case <-r.done:
			return
		case now := <-tick.C:
			cur := r.hash()
			if !bytes.Equal(cur, prev) {
				settled, ok := r.settle(cur)
				if !ok {
					return
				}
				prev, quiet = settled, 0
				r.sink.Fire(Notice{Reason: "robust: safety poll, content changed", Seen: now})
				continue
			}
			if quiet++; quiet >= safetyRefire {
				quiet = 0
				r.sink.Fire(Notice{Reason: "robust: safety poll", Seen: now})
			}
		}
	}
}

// settle re-hashes the file every Debounce until two looks in a row agree
// (the writer has stopped) or MaxWait has passed, and returns the last
// hash; false means the trigger was closed meanwhile.
func (r *robustRun) settle(cur []byte) ([]byte, bool) {
	deadline := time.Now().Add(r.opts.MaxWait)
	t := time.NewTimer(r.opts.Debounce)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return nil, false
		case <-t.C:
		}
		next := r.hash()
		if bytes.Equal(next, cur) || !time.Now().Before(deadline) {
			return next, true
		}
		cur = next
		t.Reset(r.opts.Debounce)
	}
}

// hash returns the SHA-256 of the file's content, or nil if it cannot be
// read (a state of its own: a file that disappears is a change too).
func (r *robustRun) hash() []byte {
	data, err := safefile.Read(r.filter.path, r.opts.SizeLimit)
	if err != nil {
		return nil
	}
	h := sha256.Sum256(data)
	return h[:]
}

func (r *robustRun) lost(what string) {
	r.dropWatch()
	r.noWatch = "directory watch lost (" + what + ")"
	r.sink.Error(fmt.Errorf("trigger robust: watch lost (%s); safety poll until it is re-added", what))
	r.report()
}
