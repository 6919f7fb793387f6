package trigger

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Robust combines every defence the lab knows of:
//
//   - a DirWatch-style directory watch, symlink-aware, debounced, for low
//     latency where inotify works;
//   - a safety net: every SafetyInterval it fires regardless, and the
//     pipeline's content-hash check turns an unchanged file into a no-op.
//     This catches what inotify never reports (NFS, FUSE, a lost watch, a
//     dropped event) within one interval;
//   - on fsnotify.ErrEventOverflow it fires at once (a rescan), since the
//     dropped events may have been the change;
//   - a lost watch (directory removed, renamed or replaced, or a watch that
//     could not be added at start, for example at the inotify watch limit)
//     is reported and re-established on the next safety tick, after which it
//     fires a rescan; until then the safety net carries on alone;
//   - SIGUSR1 and SIGHUP fire at once.
//
// Start does not fail when inotify is unavailable; it reports the error to
// the Sink and runs on the safety net.
type Robust struct{ opts Options }

// Name returns "robust".
func (t *Robust) Name() string { return "robust" }

type robustRun struct {
	opts   Options
	sink   Sink
	filter *dirFilter
	deb    *debouncer
	sigs   chan os.Signal
	done   chan struct{}
	wg     sync.WaitGroup

	// Owned by the loop goroutine once it runs.
	w        *fsnotify.Watcher
	dirIno   uint64
	lastLost string
}

// Start establishes the watch if it can, installs the signal handler and
// starts the safety net.
func (t *Robust) Start(path string, sink Sink) (io.Closer, error) {
	r := &robustRun{
		opts:   t.opts,
		sink:   sink,
		filter: newDirFilter(path),
		sigs:   make(chan os.Signal, 1),
		done:   make(chan struct{}),
	}
	r.deb = newDebouncer(t.opts.Debounce, t.opts.MaxWait, sink)
	if err := r.watch(); err != nil {
		sink.Error(fmt.Errorf("trigger robust: %w; running on the %s safety poll until the watch can be added", err, t.opts.SafetyInterval))
	}
	signal.Notify(r.sigs, ReloadSignals...)
	r.wg.Add(1)
	go r.loop()
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
	r.dirIno = inode(r.filter.dir)
	r.filter.refresh()
	return nil
}

func (r *robustRun) dropWatch() {
	if r.w != nil {
		r.w.Close()
		r.w = nil
	}
}

func inode(path string) uint64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
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
				r.sink.Fire(Notice{Reason: "robust: directory " + ev.Op.String() + ", rescan", Seen: time.Now()})
				continue
			}
			if reason, ok := r.filter.relevant(ev); ok {
				r.deb.poke("robust: "+reason, time.Now())
			}
		case err := <-errs:
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				r.sink.Error(fmt.Errorf("trigger robust: %w; rescanning", err))
				r.sink.Fire(Notice{Reason: "robust: inotify queue overflow, rescan", Seen: time.Now()})
				continue
			}
			r.sink.Error(fmt.Errorf("trigger robust: %w", err))
		case s := <-r.sigs:
			r.sink.Fire(Notice{Reason: "robust: " + signalName(s), Seen: time.Now()})
		case now := <-tick.C:
			if r.w == nil || inode(r.filter.dir) != r.dirIno {
				if r.w != nil {
					r.lost("directory " + r.filter.dir + " replaced")
				}
				if err := r.watch(); err != nil {
					if msg := err.Error(); msg != r.lastLost {
						r.lastLost = msg
						r.sink.Error(fmt.Errorf("trigger robust: re-adding watch: %w", err))
					}
				} else {
					r.lastLost = ""
					r.sink.Fire(Notice{Reason: "robust: watch re-established, rescan", Seen: now})
					continue
				}
			}
			r.sink.Fire(Notice{Reason: "robust: safety poll", Seen: now})
		}
	}
}

func (r *robustRun) lost(what string) {
	r.dropWatch()
	r.sink.Error(fmt.Errorf("trigger robust: watch lost (%s); safety poll until it is re-added", what))
}
