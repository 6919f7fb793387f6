//go:build !unix

package trigger

// linkCount reports that the link count cannot be read on this platform:
// robust's stale check never fires here (there are no single-file bind
// mounts to catch).
func linkCount(string) (uint64, bool) { return 0, false }
