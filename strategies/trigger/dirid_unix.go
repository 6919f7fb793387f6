//go:build unix

package trigger

import (
	"os"
	"syscall"
)

// dirIDSupported reports whether dirID can tell a replaced directory from
// the one watched.
const dirIDSupported = true

// dirID returns the inode number of path, or 0 if it cannot be read. A
// directory replaced under the same name has a different inode, which robust
// uses to notice that its watch now follows a directory nobody writes to.
func dirID(path string) uint64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
