package trigger

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/reloadlab/reloadlab/strategies/safefile"
)

// Robust combines every defence the lab knows of:
//
//   - a DirWatch-style directory watch, symlink-aware, for low latency
//     where inotify works. What says the file is complete is acted on at
//     once: a rename into place of the file or of a symlink on its path
//     (inotify's IN_MOVED_TO: mv, sed -i, editors' safe saves, the
//     Kubernetes ..data swap), a new symlink, and on Linux the close of the
//     file by a writer that had it open for writing (IN_CLOSE_WRITE, read
//     through a raw inotify watch since fsnotify does not export it). What
//     may be a write in progress (a write, truncation or creation not yet
//     closed, a removal) is debounced: the trigger fires Debounce after the
//     last such event (at most MaxWait after the first), unless a close or
//     rename comes first. In a burst of saves, a close or rename that a
//     later change already queued behind it supersedes is debounced too, and
//     so is a close that finds the file empty (the next writer has truncated
//     it); fires that arrive while the pipeline runs coalesce there into one
//     more run. Elsewhere (fsnotify reports neither closes nor renames into
//     place apart) every event but a symlink swap is debounced;
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
//   - a stale check, on every safety tick and after the events it sees:
//     when the path resolves to a file whose link count is 0, the file was
//     replaced where no process behind the path can follow (the source of
//     a single-file bind mount or of a Kubernetes subPath mount replaced by
//     a rename). It tells a StaleSink once per episode, with a reason that
//     says to mount the directory, not the file, and again with "" (plus a
//     rescan) when the path can be followed again. When the config file is
//     a mount point of its own (Linux), robust also watches the file itself,
//     so a write made through the other side of the mount, and the unlink
//     that makes it stale, are seen at once instead of at the next tick;
//   - on fsnotify.ErrEventOverflow it fires at once (a rescan), since the
//     dropped events may have been the change;
//   - on Linux, a watch on the directory holding each symlink on the path
//     of the config's directory (current in /srv/app/current/config.yaml):
//     when a deploy re-points it at a new release directory, the watch
//     moves there and a rescan fires at once (elsewhere the
//     directory-replacement check on the next safety tick does it);
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

// staleConfirm is how long robust waits before it looks again at a path
// that resolved to an unlinked file but is not known to be a mount point: a
// stat that races an unlink of an ordinary file can see st_nlink 0 once.
const staleConfirm = 20 * time.Millisecond

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
	// staleCheck asks the safety goroutine to run the stale check now.
	staleCheck chan struct{}

	// Owned by the loop goroutine once it runs.
	w        dirWatcher
	dirIno   uint64
	lastLost string
	noWatch  string // why there is no watch now, "" while watching
	reported string // the last degradation note sent

	// Owned by the safety goroutine.
	stale string // the stale reason reported, "" while the file is followed
}

