package trigger

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// FileWatch is the article's scheme 1, as written: an fsnotify watch on the
// config file's own path; every Write or Rename event schedules a re-read
// Delay later with time.AfterFunc, "to avoid reading vim's unfinished
// write". Its defects are kept on purpose, it is the lab's control:
//
//   - the watch follows the inode: after a rename over the file (mv, sed -i,
//     vim, JetBrains, the Kubernetes ..data swap) fsnotify drops it and no
//     event ever comes again;
//   - Remove, Create and Chmod are ignored, so a replaced file is missed;
//   - the error from Add is ignored (reported to the Sink, not returned), so
//     a path that cannot be watched gives a service that silently never
//     reloads;
//   - no debounce: every event schedules its own re-read;
//   - the fixed delay is a guess: a writer pausing longer is read half done.
//
// The zero value waits DefaultDelay.
type FileWatch struct{ opts Options }

// Name returns "fsnotify".
func (t *FileWatch) Name() string { return "fsnotify" }

// Start adds the watch and begins the event loop.
func (t *FileWatch) Start(path string, sink Sink) (io.Closer, error) {
	if err := validateStart("fsnotify", path, sink); err != nil {
		return nil, err
	}
	o := t.opts.withDefaults()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		// The article's `w, _ := fsnotify.NewWatcher()` would go on to panic
		// on a nil watcher; the lab reports the error instead.
		return nil, fmt.Errorf("trigger fsnotify: new watcher: %w", err)
	}
	if err := w.Add(path); err != nil {
		sink.Error(fmt.Errorf("trigger fsnotify: add %s: %w (ignored, as in the article: this service will never reload)", path, err))
	}
	run := &fileWatchRun{w: w, delay: o.Delay, sink: sink, done: make(chan struct{})}
	run.loopDone.Add(1)
	go run.loop()
	return closerFunc(run.close), nil
}

type fileWatchRun struct {
	w        *fsnotify.Watcher
	delay    time.Duration
	sink     Sink
	done     chan struct{}
	loopDone sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	pending map[*time.Timer]struct{}
	timers  sync.WaitGroup
}

func (r *fileWatchRun) loop() {
	defer r.loopDone.Done()
	for {
		select {
		case <-r.done:
			return
		case e, ok := <-r.w.Events:
			if !ok {
				return
			}
			if e.Op&fsnotify.Write == fsnotify.Write || e.Op&fsnotify.Rename == fsnotify.Rename {
				r.schedule(Notice{Reason: "fsnotify: " + e.Op.String() + " " + e.Name, Seen: time.Now()})
			}
		case err, ok := <-r.w.Errors:
			if !ok {
				return
			}
			r.sink.Error(fmt.Errorf("trigger fsnotify: watcher error: %w", err))
		}
	}
}

// schedule is the article's time.AfterFunc(100*time.Millisecond, reload),
// with bookkeeping so that Close can cancel pending timers.
func (r *fileWatchRun) schedule(n Notice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.pending == nil {
		r.pending = map[*time.Timer]struct{}{}
	}
	r.timers.Add(1)
	var tm *time.Timer
	tm = time.AfterFunc(r.delay, func() {
		defer r.timers.Done()
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.pending, tm)
		if !r.closed {
			r.sink.Fire(n)
		}
	})
	r.pending[tm] = struct{}{}
}

func (r *fileWatchRun) close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	for tm := range r.pending {
		if tm.Stop() {
			r.timers.Done()
		}
		delete(r.pending, tm)
	}
	r.mu.Unlock()
	close(r.done)
	err := r.w.Close()
	r.loopDone.Wait()
	r.timers.Wait()
	return err
}
