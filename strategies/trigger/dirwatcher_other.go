//go:build !linux

package trigger

import (
	"sync"

	"github.com/fsnotify/fsnotify"
)

// closeWriteEvents reports whether robust's watch reports closes and renames
// into place apart from other writes and creations: not here (fsnotify
// exports neither), so every event is debounced.
const closeWriteEvents = false

// fsnotifyDirWatcher adapts an fsnotify directory watch to dirWatcher.
type fsnotifyDirWatcher struct {
	w      *fsnotify.Watcher
	events chan dirEvent
	done   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

// newDirWatcher watches dir with fsnotify; file is not watched on its own
// here.
func newDirWatcher(dir, _ string) (dirWatcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, err
	}
	a := &fsnotifyDirWatcher{w: w, events: make(chan dirEvent), done: make(chan struct{})}
	a.wg.Add(1)
	go a.forward()
	return a, nil
}

func (a *fsnotifyDirWatcher) forward() {
	defer a.wg.Done()
	for {
		select {
		case <-a.done:
			return
		case ev, ok := <-a.w.Events:
			if !ok {
				return
			}
			select {
			case a.events <- dirEvent{name: ev.Name, op: ev.Op, label: ev.Op.String()}:
			case <-a.done:
				return
			}
		}
	}
}

func (a *fsnotifyDirWatcher) Events() <-chan dirEvent { return a.events }
func (a *fsnotifyDirWatcher) Errors() <-chan error    { return a.w.Errors }

func (a *fsnotifyDirWatcher) Close() error {
	var err error
	a.once.Do(func() {
		close(a.done)
		err = a.w.Close()
		a.wg.Wait()
	})
	return err
}
