package trigger

import "github.com/fsnotify/fsnotify"

// dirEvent is one event robust's directory watch reports.
type dirEvent struct {
	name string      // the path the event is about (the directory itself for its own events)
	op   fsnotify.Op // the portable operations (Create also for a rename into place)
	// closeWrite: a file opened for writing was closed (inotify's
	// IN_CLOSE_WRITE); the writer is done with it.
	closeWrite bool
	// movedTo: a file was renamed into the directory under name (inotify's
	// IN_MOVED_TO); it is complete, whoever wrote it.
	movedTo bool
	// self: the event came from the watch on the config file itself, which
	// robust adds when the file is a mount point of its own (a single-file
	// bind mount): its writes, closes and link-count changes are seen there
	// whichever path the writer used.
	self bool
	// link: the event is about a symlink on the path of the config's
	// directory (name is that symlink's path), seen through a watch on the
	// directory holding it, which robust adds so that re-pointing it (a
	// release directory swap: current -> releases/N) is seen at once.
	link bool
	// superseded: the same read of the event queue already holds a later
	// write, creation, removal or rename of the same name, so the close or
	// rename this event reports is not the file's last state (a burst of
	// saves in progress). Robust debounces it instead of reading at once.
	superseded bool
	label      string // the operations for the event log, e.g. "CLOSE_WRITE" or "MOVED_TO"
}

// markSuperseded sets superseded on every close or rename into place in
// batch that a later event in batch changes again.
func markSuperseded(batch []dirEvent) {
	changed := map[string]bool{} // names changed by an event after the current one
	for i := len(batch) - 1; i >= 0; i-- {
		ev := &batch[i]
		if (ev.closeWrite || ev.movedTo) && changed[ev.name] {
			ev.superseded = true
		}
		if ev.op&(fsnotify.Write|fsnotify.Create|fsnotify.Remove|fsnotify.Rename) != 0 {
			changed[ev.name] = true
		}
	}
}

// dirWatcher is robust's watch on the config file's directory (and, on
// Linux, on a bind-mounted config file itself). Close stops it; Events and
// Errors are not closed.
type dirWatcher interface {
	Events() <-chan dirEvent
	Errors() <-chan error
	Close() error
}
