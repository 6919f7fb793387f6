package fsmount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Names of the file systems, in presentation order.
const (
	Disk       = "disk"
	Tmpfs      = "tmpfs"
	Overlay    = "overlay"
	FuseRemote = "fuse-remote"
)

// DefaultFuseAttrTimeout is the fuse-remote attribute, entry and
// negative-entry cache timeout (see the package doc).
const DefaultFuseAttrTimeout = time.Second

// ErrSkipped is wrapped by Open when a file system cannot be used on this
// machine; the error text says why.
var ErrSkipped = errors.New("skipped")

// Names returns the file system names in presentation order.
func Names() []string { return []string{Disk, Tmpfs, Overlay, FuseRemote} }

// Info describes a file system as the lab used it.
type Info struct {
	Name  string `json:"name"`
	Type  string `json:"type"`            // statfs type of the watched directories: ext4, tmpfs, overlayfs, fuse …
	Setup string `json:"setup"`           // how it was made, as a shell command
	Note  string `json:"note,omitempty"`  // what is special about it
	Base  string `json:"base,omitempty"`  // where it lives (a temporary path)
	Error string `json:"error,omitempty"` // why it was skipped
}

// FS is one prepared file system. Its methods are safe for concurrent use.
type FS interface {
	// Info describes the file system.
	Info() Info
	// NewTrial makes fresh directories for one trial. init is called
	// with Dirs.Init before anything can watch (for overlay, before the
	// mount), to write the first version.
	NewTrial(name string, init func(dir string) error) (*Dirs, error)
	// Close unmounts and removes everything the FS made. It is safe to
	// call more than once.
	Close() error
}

// Dirs are one trial's directories.
type Dirs struct {
	// Init is where the first version was written.
	Init string
	// Write is where the write pattern changes the file.
	Write string
	// Watch is where the watchers watch (the same file as Write, seen
	// through the file system under test); it is View(0).
	Watch string
	// Views are separate views of Watch for separate watchers: for
	// fuse-remote, one FUSE mount each, so each has its own kernel
	// attribute and entry cache, as separate NFS clients do; elsewhere
	// every view is Watch.
	Views []string

	close func() error
}

// View returns the i-th view (Watch when there is no i-th view).
func (d *Dirs) View(i int) string {
	if i >= 0 && i < len(d.Views) {
		return d.Views[i]
	}
	return d.Watch
}

// Close removes the trial's directories (and, for overlay, unmounts).
func (d *Dirs) Close() error {
	if d == nil || d.close == nil {
		return nil
	}
	c := d.close
	d.close = nil
	return c()
}

// Option configures Open.
type Option func(*options)

type options struct {
	fuseAttr, fuseEntry, fuseNegative time.Duration
	views                             int
}

// WithViews asks for n separate views of each trial directory (default 1):
// fuse-remote mounts the backing directory n times.
func WithViews(n int) Option { return func(o *options) { o.views = max(n, 1) } }

// WithFuseTimeouts sets the fuse-remote attribute, entry and negative-entry
// cache timeouts (default DefaultFuseAttrTimeout each; 0 disables a cache).
func WithFuseTimeouts(attr, entry, negative time.Duration) Option {
	return func(o *options) { o.fuseAttr, o.fuseEntry, o.fuseNegative = attr, entry, negative }
}

