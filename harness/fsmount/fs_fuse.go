package fsmount

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fuseRemote is a go-fuse loopback mount of a backing directory; trials are
// created in the backing directory and watched through the mount.
type fuseRemote struct {
	backing, mnt string
	server       *fuse.Server
	info         Info
	once         sync.Once
	err          error
}

func openFuse(base string, o options) (FS, error) {
	if err := needRoot(FuseRemote); err != nil {
		return nil, err
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("fsmount: fuse-remote: %w: /dev/fuse: %w", ErrSkipped, err)
	}
	f := &fuseRemote{backing: filepath.Join(base, "fuse", "backing"), mnt: filepath.Join(base, "fuse", "mnt")}
	if err := mkdirs(f.backing, f.mnt); err != nil {
		return nil, err
	}
	root, err := fs.NewLoopbackRoot(f.backing)
	if err != nil {
		return nil, fmt.Errorf("fsmount: fuse-remote: %w: loopback root: %w", ErrSkipped, err)
	}
	attr, entry, neg := o.fuseAttr, o.fuseEntry, o.fuseNegative
	server, err := fs.Mount(f.mnt, root, &fs.Options{
		MountOptions: fuse.MountOptions{
			DirectMountStrict: true, // mount(2) ourselves: no fusermount here
			FsName:            "reloadlab-loopback",
			Name:              "loopback",
		},
		AttrTimeout:     &attr,
		EntryTimeout:    &entry,
		NegativeTimeout: &neg,
	})
	if err != nil {
		return nil, fmt.Errorf("fsmount: fuse-remote: %w: mount: %w", ErrSkipped, err)
	}
	f.server = server
	t, _ := TypeOf(f.mnt)
	bt, _ := TypeOf(f.backing)
	f.info = Info{
		Name: FuseRemote, Type: t, Base: filepath.Dir(f.mnt),
		Setup: fmt.Sprintf("go-fuse fs.NewLoopbackRoot(BACKING) mounted with DirectMount at MNT; AttrTimeout=%s EntryTimeout=%s NegativeTimeout=%s", attr, entry, neg),
		Note:  "the network file system case: writes go to the backing directory (on " + bt + ") behind the mount's back, as another NFS client's would; the kernel caches attributes and entries like an NFS client's actimeo",
	}
	return f, nil
}

func (f *fuseRemote) Info() Info { return f.info }

func (f *fuseRemote) NewTrial(name string, init func(string) error) (*Dirs, error) {
	dir, err := trialDir(f.backing, name)
	if err != nil {
		return nil, err
	}
	if err := init(dir); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fsmount: fuse-remote: init %s: %w", name, err)
	}
	watch := filepath.Join(f.mnt, filepath.Base(dir))
	// The trial directory was made behind the mount's back: wait until the
	// mount shows it (a negative entry cached by an earlier lookup would
	// hide it for NegativeTimeout).
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err := os.Stat(watch); err == nil {
			break
		} else if time.Now().After(deadline) {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("fsmount: fuse-remote: %s not visible through the mount: %w", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &Dirs{Init: dir, Write: dir, Watch: watch, close: func() error { return os.RemoveAll(dir) }}, nil
}

func (f *fuseRemote) Close() error {
	f.once.Do(func() {
		done := make(chan error, 1)
		go func() { done <- f.server.Unmount() }()
		select {
		case err := <-done:
			if err != nil {
				f.err = unmount(f.mnt)
			}
		case <-time.After(5 * time.Second):
			f.err = unmount(f.mnt)
		}
	})
	return f.err
}
