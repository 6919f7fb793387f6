package fsmount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fuseRemote is one or more go-fuse loopback mounts of a backing directory
// (one per view); trials are created in the backing directory and watched
// through the mounts.
type fuseRemote struct {
	backing string
	mnts    []string
	servers []*fuse.Server
	info    Info
	once    sync.Once
	err     error
}

func openFuse(base string, o options) (FS, error) {
	if err := needRoot(FuseRemote); err != nil {
		return nil, err
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("fsmount: fuse-remote: %w: /dev/fuse: %w", ErrSkipped, err)
	}
	f := &fuseRemote{backing: filepath.Join(base, "fuse", "backing")}
	if err := mkdirs(f.backing); err != nil {
		return nil, err
	}
	attr, entry, neg := o.fuseAttr, o.fuseEntry, o.fuseNegative
	for i := range o.views {
		mnt := filepath.Join(base, "fuse", "mnt"+strconv.Itoa(i))
		if err := mkdirs(mnt); err != nil {
			f.Close()
			return nil, err
		}
		root, err := fs.NewLoopbackRoot(f.backing)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("fsmount: fuse-remote: %w: loopback root: %w", ErrSkipped, err)
		}
		server, err := fs.Mount(mnt, root, &fs.Options{
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
			f.Close()
			return nil, fmt.Errorf("fsmount: fuse-remote: %w: mount: %w", ErrSkipped, err)
		}
		f.mnts = append(f.mnts, mnt)
		f.servers = append(f.servers, server)
	}
	t, _ := TypeOf(f.mnts[0])
	bt, _ := TypeOf(f.backing)
	f.info = Info{
		Name: FuseRemote, Type: t, Base: filepath.Dir(f.backing),
		Setup: fmt.Sprintf("go-fuse fs.NewLoopbackRoot(BACKING) mounted with DirectMount at MNT, once per watcher (%d mounts); AttrTimeout=%s EntryTimeout=%s NegativeTimeout=%s", len(f.mnts), attr, entry, neg),
		Note:  "the network file system case: writes go to the backing directory (on " + bt + ") behind the mounts' back, as another NFS client's would; each watcher has its own mount, so its own kernel attribute and entry cache, like a separate NFS client with actimeo",
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
	d := &Dirs{Init: dir, Write: dir, close: func() error { return os.RemoveAll(dir) }}
	for _, mnt := range f.mnts {
		view := filepath.Join(mnt, filepath.Base(dir))
		// The trial directory was made behind the mount's back: wait
		// until the mount shows it.
		for deadline := time.Now().Add(5 * time.Second); ; {
			if _, err := os.Stat(view); err == nil {
				break
			} else if time.Now().After(deadline) {
				os.RemoveAll(dir)
				return nil, fmt.Errorf("fsmount: fuse-remote: %s not visible through %s: %w", name, mnt, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		d.Views = append(d.Views, view)
	}
	d.Watch = d.Views[0]
	return d, nil
}

func (f *fuseRemote) Close() error {
	f.once.Do(func() {
		var errs []error
		for i, server := range f.servers {
			done := make(chan error, 1)
			go func() { done <- server.Unmount() }()
			select {
			case err := <-done:
				if err != nil {
					errs = append(errs, unmount(f.mnts[i]))
				}
			case <-time.After(5 * time.Second):
				errs = append(errs, unmount(f.mnts[i]))
			}
		}
		f.err = errors.Join(errs...)
	})
	return f.err
}
