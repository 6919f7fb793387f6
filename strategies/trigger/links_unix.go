//go:build unix

package trigger

import "syscall"

// linkCount returns st_nlink of the file path resolves to (symlinks
// followed); ok is false when it cannot be read (a missing path).
func linkCount(path string) (n uint64, ok bool) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, false
	}
	return uint64(st.Nlink), true
}
