// Package trigger notices that a config file may have changed: the "trigger"
// axis of a reloadlab strategy. A trigger never reads or applies the config;
// it calls Sink.Fire, and the reload pipeline decides whether anything
// changed (by content hash) and applies it.
//
//	fsnotify  fsnotify watch on the file path itself; Write or Rename
//	          schedules a re-read 100 ms later with time.AfterFunc. This is
//	          the article's scheme 1 as written, defects kept, as a control:
//	          the watch follows the inode, so a rename or a Kubernetes ..data
//	          swap silently ends it.
//	dirwatch  fsnotify watch on the parent directory, filtered to the file's
//	          name, symlink-aware (fires when the resolved target changes, the
//	          Kubernetes ..data swap), trailing debounce.
//	poll      stat polling of mtime and size at a fixed interval.
//	pollhash  SHA-256 of the content at a fixed interval.
//	signal    SIGUSR1 or SIGHUP asks for a reload.
//	robust    dirwatch that fires at once on what says the file is complete
//	          (a rename into place, the ..data swap, and on Linux a writer's
//	          close, IN_CLOSE_WRITE, through a raw inotify watch) and
//	          debounces what may be a write in progress + a slow
//	          content-poll safety net + a stale report when the file was
//	          replaced where it cannot be followed (a single-file bind mount
//	          or Kubernetes subPath: st_nlink 0; see StaleSink) + rescan on
//	          inotify queue overflow + re-establishing a lost watch +
//	          signals.
//
// New builds a trigger by registry name (the lab's presets); NewFileWatch,
// NewDirWatch, NewPoll, NewPollHash, NewSignal and NewRobust build one
// directly. The zero value of every trigger type is ready to use: zero
// intervals take their defaults when Start runs, and Start rejects an empty
// path or a nil Sink with an error instead of failing later in a goroutine.
//
// # Parameters
//
//	WithPollInterval    poll, pollhash    DefaultPollInterval (250ms)
//	WithDebounce        dirwatch, robust  DefaultDebounce (100ms)
//	WithMaxWait         dirwatch, robust  DefaultMaxWait (2s)
//	WithSafetyInterval  robust            DefaultSafetyInterval (1s)
//	WithDelay           fsnotify          DefaultDelay (100ms, as in the article)
//	WithSizeLimit       pollhash, robust  safefile.DefaultLimit (64 MiB)
//	WithSignals         robust, signal    New: ReloadSignals; NewRobust: none
//
// # Portability
//
// The package builds on every platform Go and fsnotify support. Where a
// feature cannot work it degrades instead of failing to build, and tells a
// DegradedSink: without SIGUSR1 and SIGHUP (Windows) ReloadSignals is empty
// and the signal trigger never fires; without inode numbers (Windows) robust
// skips its directory-replacement check and leaves a replaced directory to
// its safety poll.
//
// # Concurrency
//
// A Trigger is a configuration and may be started any number of times;
// each Start returns its own io.Closer. Close stops the watch and waits for
// its goroutines; after Close returns, the Sink is not called again. Sink
// methods may be called from several goroutines and must not block.
//
// # Linux notes
//
// inotify reports only changes made through the local kernel: a file changed
// by another NFS client or behind a FUSE file system's back produces no event,
// so only the polling triggers (and robust's safety net) see it. A full
// inotify queue drops events and reports fsnotify.ErrEventOverflow; only
// robust rescans. A watch on a path that is renamed or deleted is dropped by
// fsnotify. Robust's watch on Linux is one raw inotify instance (not
// fsnotify's), so that it sees IN_CLOSE_WRITE and tells IN_MOVED_TO from
// IN_CREATE; it uses one instance of fs.inotify.max_user_instances, as
// before. When the config file is a mount point of its own (a single-file
// bind mount) robust also watches the file in that instance: the other side
// of the mount writes to it through a directory robust cannot watch. It
// also watches the directory holding each symlink on the directory's path
// (a release directory's current -> releases/N), for its re-pointing.
package trigger
