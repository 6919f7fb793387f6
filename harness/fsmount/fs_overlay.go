package fsmount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// overlay makes one overlay mount per trial, its layers on the base's disk.
type overlay struct {
	dir  string
	info Info

	mu     sync.Mutex
	mounts map[string]bool // live merged dirs, unmounted by Close if a trial did not
}

func openOverlay(base string) (FS, error) {
	if err := needRoot(Overlay); err != nil {
		return nil, err
	}
	o := &overlay{dir: filepath.Join(base, "overlay"), mounts: map[string]bool{}}
	if err := mkdirs(o.dir); err != nil {
		return nil, err
	}
	// Probe once, so an unsupported overlay is skipped before any trial.
	probe, err := o.NewTrial("probe", func(string) error { return nil })
	if err != nil {
		return nil, fmt.Errorf("fsmount: overlay: %w: %w", ErrSkipped, err)
	}
	t, _ := TypeOf(probe.Watch)
	lower, _ := TypeOf(probe.Init)
	probe.Close()
	o.info = Info{
		Name: Overlay, Type: t, Base: o.dir,
		Setup: "mount -t overlay overlay -o lowerdir=L,upperdir=U,workdir=W MERGED (one per trial, layers on " + lower + ")",
		Note:  "the container case: the first version sits in the lower layer (the image); watchers and writes use the merged directory, so the first write copies the file up",
	}
	return o, nil
}

func (o *overlay) Info() Info { return o.info }

func (o *overlay) NewTrial(name string, init func(string) error) (*Dirs, error) {
	root, err := trialDir(o.dir, name)
	if err != nil {
		return nil, err
	}
	lower, upper, work, merged := filepath.Join(root, "lower"), filepath.Join(root, "upper"), filepath.Join(root, "work"), filepath.Join(root, "merged")
	fail := func(err error) (*Dirs, error) {
		os.RemoveAll(root)
		return nil, fmt.Errorf("fsmount: overlay: %s: %w", name, err)
	}
	if err := mkdirs(lower, upper, work, merged); err != nil {
		return fail(err)
	}
	if err := init(lower); err != nil {
		return fail(fmt.Errorf("init: %w", err))
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := mount("overlay", merged, "overlay", 0, opts); err != nil {
		return fail(err)
	}
	o.mu.Lock()
	o.mounts[merged] = true
	o.mu.Unlock()
	return &Dirs{Init: lower, Write: merged, Watch: merged, Views: []string{merged}, close: func() error {
		err := unmount(merged)
		o.mu.Lock()
		delete(o.mounts, merged)
		o.mu.Unlock()
		if err != nil {
			return err // never remove layers under a live mount
		}
		return os.RemoveAll(root)
	}}, nil
}

func (o *overlay) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var errs []error
	for m := range o.mounts {
		if err := unmount(m); err != nil {
			errs = append(errs, err)
		}
		delete(o.mounts, m)
	}
	return errors.Join(errs...)
}
