package trigger

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fsnotify/fsnotify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMarkSuperseded: in one read of the event queue, a close or rename
// into place followed by another change of the same name is not the file's
// last state; the last close is, and other names do not interfere.
func TestMarkSuperseded(t *testing.T) {
	t.Parallel()
	const cfg, other = "/d/config.yaml", "/d/other"
	write := dirEvent{name: cfg, op: fsnotify.Write}
	closeW := dirEvent{name: cfg, closeWrite: true}
	batch := []dirEvent{
		write, write, closeW, // save 1
		write, closeW, // save 2 (its truncate supersedes save 1's close)
		{name: other, op: fsnotify.Write}, {name: other, closeWrite: true},
		{name: cfg, op: fsnotify.Chmod}, // a chmod changes no content
	}
	markSuperseded(batch)
	var got []bool
	for _, ev := range batch {
		got = append(got, ev.superseded)
	}
	assert.Equal(t, []bool{false, false, true, false, false, false, false, false}, got)

	moved := []dirEvent{{name: cfg, op: fsnotify.Create, movedTo: true}, {name: cfg, op: fsnotify.Remove}}
	markSuperseded(moved)
	assert.True(t, moved[0].superseded, "a file renamed in and removed again is not the last state")
}

// TestClassifySwapAcrossAFailedResolution: a symlink swap is a swap even
// when a resolution in between failed (EvalSymlinks racing the removal of
// the old target directory), while the same file appearing again is not.
func TestClassifySwapAcrossAFailedResolution(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mk := func(ts string) {
		require.NoError(t, os.Mkdir(filepath.Join(dir, ts), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ts, "config.yaml"), []byte("v: 1\n"), 0o644))
	}
	mk("..ts1")
	if err := os.Symlink("..ts1", filepath.Join(dir, "..data")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.Symlink(filepath.Join("..data", "config.yaml"), cfg))
	f := newDirFilter(cfg)

	require.NoError(t, os.Rename(filepath.Join(dir, "..ts1"), filepath.Join(dir, "..gone")))
	_, moved, swapped := f.classifySwap(filepath.Join(dir, "..ts1"))
	assert.False(t, moved, "unresolvable: nothing to read")
	assert.False(t, swapped)

	mk("..ts2")
	require.NoError(t, os.Symlink("..ts2", filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	_, moved, swapped = f.classifySwap(filepath.Join(dir, "..data"))
	assert.True(t, moved)
	assert.True(t, swapped, "a new target after a failed resolution is a swap")

	// The same target disappearing and coming back is not a swap.
	require.NoError(t, os.Rename(filepath.Join(dir, "..ts2"), filepath.Join(dir, "..away")))
	f.classifySwap(filepath.Join(dir, "..ts2"))
	require.NoError(t, os.Rename(filepath.Join(dir, "..away"), filepath.Join(dir, "..ts2")))
	_, moved, swapped = f.classifySwap(filepath.Join(dir, "..ts2"))
	assert.True(t, moved)
	assert.False(t, swapped, "the same file again")
}
