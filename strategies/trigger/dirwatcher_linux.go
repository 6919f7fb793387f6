//go:build linux

package trigger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"
)

// closeWriteEvents reports whether robust's watch reports closes and renames
// into place apart from other writes and creations: yes, through a raw
// inotify watch (fsnotify keeps IN_CLOSE_WRITE unexported).
const closeWriteEvents = true

// Masks of robust's inotify watches: everything fsnotify's default watch
// asks for, plus IN_CLOSE_WRITE; on a bind-mounted config file itself, its
// writes, closes and link-count changes (IN_ATTRIB: an unlink on the other
// side of the mount).
const (
	inotifyDirMask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_MODIFY |
		unix.IN_CLOSE_WRITE | unix.IN_DELETE | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
	inotifyFileMask = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB
	inotifyLinkMask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_ONLYDIR
)

// noFileWatch turns the watch on a bind-mounted config file off, so that
// tests can check what the safety tick alone reports.
var noFileWatch atomic.Bool

// inotifyWatcher is one inotify instance watching a directory and, when the
// config file is a mount point of its own, the file. Its descriptor is
// non-blocking and read through an os.File, so the runtime's poller waits
// for events and Close wakes the reader (no pipe or eventfd needed).
type inotifyWatcher struct {
	f             *os.File
	dir, file     string
	dirWD, fileWD int32
	// linkDirs maps the watches on directories that hold a symlink of the
	// directory's path to those directories, and links holds the symlinks.
	linkDirs map[int32]string
	links    map[string]bool
	events   chan dirEvent
	errors   chan error
	done     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

// newDirWatcher watches dir, and file too when it is a mount point of its
// own (a single-file bind mount, whose changes made through another path
// reach no directory watch here).
func newDirWatcher(dir, file string) (dirWatcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	f := os.NewFile(uintptr(fd), "inotify")
	dwd, err := unix.InotifyAddWatch(fd, dir, inotifyDirMask)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("inotify_add_watch %s: %w", dir, err)
	}
	w := &inotifyWatcher{
		f: f, dir: dir, file: file, dirWD: int32(dwd), fileWD: -1,
		events: make(chan dirEvent), errors: make(chan error), done: make(chan struct{}),
	}
	if !noFileWatch.Load() && isMountPoint(file) {
		if fwd, err := unix.InotifyAddWatch(fd, file, inotifyFileMask); err == nil {
			w.fileWD = int32(fwd)
		}
	}
	w.watchLinks(fd)
	w.wg.Add(1)
	go w.read()
	return w, nil
}

// watchLinks watches, for every symlink on the lexical path of the watched
// directory (current in /srv/app/current/config.yaml), the directory that
// holds it, so that re-pointing the symlink is seen at once rather than at
// robust's next directory-replacement check. Failures are ignored: that
// check, on every safety tick, still catches the swap.
func (w *inotifyWatcher) watchLinks(fd int) {
	abs, err := filepath.Abs(w.dir)
	if err != nil {
		return
	}
	p := string(filepath.Separator)
	for _, part := range strings.Split(abs, string(filepath.Separator)) {
		if part == "" {
			continue
		}
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			continue
		}
		parent := filepath.Dir(p)
		wd, err := unix.InotifyAddWatch(fd, parent, inotifyLinkMask|unix.IN_MASK_ADD)
		if err != nil || int32(wd) == w.dirWD || int32(wd) == w.fileWD {
			continue
		}
		if w.linkDirs == nil {
			w.linkDirs, w.links = map[int32]string{}, map[string]bool{}
		}
		w.linkDirs[int32(wd)] = parent
		w.links[p] = true
	}
}

func (w *inotifyWatcher) Events() <-chan dirEvent { return w.events }
func (w *inotifyWatcher) Errors() <-chan error    { return w.errors }

