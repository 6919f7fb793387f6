package fsmount

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestFileSystems mounts each file system for real, writes through the
// trial's write directory and reads through its watch directory, then checks
// that Close leaves no mount and no directory behind.
func TestFileSystems(t *testing.T) {
	t.Parallel()
	base, baseType, err := NewBase("")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, RemoveBase(base)) })
	assert.NotEqual(t, "tmpfs", baseType)

	tests := []struct {
		name, wantType string
	}{
		{Disk, ""},
		{Tmpfs, "tmpfs"},
		{Overlay, "overlayfs"},
		{FuseRemote, "fuse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(tt.name, base, WithFuseTimeouts(0, 0, 0))
			if errors.Is(err, ErrSkipped) {
				t.Skip(err)
			}
			require.NoError(t, err)
			info := f.Info()
			assert.Equal(t, tt.name, info.Name)
			if tt.wantType != "" {
				assert.Equal(t, tt.wantType, info.Type)
			}
			assert.NotEmpty(t, info.Setup)

			d, err := f.NewTrial("trial", func(dir string) error {
				return os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("version: 1\n"), 0o644)
			})
			require.NoError(t, err)
			got, err := os.ReadFile(filepath.Join(d.Watch, "config.yaml"))
			require.NoError(t, err)
			assert.Equal(t, "version: 1\n", string(got), "the first version is visible where watchers watch")

			require.NoError(t, os.WriteFile(filepath.Join(d.Write, "config.yaml"), []byte("version: 2\n"), 0o644))
			assert.Eventually(t, func() bool {
				got, err := os.ReadFile(filepath.Join(d.Watch, "config.yaml"))
				return err == nil && string(got) == "version: 2\n"
			}, 5*time.Second, 20*time.Millisecond, "a write is visible where watchers watch")

			if tt.name == Tmpfs {
				err := os.WriteFile(filepath.Join(d.Watch, "config.yaml"), []byte("x"), 0o644)
				assert.ErrorIs(t, err, unix.EROFS, "tmpfs is watched through a read-only mount")
			}
			watch := d.Watch
			require.NoError(t, d.Close())
			require.NoError(t, d.Close(), "Close twice is fine")
			_, err = os.Stat(watch)
			assert.True(t, os.IsNotExist(err), "the trial directory is gone: %v", err)
			require.NoError(t, f.Close())
			require.NoError(t, f.Close())
			assert.Empty(t, mountsUnder(base), "no mount left under the base")
		})
	}
}

// TestFuseViewsAreSeparateMounts checks that each fuse-remote view is its
// own mount showing the same backing directory, and that the views of the
// other file systems are the watch directory itself.
func TestFuseViewsAreSeparateMounts(t *testing.T) {
	t.Parallel()
	base, _, err := NewBase("")
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, RemoveBase(base)) })
	for _, name := range []string{Disk, FuseRemote} {
		f, err := Open(name, base, WithViews(3))
		if errors.Is(err, ErrSkipped) {
			t.Log(err)
			continue
		}
		require.NoError(t, err)
		d, err := f.NewTrial("views", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "c"), []byte("x"), 0o644)
		})
		require.NoError(t, err)
		require.Len(t, d.Views, map[string]int{Disk: 1, FuseRemote: 3}[name])
		assert.Equal(t, d.Watch, d.View(0))
		assert.Equal(t, d.Watch, d.View(99), "out of range: Watch")
		for i, v := range d.Views {
			got, err := os.ReadFile(filepath.Join(v, "c"))
			require.NoError(t, err)
			assert.Equal(t, "x", string(got), "view %d", i)
		}
		if name == FuseRemote {
			mounts := map[string]bool{}
			for _, v := range d.Views {
				mounts[filepath.Dir(v)] = true
			}
			assert.Len(t, mounts, 3, "one mount per view")
		}
		require.NoError(t, d.Close())
		require.NoError(t, f.Close())
	}
	assert.Empty(t, mountsUnder(base))
}

