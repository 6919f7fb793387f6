package fsmount

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// tmpfs is one tmpfs mount for the run; trials are sub-directories.
type tmpfs struct {
	dir  string
	info Info
	once sync.Once
	err  error
}

// tmpfsOptions are the mount options of the lab's tmpfs.
const tmpfsOptions = "size=256m,mode=0755"

func openTmpfs(base string) (FS, error) {
	if err := needRoot(Tmpfs); err != nil {
		return nil, err
	}
	dir := filepath.Join(base, "tmpfs")
	if err := mkdirs(dir); err != nil {
		return nil, err
	}
	if err := mount("tmpfs", dir, "tmpfs", 0, tmpfsOptions); err != nil {
		return nil, fmt.Errorf("fsmount: tmpfs: %w: %w", ErrSkipped, err)
	}
	t, _ := TypeOf(dir)
	return &tmpfs{dir: dir, info: Info{
		Name: Tmpfs, Type: t, Base: dir,
		Setup: "mount -t tmpfs -o " + tmpfsOptions + " tmpfs DIR",
		Note:  "memory-backed, as Kubernetes mounts ConfigMap and Secret volumes",
	}}, nil
}

func (t *tmpfs) Info() Info { return t.info }

func (t *tmpfs) NewTrial(name string, init func(string) error) (*Dirs, error) {
	dir, err := trialDir(t.dir, name)
	if err != nil {
		return nil, err
	}
	if err := init(dir); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fsmount: tmpfs: init %s: %w", name, err)
	}
	return &Dirs{Init: dir, Write: dir, Watch: dir, Views: []string{dir}, close: func() error { return os.RemoveAll(dir) }}, nil
}

func (t *tmpfs) Close() error {
	t.once.Do(func() { t.err = unmount(t.dir) })
	return t.err
}
