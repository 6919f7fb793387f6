package trigger

import (
	"path/filepath"

	"github.com/fsnotify/fsnotify"
)

// dirFilter decides which events in a watched directory concern the config
// file. It is symlink-aware: besides events on the file's own name, any
// event after which the file's resolved path differs (the Kubernetes ..data
// swap, a re-pointed symlink) counts. Not safe for concurrent use.
type dirFilter struct {
	path     string // cleaned config path
	dir      string // its parent directory, the watch
	resolved string // filepath.EvalSymlinks(path) after the last event, "" if unresolvable
	lastGood string // the last resolved path that was not ""
}

func newDirFilter(path string) *dirFilter {
	path = filepath.Clean(path)
	f := &dirFilter{path: path, dir: filepath.Dir(path)}
	f.refresh()
	return f
}

// refresh re-reads the resolved path, after a new watch was established.
func (f *dirFilter) refresh() {
	f.resolved, _ = filepath.EvalSymlinks(f.path)
	if f.resolved != "" {
		f.lastGood = f.resolved
	}
}

// relevant reports whether ev may have changed the config file's content,
// with a reason for the event log.
func (f *dirFilter) relevant(ev fsnotify.Event) (string, bool) {
	onName, moved := f.classify(ev.Name)
	if onName && ev.Op&^fsnotify.Chmod != 0 {
		return ev.Op.String() + " " + filepath.Base(ev.Name), true
	}
	if moved {
		return ev.Op.String() + " " + filepath.Base(ev.Name) + " (resolved target changed)", true
	}
	return "", false
}

// classify re-resolves the config path after an event on name and reports
// whether name is the config file's own name (onName) and whether the
// resolved path changed to another file that exists (moved: a symlink swap,
// or the file appearing again).
func (f *dirFilter) classify(name string) (onName, moved bool) {
	onName, moved, _ = f.classifySwap(name)
	return onName, moved
}

// classifySwap is classify that also reports whether the resolved path
// moved to another existing file than the last one it resolved to
// (swapped), as a symlink swap does, rather than the same file appearing
// again. A resolution that failed in between does not count: it can be a
// resolution racing the swap itself (the old target directory removed
// while EvalSymlinks walked through it).
func (f *dirFilter) classifySwap(name string) (onName, moved, swapped bool) {
	resolved, _ := filepath.EvalSymlinks(f.path)
	moved = resolved != f.resolved && resolved != ""
	swapped = moved && f.lastGood != "" && resolved != f.lastGood
	f.resolved = resolved
	if resolved != "" {
		f.lastGood = resolved
	}
	return filepath.Clean(name) == f.path, moved, swapped
}

// lostWatch reports whether ev says the watched directory itself went away,
// which ends the watch.
func (f *dirFilter) lostWatch(ev fsnotify.Event) bool {
	return filepath.Clean(ev.Name) == f.dir && ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0
}
