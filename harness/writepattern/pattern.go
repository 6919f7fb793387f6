package writepattern

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
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

	init  func(dir, name string, data []byte) error
	write func(ctx context.Context, dir, name string, next func() []byte) ([][]byte, error)
}

// Path returns the path a watcher should watch for config name in dir.
func Path(dir, name string) string { return filepath.Join(dir, name) }

// Available returns nil if the pattern can run on this machine, or why not.
func (p Pattern) Available() error {
	if p.Tool == "" {
		return nil
	}
	if _, err := lookPath(p.Tool); err != nil {
		return fmt.Errorf("writepattern %s: %s is not installed", p.Name, p.Tool)
	}
	return nil
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

// All returns every pattern, models first, in presentation order.
func All() []Pattern {
	return append(models(), realTools()...)
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

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
