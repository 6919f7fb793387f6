//go:build !unix

package trigger

// dirIDSupported reports whether dirID can tell a replaced directory from
// the one watched: not here (no inode numbers in os.FileInfo.Sys). Robust
// then skips the check and says so (DegradedSink); a replaced directory is
// still caught by its safety poll.
const dirIDSupported = false

// dirID returns 0: the check is skipped on this platform.
func dirID(string) uint64 { return 0 }
