package fsmount

import (
	"fmt"
	"os"
	"path/filepath"
)

// disk is a plain directory under the base, on the base's file system.
type disk struct {
	dir  string
	info Info
}

func openDisk(base string) (FS, error) {
	dir := filepath.Join(base, "disk")
	if err := mkdirs(dir); err != nil {
		return nil, err
	}
	t, err := TypeOf(dir)
	if err != nil {
		return nil, fmt.Errorf("fsmount: disk: %w", err)
	}
	if t == "tmpfs" || t == "ramfs" {
		return nil, fmt.Errorf("fsmount: disk: %w: %s is on %s, not a disk", ErrSkipped, dir, t)
	}
	return &disk{dir: dir, info: Info{
		Name: Disk, Type: t, Base: dir,
		Setup: "mktemp -d (on the root file system)",
		Note:  "the local disk: a temporary directory on " + t,
	}}, nil
}

func (d *disk) Info() Info { return d.info }

func (d *disk) NewTrial(name string, init func(string) error) (*Dirs, error) {
	dir, err := trialDir(d.dir, name)
	if err != nil {
		return nil, err
	}
	if err := init(dir); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fsmount: disk: init %s: %w", name, err)
	}
	return &Dirs{Init: dir, Write: dir, Watch: dir, Views: []string{dir}, close: func() error { return os.RemoveAll(dir) }}, nil
}

func (d *disk) Close() error { return nil }