// Close stops the reader and closes the instance; idempotent.
func (w *inotifyWatcher) Close() error {
	var err error
	w.once.Do(func() {
		close(w.done)
		err = w.f.Close()
		w.wg.Wait()
	})
	return err
}

// read reads events until Close.
func (w *inotifyWatcher) read() {
	defer w.wg.Done()
	buf := make([]byte, 64<<10)
	var batch []dirEvent
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			w.sendErr(fmt.Errorf("read inotify events: %w; the watch has stopped", err))
			return
		}
		batch = batch[:0]
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			wd := int32(binary.NativeEndian.Uint32(buf[off:]))
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			start := off + unix.SizeofInotifyEvent
			off = start + nameLen
			if off > n {
				break // cannot happen: the kernel writes whole events
			}
			name := string(bytes.TrimRight(buf[start:off], "\x00"))
			ev, err := w.convert(wd, mask, name)
			switch {
			case err != nil:
				if !w.sendErr(err) {
					return
				}
			case ev != nil:
				batch = append(batch, *ev)
			}
		}
		markSuperseded(batch)
		for _, ev := range batch {
			select {
			case w.events <- ev:
			case <-w.done:
				return
			}
		}
	}
}

// convert turns one inotify event into a dirEvent, an error (a queue
// overflow), or nothing (an event robust does not need).
func (w *inotifyWatcher) convert(wd int32, mask uint32, name string) (*dirEvent, error) {
	if mask&unix.IN_Q_OVERFLOW != 0 {
		return nil, fsnotify.ErrEventOverflow
	}
	ev := dirEvent{closeWrite: mask&unix.IN_CLOSE_WRITE != 0, movedTo: mask&unix.IN_MOVED_TO != 0}
	switch wd {
	case w.dirWD:
		if mask&unix.IN_IGNORED != 0 {
			// The watch is gone (the directory was deleted or unmounted);
			// IN_DELETE_SELF, when there was one, has said so already.
			mask |= unix.IN_DELETE_SELF
		}
		ev.name = w.dir
		if name != "" {
			ev.name = filepath.Join(w.dir, name)
		}
	case w.fileWD:
		if mask&unix.IN_IGNORED != 0 {
			return nil, nil // the file's own watch ended: the directory watch carries on
		}
		ev.name, ev.self = w.file, true
	default:
		parent, ok := w.linkDirs[wd]
		if !ok || name == "" || !w.links[filepath.Join(parent, name)] {
			return nil, nil
		}
		ev.name, ev.link = filepath.Join(parent, name), true
	}
	ev.op, ev.label = inotifyOp(mask)
	if ev.op == 0 && !ev.closeWrite {
		return nil, nil
	}
	return &ev, nil
}

func (w *inotifyWatcher) sendErr(err error) bool {
	select {
	case w.errors <- err:
		return true
	case <-w.done:
		return false
	}
}

// inotifyOp maps an inotify mask to fsnotify's portable operations (as
// fsnotify maps them) and to a label naming what inotify said.
func inotifyOp(mask uint32) (fsnotify.Op, string) {
	var op fsnotify.Op
	var names []string
	add := func(bit uint32, o fsnotify.Op, label string) {
		if mask&bit != 0 {
			op |= o
			names = append(names, label)
		}
	}
	add(unix.IN_CREATE, fsnotify.Create, "CREATE")
	add(unix.IN_MOVED_TO, fsnotify.Create, "MOVED_TO")
	add(unix.IN_DELETE|unix.IN_DELETE_SELF, fsnotify.Remove, "REMOVE")
	add(unix.IN_MODIFY, fsnotify.Write, "WRITE")
	add(unix.IN_MOVED_FROM|unix.IN_MOVE_SELF, fsnotify.Rename, "RENAME")
	add(unix.IN_ATTRIB, fsnotify.Chmod, "CHMOD")
	add(unix.IN_CLOSE_WRITE, 0, "CLOSE_WRITE")
	return op, strings.Join(names, "|")
}
