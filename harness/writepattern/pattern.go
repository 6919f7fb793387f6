package writepattern

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/fsmount"
)

// Defaults of the timed patterns.
const (
	// SlowPause is inplace-slow's pause between the two halves.
	SlowPause = 50 * time.Millisecond
	// DeleteGap is delete-create's gap between unlink and create.
	DeleteGap = 20 * time.Millisecond
	// BurstWrites is how many in-place writes burst makes.
	BurstWrites = 20
)

// Pattern is one way of changing a config file.
type Pattern struct {
	// Name is the registry name ("rename", "vim-real", …).
	Name string
	// Models says which tool(s) the pattern models and how we know.
	Models string
	// ChangesContent is false for patterns that must not cause a reload
	// (touch, chmod, noise).
	ChangesContent bool
	// Tool is the external program a real-tool pattern runs ("" for models).
	Tool string
	// Shape is non-empty for a deployment shape: a pattern whose watched
	// path is not the file the writer saves, or not in the same directory
	// (a bind mount, a subPath, a release symlink). It says how the file
	// reaches the watchers.
	Shape string
	// Mounts is true when the shape needs a bind mount, made by Setup:
	// such a pattern needs root (Available says so otherwise).
	Mounts bool
	// CannotFollow is non-empty for a shape in which a change cannot
	// reach the watched path at all, whatever the watcher does: it says
	// why (the bind mount pins the inode the writer replaced).
	CannotFollow string

	init  func(dir, name string, data []byte) error
	write func(ctx context.Context, dir, name string, next func() []byte) ([][]byte, error)
	// watch and host give the watched path (in a view of the trial
	// directory) and the saved path (in the trial directory) of a shape;
	// nil means Path(dir, name).
	watch, host func(dir, name string) string
	// bind is the shape's mount step, made by Setup.
	bind *bindStep
}

// Path returns dir/name: the path of the config file name in dir, which
// is both the watched and the saved path of every pattern that is not a
// shape.
func Path(dir, name string) string { return filepath.Join(dir, name) }

// WatchPath returns the path a watcher should watch for config name, in
// view: the trial directory as the file system under test shows it
// (fsmount.Dirs.Watch or one of its Views).
func (p Pattern) WatchPath(view, name string) string {
	if p.watch != nil {
		return p.watch(view, name)
	}
	return Path(view, name)
}

// HostPath returns the path the pattern saves for config name in dir (the
// "host" side of a mount shape; the watched path otherwise, seen from the
// write side).
func (p Pattern) HostPath(dir, name string) string {
	if p.host != nil {
		return p.host(dir, name)
	}
	return Path(dir, name)
}

// Available returns nil if the pattern can run on this machine, or why not.
func (p Pattern) Available() error {
	if p.Mounts && os.Geteuid() != 0 {
		return fmt.Errorf("writepattern %s: skipped: its bind mount needs root (CAP_SYS_ADMIN); run as root to include it", p.Name)
	}
	if p.Tool == "" {
		return nil
	}
	if _, err := lookPath(p.Tool); err != nil {
		return fmt.Errorf("writepattern %s: %s is not installed", p.Name, p.Tool)
	}
	return nil
}

// Setup performs the shape's mount step after Init, for a trial whose
// first version Init wrote into dir and which the watchers see at view
// (the same directory on a plain file system; tmpfs's read-only view of
// it; see fsmount.Dirs): it bind-mounts the shape's source, resolved in
// dir, onto its target in view. For a pattern without a mount step it does
// nothing. The returned function removes the mount (and anything left
// mounted below it); call it before removing the directory, also after a
// failure. It is never nil and is safe to call more than once.
func (p Pattern) Setup(dir, view, name string) (cleanup func() error, err error) {
	nothing := func() error { return nil }
	if p.bind == nil {
		return nothing, nil
	}
	if err := p.Available(); err != nil {
		return nothing, err
	}
	source, err := p.bind.source(dir, name)
	if err != nil {
		return nothing, fmt.Errorf("writepattern %s: mount source: %w", p.Name, err)
	}
	unmount, err := fsmount.Bind(source, p.bind.target(view, name), p.bind.readOnly)
	if err != nil {
		return nothing, fmt.Errorf("writepattern %s: %w", p.Name, err)
	}
	return unmount, nil
}

// Init writes the first version of the config into dir.
func (p Pattern) Init(dir, name string, data []byte) error {
	if p.init != nil {
		return p.init(dir, name, data)
	}
	return os.WriteFile(Path(dir, name), data, 0o644)
}

// Write performs one change. next returns the next complete content; the
// contents written completely are returned in order.
func (p Pattern) Write(ctx context.Context, dir, name string, next func() []byte) ([][]byte, error) {
	if err := p.Available(); err != nil {
		return nil, err
	}
	written, err := p.write(ctx, dir, name, next)
	if err != nil {
		return written, fmt.Errorf("writepattern %s: %w", p.Name, err)
	}
	return written, nil
}

// All returns every pattern in presentation order: the models, the real
// tools, then the deployment shapes.
func All() []Pattern {
	return append(append(models(), realTools()...), shapes()...)
}

// Names returns the names of all patterns.
func Names() []string {
	var names []string
	for _, p := range All() {
		names = append(names, p.Name)
	}
	return names
}

// Lookup returns the named pattern, or an error listing the valid names.
func Lookup(name string) (Pattern, error) {
	for _, p := range All() {
		if p.Name == name {
			return p, nil
		}
	}
	return Pattern{}, fmt.Errorf("writepattern: unknown pattern %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// one wraps a writer of a single new content.
func one(fn func(ctx context.Context, dir, name string, data []byte) error) func(context.Context, string, string, func() []byte) ([][]byte, error) {
	return func(ctx context.Context, dir, name string, next func() []byte) ([][]byte, error) {
		data := next()
		if err := fn(ctx, dir, name, data); err != nil {
			return nil, err
		}
		return [][]byte{data}, nil
	}
}
