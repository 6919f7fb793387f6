// Package kernel runs the detect lab's kernel-limit experiments beside the
// matrix: the inotify queue overflow, the article's stress loop, the
// inotify watch limit, the inotify instance limit and the idle cost. Each
// Run* function takes the columns to try (trigger and peer names, as in
// package detect) and returns its result type, which package detect keeps
// in its Matrix (detect.Overflow, detect.WatchLimit … are aliases of the
// types here) and writes into matrix.json.
//
// The experiments that need a column run it in a child process (the lab's
// hidden "detect-child" command); their child's side is ChildModes, which
// package detect's ChildMain serves.
//
// # Queue overflow (RunOverflow)
//
// Each column in its own child watches a config; the children are stopped
// (SIGSTOP) while the lab creates and removes noise files beside the config
// until 1.5 × fs.inotify.max_queued_events (read, never written) events are
// queued, then rewrites the config and resumes them (SIGCONT). Reported per
// column: did ErrEventOverflow reach it, did the last version arrive and by
// what. robust's safety poll is set to an hour there, so only its overflow
// rescan can save it.
//
// # The article's stress loop (RunArticleLoop)
//
// The snippet of the article's chapter 2.2 as written (a watch on a file,
// then 1000 × write and remove it, a goroutine reading the events), and the
// same loop with the reader stalled, watching the file and its directory.
// It runs in the lab process and needs no child.
//
// # Watch limit (RunWatchLimit)
//
// A child in a new user namespace (CLONE_NEWUSER, uid 0 mapped to the lab's
// uid) lowers /proc/sys/user/max_inotify_watches of that namespace only to
// DefaultWatchLimit, exhausts it with one inotify instance (the exact error
// of the failing inotify_add_watch is kept), then starts every column on a
// config and changes it. The lab meanwhile holds more host watches than the
// child's limit, to show whether those count. The host's limits are read
// before and after and never written.
//
// # Instance limit (RunInstanceLimit)
//
// Each column in its own child in its own new user namespace (so viper's
// os.Exit when fsnotify.NewWatcher fails ends only its child, and is seen
// as an exit): the child lowers /proc/sys/user/max_inotify_instances of
// that namespace only to DefaultInstanceLimit, creates instances until
// inotify_init1 fails (its errno is kept), and with all of them held starts
// its column and changes the config by rename, then in place. Each
// column's outcome is one of fail-at-start, exit, fallback-polling,
// served-by-signal (the signal column, sent SIGUSR1) and
// keep-serving-stale (the Outcome* constants). The lab meanwhile holds
// more instances than the children's limit; the host's limits are read,
// never written. Needs root and user namespaces; otherwise skipped, with
// why.
//
// # Idle cost (RunIdle)
//
// User+system CPU seconds per minute of a child process watching an
// unchanging config (getrusage around the window), minus a child that
// loaded the config and watches nothing; all children run at the same
// time.
package kernel