// Open prepares the named file system in a new directory under base (see
// NewBase). An error wrapping ErrSkipped means the file system is not
// available here; the caller reports it and goes on.
func Open(name, base string, opts ...Option) (FS, error) {
	o := options{fuseAttr: DefaultFuseAttrTimeout, fuseEntry: DefaultFuseAttrTimeout, fuseNegative: DefaultFuseAttrTimeout, views: 1}
	for _, opt := range opts {
		opt(&o)
	}
	switch name {
	case Disk:
		return openDisk(base)
	case Tmpfs:
		return openTmpfs(base)
	case Overlay:
		return openOverlay(base)
	case FuseRemote:
		return openFuse(base, o)
	}
	return nil, fmt.Errorf("fsmount: unknown file system %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// Lookup checks a file system name, returning an error that lists the valid
// names.
func Lookup(name string) error {
	for _, n := range Names() {
		if n == name {
			return nil
		}
	}
	return fmt.Errorf("fsmount: unknown file system %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// basePrefix starts every base directory's name; the process id follows.
const basePrefix = "reloadlab-detect-"

// NewBase creates the run's base directory under parent ("" for
// os.TempDir(), or /var/tmp when that is tmpfs), named after the process
// so CleanStale can tell whether its owner still runs. It refuses a parent
// on tmpfs with an error wrapping ErrSkipped (the "disk" file system must
// be a disk) and returns the statfs type it found.
func NewBase(parent string) (dir, fsType string, err error) {
	if parent == "" {
		parent = os.TempDir()
		if t, _ := TypeOf(parent); t == "tmpfs" || t == "ramfs" {
			parent = "/var/tmp"
		}
	}
	t, err := TypeOf(parent)
	if err != nil {
		return "", "", fmt.Errorf("fsmount: base %s: %w", parent, err)
	}
	if t == "tmpfs" || t == "ramfs" {
		return "", t, fmt.Errorf("fsmount: %w: base %s is on %s; the disk file system needs a directory on a disk (set the base directory)", ErrSkipped, parent, t)
	}
	dir, err = os.MkdirTemp(parent, fmt.Sprintf("%s%d-", basePrefix, os.Getpid()))
	if err != nil {
		return "", t, fmt.Errorf("fsmount: %w", err)
	}
	return dir, t, nil
}

// RemoveBase unmounts anything still mounted under base, then removes it.
// It refuses to remove a directory that still has a mount inside.
func RemoveBase(base string) error {
	if base == "" {
		return nil
	}
	var errs []error
	for _, m := range mountsUnder(base) {
		if err := unmount(m); err != nil {
			errs = append(errs, err)
		}
	}
	if left := mountsUnder(base); len(left) > 0 {
		errs = append(errs, fmt.Errorf("fsmount: not removing %s: still mounted: %s", base, strings.Join(left, ", ")))
		return errors.Join(errs...)
	}
	if err := os.RemoveAll(base); err != nil {
		errs = append(errs, fmt.Errorf("fsmount: %w", err))
	}
	return errors.Join(errs...)
}

// magic numbers of statfs(2) f_type (linux/magic.h).
var fsMagic = map[int64]string{
	0xEF53:     "ext4",
	0x01021994: "tmpfs",
	0x858458f6: "ramfs",
	0x794c7630: "overlayfs",
	0x65735546: "fuse",
	0x9123683E: "btrfs",
	0x58465342: "xfs",
	0x6969:     "nfs",
	0xFF534D42: "cifs",
	0x2FC12FC1: "zfs",
	0x01021997: "v9fs",
}

// TypeOf returns the file system type holding path, by statfs(2) magic
// number ("0x…" for an unknown one).
func TypeOf(path string) (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return "", fmt.Errorf("statfs %s: %w", path, err)
	}
	if n, ok := fsMagic[int64(st.Type)]; ok {
		return n, nil
	}
	return fmt.Sprintf("0x%x", st.Type), nil
}

// unmount unmounts dir, retrying briefly while it is busy, then detaches it
// lazily (MNT_DETACH) so it is gone from the tree whatever holds it.
func unmount(dir string) error {
	var err error
	for i := range 5 {
		err = unix.Unmount(dir, 0)
		if err == nil || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			return nil // unmounted, or not a mount point (any more)
		}
		time.Sleep(time.Duration(i+1) * 10 * time.Millisecond)
	}
	if derr := unix.Unmount(dir, unix.MNT_DETACH); derr != nil && !errors.Is(derr, unix.EINVAL) {
		return fmt.Errorf("fsmount: unmount %s: %w; lazy unmount: %w", dir, err, derr)
	}
	return nil
}

// mount wraps mount(2) with the command it corresponds to in the error.
func mount(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mount -t %s %s %s -o %s: %w", fstype, source, target, data, err)
	}
	return nil
}

// needRoot returns an ErrSkipped error when the process cannot mount.
func needRoot(name string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("fsmount: %s: %w: mounting needs root (CAP_SYS_ADMIN); run as root to include it", name, ErrSkipped)
	}
	return nil
}

// mkdirs creates each directory (and parents).
func mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("fsmount: %w", err)
		}
	}
	return nil
}

// trialDir makes a fresh directory for one trial under parent.
func trialDir(parent, name string) (string, error) {
	d, err := os.MkdirTemp(parent, filepath.Base(name)+"-")
	if err != nil {
		return "", fmt.Errorf("fsmount: trial dir: %w", err)
	}
	return d, nil
}
