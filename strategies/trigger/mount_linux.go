//go:build linux

package trigger

import (
	"path/filepath"

	"golang.org/x/sys/unix"
)

// isMountPoint reports whether path (symlinks followed) is a mount point of
// its own, such as a single-file bind mount: its mount ID differs from its
// parent directory's. False when either cannot be read (statx without
// STATX_MNT_ID, kernels before 5.8).
func isMountPoint(path string) bool {
	id, ok := mountID(path)
	if !ok {
		return false
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	parent, ok := mountID(filepath.Dir(resolved))
	return ok && parent != id
}

func mountID(path string) (uint64, bool) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_MNT_ID, &stx); err != nil || stx.Mask&unix.STATX_MNT_ID == 0 {
		return 0, false
	}
	return stx.Mnt_id, true
}
