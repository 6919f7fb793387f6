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
}

func newDirFilter(path string) *dirFilter {
	path = filepath.Clean(path)
	f := &dirFilter{path: path, dir: filepath.Dir(path)}
	f.resolved, _ = filepath.EvalSymlinks(path)
	return f
}

// refresh re-reads the resolved path, after a new watch was established.
func (f *dirFilter) refresh() { f.resolved, _ = filepath.EvalSymlinks(f.path) }

// relevant reports whether ev may have changed the config file's content,
// with a reason for the event log.
func (f *dirFilter) relevant(ev fsnotify.Event) (string, bool) {
	resolved, _ := filepath.EvalSymlinks(f.path)
	moved := resolved != f.resolved
	f.resolved = resolved
	if filepath.Clean(ev.Name) == f.path && ev.Op&^fsnotify.Chmod != 0 {
		return ev.Op.String() + " " + filepath.Base(ev.Name), true
	}
	if moved && resolved != "" {
		return ev.Op.String() + " " + filepath.Base(ev.Name) + " (resolved target changed)", true
	}
	return "", false
}

// lostWatch reports whether ev says the watched directory itself went away,
// which ends the watch.
func (f *dirFilter) lostWatch(ev fsnotify.Event) bool {
	return filepath.Clean(ev.Name) == f.dir && ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0
}
