package trigger

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DirWatch watches the config file's parent directory, as fsnotify's README
// recommends and viper and koanf do: it sees renames over the file, editor
// saves and the Kubernetes ..data symlink swap. Events are filtered to the
// file's name or to a change of its resolved path, then debounced: the
// trigger fires Debounce after the last relevant event (at most MaxWait
// after the first).
//
// What it does not do, on purpose (robust does): it does not rescan after an
// inotify queue overflow (the error is reported and the change may be lost),
// it does not re-establish a watch whose directory was removed or renamed,
// and it sees nothing on file systems without inotify events. The zero value
// debounces by DefaultDebounce.
type DirWatch struct{ opts Options }

// Name returns "dirwatch".
func (t *DirWatch) Name() string { return "dirwatch" }

// Start adds the directory watch and begins the event loop. An error adding
// the watch (for example the inotify watch limit) is returned.
func (t *DirWatch) Start(path string, sink Sink) (io.Closer, error) {
	if err := validateStart("dirwatch", path, sink); err != nil {
		return nil, err
	}
	o := t.opts.withDefaults()
	filter := newDirFilter(path)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("trigger dirwatch: new watcher: %w", err)
	}
	if err := w.Add(filter.dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("trigger dirwatch: watch %s: %w", filter.dir, err)
	}
	deb := newDebouncer(o.Debounce, o.MaxWait, sink)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if filter.lostWatch(ev) {
					sink.Error(fmt.Errorf("trigger dirwatch: %s %s: the directory watch is gone; no further changes will be seen", ev.Op, filter.dir))
					continue
				}
				if reason, ok := filter.relevant(ev); ok {
					deb.poke("dirwatch: "+reason, time.Now())
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				if errors.Is(err, fsnotify.ErrEventOverflow) {
					err = fmt.Errorf("%w (events were dropped; dirwatch does not rescan)", err)
				}
				sink.Error(fmt.Errorf("trigger dirwatch: %w", err))
			}
		}
	}()
	return closerFunc(func() error {
		deb.stop()
		select {
		case <-done:
			return nil
		default:
		}
		close(done)
		err := w.Close()
		wg.Wait()
		return err
	}), nil
}
