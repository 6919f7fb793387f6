package fsmount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// tmpfs is one tmpfs mount for the run, written through itself and watched
// through a read-only bind mount of it: the view a Kubernetes container
// has of a ConfigMap volume the kubelet writes. Trials are sub-directories.
type tmpfs struct {
	rw, ro string
	info   Info
	once   sync.Once
	err    error
}

// tmpfsOptions are the mount options of the lab's tmpfs.
const tmpfsOptions = "size=256m,mode=0755"

func openTmpfs(base string) (FS, error) {
	if err := needRoot(Tmpfs); err != nil {
		return nil, err
	}
	t := &tmpfs{rw: filepath.Join(base, "tmpfs", "rw"), ro: filepath.Join(base, "tmpfs", "ro")}
	if err := mkdirs(t.rw, t.ro); err != nil {
		return nil, err
	}
	if err := mount("tmpfs", t.rw, "tmpfs", 0, tmpfsOptions); err != nil {
		return nil, fmt.Errorf("fsmount: tmpfs: %w: %w", ErrSkipped, err)
	}
	if err := unix.Mount(t.rw, t.ro, "", unix.MS_BIND, ""); err != nil {
		t.Close()
		return nil, fmt.Errorf("fsmount: tmpfs: %w: mount --bind %s %s: %w", ErrSkipped, t.rw, t.ro, err)
	}
	if err := unix.Mount("", t.ro, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Close()
		return nil, fmt.Errorf("fsmount: tmpfs: %w: mount -o remount,bind,ro %s: %w", ErrSkipped, t.ro, err)
	}
	typ, _ := TypeOf(t.ro)
	t.info = Info{
		Name: Tmpfs, Type: typ, Base: filepath.Dir(t.rw),
		Setup: "mount -t tmpfs -o " + tmpfsOptions + " tmpfs RW; mount --bind RW RO; mount -o remount,bind,ro RO (writes go to RW, watchers watch RO)",
		Note:  "memory-backed, as the kubelet projects ConfigMap and Secret volumes: the write pattern writes the tmpfs, the watchers watch it through a read-only bind mount, the view a container gets",
	}
	return t, nil
}

func (t *tmpfs) Info() Info { return t.info }

func (t *tmpfs) NewTrial(name string, init func(string) error) (*Dirs, error) {
	dir, err := trialDir(t.rw, name)
	if err != nil {
		return nil, err
	}
	if err := init(dir); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fsmount: tmpfs: init %s: %w", name, err)
	}
	watch := filepath.Join(t.ro, filepath.Base(dir))
	return &Dirs{Init: dir, Write: dir, Watch: watch, Views: []string{watch}, close: func() error { return os.RemoveAll(dir) }}, nil
}

func (t *tmpfs) Close() error {
	t.once.Do(func() { t.err = errors.Join(unmount(t.ro), unmount(t.rw)) })
	return t.err
}
