// Package reload keeps a typed configuration loaded from a file and swaps in
// a new one, atomically, when the file changes. It is the strategy the
// reloadlab measurements recommend, packaged for a service to import: an
// immutable snapshot published through an atomic pointer, a directory watch
// that follows symlinks (the Kubernetes ConfigMap ..data swap) and reads at
// once what is complete (a rename into place, a writer's close) while it
// debounces writes still in progress, a content hash, a slow safety poll for
// what file-system events miss, and a report when the file was replaced
// where it cannot be followed.
//
//	r, err := reload.New("/etc/svc/config.yaml", reload.YAML[Config](),
//		reload.WithValidate(func(c Config) error { return c.Check() }))
//	if err != nil { ... }
//	if err := r.Start(ctx); err != nil { ... } // the first load, or why it failed
//	defer r.Close()
//	cfg := r.Load()                            // one atomic load, on every request
//
// # Pipeline
//
// A trigger fires (Robust by default: at once when a file or symlink was
// renamed into place or a writer closed the file, after a debounce for a
// write not closed yet) → the file is read with a size limit,
// never blocking on a FIFO or a device, and read again if it changed while
// it was read (another writer of a burst at work) → if its SHA-256 equals the serving
// config's or the last rejected file's, the run ends as Unchanged → decode →
// validate → the new value is published with one atomic store → an Event is
// recorded. Runs are serialised; fires that arrive while one runs coalesce
// into one more run.
//
// # Guarantees
//
// What is never served: a file that cannot be read (missing, too large, not
// a regular file), that fails to decode, or that fails validation. A decoder
// or validator that panics counts as a failure. The value serving before
// keeps serving, and Load never returns a value that did not pass both.
// Start returns an error, and serves nothing, if the first load fails.
//
// What is reported, in Status and to the observer (WithObserver):
//
//   - rejected: every rejected file, with the stage and the error
//     (Status.Rejected, Status.LastError; Event.Err is a *RejectError);
//   - stale: the file on disk is not what is serving because its last
//     version was rejected or cannot be read (Status.Stale, StaleReason),
//     until a good file is applied or the file is back to the serving
//     content;
//   - stale, cannot be followed: the file was replaced where no process
//     behind the path can see the new one (the source of a single-file bind
//     mount, docker run -v file:file, or of a Kubernetes subPath mount,
//     replaced by a rename: the path resolves to an unlinked file,
//     st_nlink 0). Robust checks for it on every safety tick and after
//     events, and reports it within one safety interval: one Stale event
//     per episode, Status.Stale with a StaleReason that says to mount the
//     directory, not the file, and Status.StaleReports. The last good value
//     keeps serving; nothing is logged (the observer can);
//   - unchanged: runs that found nothing new (Status.Unchanged);
//   - overflow recovered: an inotify queue overflow drops events; Robust
//     reports it (Status.Overflows) and rescans (Status.Rescans), as it does
//     after a lost and re-added watch;
//   - degraded: a trigger running with less than its full strength, for
//     example Robust without its directory watch, on its safety poll alone,
//     or signals the platform cannot deliver (Status.Degraded).
//
// # Concurrency
//
// All methods are safe for concurrent use. Load costs one
// atomic load and a copy of T; use a pointer, map or slice type for a large
// config, and treat what Load returns as immutable: it is shared by every
// caller until the next swap. The observer is called concurrently from
// several goroutines (the pipeline's, the triggers', and whoever calls Start
// or Reload); it must be quick and safe for concurrent use.
//
// # Triggers
//
// Robust (the default), DirWatch, Poll, PollHash, Signal and FileWatch are
// the lab's triggers (package github.com/reloadlab/reloadlab/strategies/trigger), each with safe
// defaults. Signals are opt-in: WithSignals names the signals that ask for a
// reload, none by default. Where the platform lacks a feature (SIGUSR1 and
// SIGHUP on Windows, inode numbers for Robust's directory-replacement check)
// the trigger degrades and says so in Status.Degraded.
package reload
