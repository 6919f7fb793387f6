package fsmount

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Bind bind-mounts source onto target (mount --bind SOURCE TARGET), then,
// if readOnly, makes the new mount read-only (mount -o remount,bind,ro).
// source and target are both files or both directories, and target must
// exist. Symbolic links in source are followed, as mount(8) follows them:
// the mount pins the inode source resolves to at this moment, not the
// path. Mounting needs root: without it the error wraps ErrSkipped.
//
// The returned function unmounts target (lazily, MNT_DETACH, if it is
// busy) and then anything still mounted at or below it; it is safe to call
// more than once and from a deferred call after a failure. On error
// nothing is left mounted.
func Bind(source, target string, readOnly bool) (unmount func() error, err error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("fsmount: bind %s: %w: mounting needs root (CAP_SYS_ADMIN); run as root to include it", target, ErrSkipped)
	}
	if err := unix.Mount(source, target, "", unix.MS_BIND, ""); err != nil {
		return nil, fmt.Errorf("fsmount: mount --bind %s %s: %w", source, target, err)
	}
	var once sync.Once
	var uerr error
	unmount = func() error {
		once.Do(func() {
			errs := []error{Unmount(target)}
			for _, m := range mountsUnder(target) {
				errs = append(errs, Unmount(m))
			}
			uerr = errors.Join(errs...)
		})
		return uerr
	}
	if readOnly {
		if err := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			return nil, errors.Join(fmt.Errorf("fsmount: mount -o remount,bind,ro %s: %w", target, err), unmount())
		}
	}
	return unmount, nil
}

// Unmount unmounts dir (a directory or a file mount point), retrying
// briefly while it is busy, then detaching it lazily (MNT_DETACH), so it is
// gone from the tree whatever holds it. A path that is not a mount point
// (any more) is not an error.
func Unmount(dir string) error { return unmount(dir) }

// MountsUnder returns the mount points at or below path in the calling
// process's mount namespace (/proc/self/mountinfo), deepest first: the
// order to unmount them in. Tests use it to check that nothing was left
// mounted.
func MountsUnder(path string) []string { return mountsUnder(path) }
