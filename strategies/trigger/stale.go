package trigger

// StaleSink is a Sink that also wants to know when the file the process
// reads has been replaced where the trigger cannot follow: the path still
// resolves, but to an inode that has been unlinked (st_nlink 0), as a
// single-file bind mount (docker run -v file:file) or a Kubernetes subPath
// mount shows once its source was replaced by a rename. No event and no
// read from inside the process can reach the new file then; only the
// operator can (mount the directory, not the file). Robust checks for it on
// every safety tick and after the events it sees, and calls Stale once when
// such an episode begins, with a reason that says what to do, and once with
// reason "" when the file can be followed again (it then also fires a
// rescan). Triggers call Stale from their own goroutines; it must not
// block.
//
// A Sink that does not implement it is not told: the old config keeps
// serving in silence, as with every other trigger.
type StaleSink interface {
	Sink
	// Stale reports that the file cannot be followed any more (reason says
	// why and what to do), or, with reason "", that it can again.
	Stale(reason string)
}

// reportStale tells sink, if it listens, that the file became stale
// (reason) or can be followed again ("").
func reportStale(sink Sink, reason string) {
	if s, ok := sink.(StaleSink); ok {
		s.Stale(reason)
	}
}

// staleReason is the message robust reports for path when it resolves to an
// unlinked file; mount tells whether path is known to be a mount point.
func staleReason(path string, mount bool) string {
	if mount {
		return path + " is a file bind mount whose source was replaced (st_nlink 0): the new file cannot be seen from here, and the old config keeps serving; mount the directory, not the file (a Kubernetes subPath mount is such a mount)"
	}
	return path + " resolves to a file that has been deleted (st_nlink 0), as a file bind mount or a Kubernetes subPath mount shows once its source was replaced: the new file cannot be seen from here, and the old config keeps serving; mount the directory, not the file"
}