func TestOpenUnknownListsValid(t *testing.T) {
	t.Parallel()
	_, err := Open("nfs", t.TempDir())
	require.Error(t, err)
	for _, n := range Names() {
		assert.Contains(t, err.Error(), n)
	}
	assert.Error(t, Lookup("ntfs"))
	assert.NoError(t, Lookup(Overlay))
}

// TestCleanStale leaves a mount behind in a base directory named after a
// process that is not running, as a crashed run would, and checks that
// CleanStale detaches it and removes the directory, while a live process's
// base is left alone.
func TestCleanStale(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to leave a mount behind")
	}
	parent := t.TempDir()
	dead := filepath.Join(parent, basePrefix+"999999999-x")
	alive := filepath.Join(parent, basePrefix+strconv.Itoa(os.Getpid())+"-y")
	require.NoError(t, mkdirs(filepath.Join(dead, "tmpfs"), alive))
	require.NoError(t, mount("tmpfs", filepath.Join(dead, "tmpfs"), "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { RemoveBase(dead) })

	cleaned, err := CleanStale(parent)
	require.NoError(t, err)
	assert.Equal(t, []string{dead}, cleaned)
	assert.Empty(t, mountsUnder(dead))
	_, err = os.Stat(dead)
	assert.True(t, os.IsNotExist(err))
	_, err = os.Stat(alive)
	assert.NoError(t, err, "a running process's base is kept")
}

func TestBasePID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pid  int
		ok   bool
	}{
		{basePrefix + "123-abc", 123, true},
		{basePrefix + "abc-123", 0, false},
		{basePrefix + "123", 0, false},
		{"other-123-abc", 0, false},
	}
	for _, tt := range tests {
		pid, ok := basePID(tt.name)
		assert.Equal(t, tt.ok, ok, tt.name)
		if ok {
			assert.Equal(t, tt.pid, pid, tt.name)
		}
	}
}

// TestBind bind-mounts a file (read-only) and a directory, checks what the
// target shows, that a read-only target refuses writes, that a replaced
// source file is not followed (the mount pins the inode), and that the
// returned function leaves nothing mounted, also when called twice.
func TestBind(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		_, err := Bind("a", "b", false)
		assert.ErrorIs(t, err, ErrSkipped)
		return
	}
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	require.NoError(t, mkdirs(src, dst))
	require.NoError(t, os.WriteFile(filepath.Join(src, "f"), []byte("1"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "target"), nil, 0o644))

	undoFile, err := Bind(filepath.Join(src, "f"), filepath.Join(dir, "target"), true)
	require.NoError(t, err)
	undoDir, err := Bind(src, dst, false)
	require.NoError(t, err)
	assert.Len(t, MountsUnder(dir), 2)
	got, err := os.ReadFile(filepath.Join(dir, "target"))
	require.NoError(t, err)
	assert.Equal(t, "1", string(got))
	assert.ErrorIs(t, os.WriteFile(filepath.Join(dir, "target"), []byte("x"), 0o644), unix.EROFS)

	require.NoError(t, os.WriteFile(filepath.Join(src, "f.new"), []byte("2"), 0o644))
	require.NoError(t, os.Rename(filepath.Join(src, "f.new"), filepath.Join(src, "f")))
	got, err = os.ReadFile(filepath.Join(dir, "target"))
	require.NoError(t, err)
	assert.Equal(t, "1", string(got), "a file bind mount keeps the replaced inode")
	got, err = os.ReadFile(filepath.Join(dst, "f"))
	require.NoError(t, err)
	assert.Equal(t, "2", string(got), "a directory bind mount shows the new entry")

	require.NoError(t, undoFile())
	require.NoError(t, undoFile(), "twice is fine")
	require.NoError(t, undoDir())
	assert.Empty(t, MountsUnder(dir))

	_, err = Bind(filepath.Join(dir, "missing"), filepath.Join(dir, "target"), false)
	assert.Error(t, err)
	assert.Empty(t, MountsUnder(dir), "a failed bind leaves nothing mounted")
}