// Start establishes the watch if it can, installs the signal handler and
// starts the safety net.
func (t *Robust) Start(path string, sink Sink) (io.Closer, error) {
	if err := validateStart("robust", path, sink); err != nil {
		return nil, err
	}
	o := t.opts.withDefaults()
	r := &robustRun{
		opts:       o,
		sink:       sink,
		filter:     newDirFilter(path),
		sigs:       make(chan os.Signal, 1),
		done:       make(chan struct{}),
		staleCheck: make(chan struct{}, 1),
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
	w, err := newDirWatcher(r.filter.dir, r.filter.path)
	if err != nil {
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
		var events <-chan dirEvent
		var errs <-chan error
		if r.w != nil {
			events, errs = r.w.Events(), r.w.Errors()
		}
		select {
		case <-r.done:
			return
		case ev := <-events:
			r.event(ev)
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

// event handles one event of the directory watch: a lost watch, a change
// that is complete (fired at once), or one that may still be in progress
// (debounced). Events on the file's name or path also ask for a stale check.
func (r *robustRun) event(ev dirEvent) {
	if ev.link {
		r.linkChanged(ev)
		return
	}
	if r.filter.lostWatch(fsnotify.Event{Name: ev.name, Op: ev.op}) {
		r.lost(fmt.Sprintf("%s %s", ev.label, r.filter.dir))
		r.sink.Fire(Notice{Reason: "robust: directory " + ev.label + ", rescan", Seen: time.Now(), Rescan: true})
		return
	}
	var onName, moved, swapped bool
	if ev.op&(fsnotify.Create|fsnotify.Remove|fsnotify.Rename) != 0 {
		onName, moved, swapped = r.filter.classifySwap(ev.name)
	} else {
		// A write, close or chmod changes no name: the resolved path is as
		// the last namespace event left it (saves resolving the path for
		// each of the many events of a burst of writes).
		onName = filepath.Clean(ev.name) == r.filter.path
	}
	if onName || moved || ev.self {
		select {
		case r.staleCheck <- struct{}{}:
		default:
		}
	}
	if !moved && !(onName && (ev.op&^fsnotify.Chmod != 0 || ev.closeWrite)) {
		return
	}
	reason := "robust: " + ev.label + " " + filepath.Base(ev.name)
	if moved && !onName {
		reason += " (resolved target changed)"
	}
	now := time.Now()
	if !r.complete(ev, onName, swapped) {
		r.deb.poke(reason, now)
		return
	}
	seen := now
	if first, ok := r.deb.take(); ok && first.Before(now) {
		seen = first
	}
	r.sink.Fire(Notice{Reason: reason, Seen: seen})
}

// linkChanged handles a change of a symlink on the directory's path: when
// the directory the path leads to is not the one watched any more (a
// release swap: current re-pointed at releases/N+1, written whole before),
// the watch moves there and a rescan fires at once.
func (r *robustRun) linkChanged(ev dirEvent) {
	if id := dirID(r.filter.dir); id == r.dirIno || id == 0 {
		return
	}
	now := time.Now()
	if err := r.watch(); err != nil {
		r.lost(fmt.Sprintf("%s %s, then: %v", ev.label, ev.name, err))
		return
	}
	r.sink.Fire(Notice{Reason: "robust: " + ev.label + " " + ev.name + " (the directory's path leads elsewhere now), rescan", Seen: now, Rescan: true})
}

// complete reports whether ev says the config file is complete now, so
// that reading it at once cannot see a write in progress: the writer closed
// it (and it is not empty, as it is once the next writer of a burst has
// truncated it), a file was renamed into place under its name, or the path,
// through a symlink, now resolves to another existing file (swapped: the
// ..data swap, ln -sfn, a symlink re-created; written whole before the
// swap). A close or rename that a later change in the same read of the
// event queue supersedes is not: the burst goes on, and is debounced. Which
// event of such a swap is handled first does not matter: the path is
// resolved when the event is handled, not when it happened.
func (r *robustRun) complete(ev dirEvent, onName, swapped bool) bool {
	switch {
	case ev.superseded:
		return false // a later write is already queued: a burst, debounced
	case onName && ev.movedTo:
		return true
	case onName && ev.closeWrite:
		// An empty file at the close is most likely the next writer's
		// truncation (a burst of in-place saves); its own close will come.
		fi, err := os.Stat(r.filter.path)
		return err == nil && fi.Size() > 0
	case swapped:
		fi, err := os.Lstat(r.filter.path)
		return err == nil && fi.Mode()&os.ModeSymlink != 0
	}
	return false
}

// safetyNet is the content poll described on Robust; prev is the hash of
// the content when watching began. It also runs the stale check, at start,
// on every tick and when the loop asks.
func (r *robustRun) safetyNet(prev []byte) {
	defer r.wg.Done()
	tick := time.NewTicker(r.opts.SafetyInterval)
	defer tick.Stop()
	quiet := 0
	r.checkStale()
	for {
		select {
		case <-r.done:
			return
		case <-r.staleCheck:
			r.checkStale()
		case now := <-tick.C:
			r.checkStale()
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

// checkStale reports the start of a stale episode (the path resolves to an
// unlinked file) once, and its end with a rescan.
func (r *robustRun) checkStale() {
	stale, mount := r.unlinked()
	switch {
	case stale && r.stale == "":
		if !mount {
			t := time.NewTimer(staleConfirm)
			select {
			case <-r.done:
				t.Stop()
				return
			case <-t.C:
			}
			if stale, mount = r.unlinked(); !stale {
				return
			}
		}
		r.stale = staleReason(r.filter.path, mount)
		reportStale(r.sink, r.stale)
	case !stale && r.stale != "":
		r.stale = ""
		reportStale(r.sink, "")
		r.sink.Fire(Notice{Reason: "robust: " + r.filter.path + " can be followed again, rescan", Seen: time.Now(), Rescan: true})
	}
}

// unlinked reports whether the path resolves to a file with no links left,
// and whether the path is a mount point of its own.
func (r *robustRun) unlinked() (stale, mount bool) {
	if n, ok := linkCount(r.filter.path); !ok || n != 0 {
		return false, false
	}
	return true, isMountPoint(r.filter.path)
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
