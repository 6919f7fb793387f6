package detect_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/fsmount"
	"github.com/reloadlab/reloadlab/harness/writepattern"
)

// shapes are the deployment-shape patterns.
var shapes = []string{"bindmount-file-rename", "bindmount-file-inplace", "subpath", "bindmount-dir-rename", "bindmount-dir-inplace", "release-symlink", "git-checkout", "older-mtime"}

// TestShapesMatrix runs every deployment shape, one trial a cell, with
// every column on disk and tmpfs (as root; the mount shapes and tmpfs are
// skipped otherwise, with the reason), and checks what does not depend on
// timing: no column serves a shape that cannot be followed, whose watched
// path keeps the old, unlinked inode; robust serves every other shape and
// reports the two that cannot be followed as stale; every cell has a why
// line that starts with its row's; nothing stays mounted.
func TestShapesMatrix(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs real trials for about 15 s")
	}
	parent := t.TempDir()
	m, err := detect.Run(context.Background(), detect.Config{
		BaseDir:     parent,
		Patterns:    shapes,
		FileSystems: []string{fsmount.Disk, fsmount.Tmpfs},
		Trials:      1,
		Concurrency: 6,
		Child:       detect.ChildForTests(),
	})
	if errors.Is(err, fsmount.ErrSkipped) {
		t.Skip(err)
	}
	require.NoError(t, err)
	assert.Empty(t, fsmount.MountsUnder(parent), "no mount left behind (/proc/self/mountinfo)")
	for _, p := range m.Patterns {
		if p.Skipped != "" {
			assert.NotEqual(t, 0, os.Geteuid(), "only skipped when not root: %s", p.Skipped)
			assert.Contains(t, p.Skipped, "root")
		}
	}
	for _, f := range m.FileSystems {
		if f.Error != "" {
			continue
		}
		for _, name := range shapes {
			p, err := writepattern.Lookup(name)
			require.NoError(t, err)
			row := m.Row(f.Name, name)
			if row == nil {
				continue // skipped (not root, no git)
			}
			assert.Zero(t, row.Errored, "%s/%s: %v", f.Name, name, row.ErrorSamples)
			require.NotEmpty(t, row.Why, "%s/%s", f.Name, name)
			if p.CannotFollow != "" {
				assert.Equal(t, row.Trials, row.WatchOld, "%s/%s: the watched path keeps the old bytes", f.Name, name)
				assert.Equal(t, row.Trials, row.WatchNlinkZero, "%s/%s: st_nlink 0 on the watched path", f.Name, name)
			} else {
				assert.Zero(t, row.WatchOld, "%s/%s: the new content reaches the watched path", f.Name, name)
			}
			for _, col := range detect.ColumnNames() {
				c := m.Cell(f.Name, name, col)
				require.NotNil(t, c, "%s/%s/%s", f.Name, name, col)
				assert.True(t, strings.HasPrefix(c.Why, row.Why), "%s/%s/%s: the why line starts with the row's", f.Name, name, col)
				assert.Equal(t, c.Missed, c.MissedSilently+c.StaleReported)
				if p.CannotFollow != "" {
					assert.Equal(t, c.Trials, c.Missed, "%s/%s/%s: nothing can serve it", f.Name, name, col)
				}
			}
			for _, col := range []string{"robust", detect.ColLibrary} {
				c := m.Cell(f.Name, name, col)
				assert.Zero(t, c.Torn, "%s/%s/%s tore: %s", f.Name, name, col, c.Why)
				if p.CannotFollow != "" {
					assert.Equal(t, c.Trials, c.StaleReported, "%s/%s/%s must report stale: %s", f.Name, name, col, c.Why)
				} else {
					assert.Zero(t, c.Missed, "%s/%s/%s missed: %s", f.Name, name, col, c.Why)
				}
			}
			// pollhash and signal re-read the watched path: where the
			// content reaches it, they serve it.
			if p.CannotFollow == "" {
				for _, col := range []string{"pollhash", "signal"} {
					c := m.Cell(f.Name, name, col)
					assert.Zero(t, c.Missed, "%s/%s/%s missed: %s", f.Name, name, col, c.Why)
				}
			}
		}
	}
}

// TestShapesInterrupted cancels a run of the mount shapes while its trials
// hold their bind mounts, and checks that Run returns the context's error
// and leaves nothing mounted.
func TestShapesInterrupted(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs real trials")
	}
	if os.Geteuid() != 0 {
		t.Skip("the mount shapes need root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	parent := t.TempDir()
	_, err := detect.Run(ctx, detect.Config{
		BaseDir:     parent,
		Patterns:    []string{"bindmount-file-rename", "subpath", "bindmount-dir-inplace"},
		Columns:     []string{"robust", "poll"},
		FileSystems: []string{fsmount.Disk, fsmount.Tmpfs},
		Trials:      2,
		Concurrency: 4,
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, fsmount.MountsUnder(parent), "no mount left behind after an interrupted run (/proc/self/mountinfo)")
}
