package writepattern

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/fsmount"
)

// TestWatchedPathAfterWrites sets every available pattern up as the detect
// lab does (Init in the trial directory, Setup's mount onto the watchers'
// view), makes two changes, and reads the watched path: it holds the last
// version where the shape lets a change through, and still the first
// version, with st_nlink 0, where it cannot (CannotFollow: the single-file
// bind mount with a host rename, subPath). It runs on the disk and, as
// root, on tmpfs watched through its read-only view. After cleanup no
// mount is left (/proc/self/mountinfo).
func TestWatchedPathAfterWrites(t *testing.T) {
	t.Parallel()
	type place struct {
		name  string
		trial func(t *testing.T, p Pattern) (dir, view string)
	}
	places := []place{{fsmount.Disk, func(t *testing.T, p Pattern) (string, string) {
		dir := t.TempDir()
		require.NoError(t, p.Init(dir, "config.yaml", content(1)))
		return dir, dir
	}}}
	if os.Geteuid() == 0 {
		base, _, err := fsmount.NewBase("")
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, fsmount.RemoveBase(base)) })
		tm, err := fsmount.Open(fsmount.Tmpfs, base)
		if errors.Is(err, fsmount.ErrSkipped) {
			t.Log(err)
		} else {
			require.NoError(t, err)
			t.Cleanup(func() { assert.NoError(t, tm.Close()) })
			places = append(places, place{fsmount.Tmpfs, func(t *testing.T, p Pattern) (string, string) {
				d, err := tm.NewTrial(p.Name, func(dir string) error { return p.Init(dir, "config.yaml", content(1)) })
				require.NoError(t, err)
				t.Cleanup(func() { assert.NoError(t, d.Close()) })
				return d.Write, d.Watch
			}})
		}
	}
	for _, pl := range places {
		for _, p := range All() {
			t.Run(pl.name+"/"+p.Name, func(t *testing.T) {
				t.Parallel()
				if err := p.Available(); err != nil {
					t.Skip(err)
				}
				dir, view := pl.trial(t, p)
				cleanup, err := p.Setup(dir, view, "config.yaml")
				t.Cleanup(func() {
					assert.NoError(t, cleanup())
					assert.Empty(t, fsmount.MountsUnder(view), "no mount left under the view")
					assert.Empty(t, fsmount.MountsUnder(dir), "no mount left under the trial directory")
				})
				require.NoError(t, err)
				watch := p.WatchPath(view, "config.yaml")
				if p.Mounts {
					assert.NotEmpty(t, fsmount.MountsUnder(filepath.Dir(watch)), "the shape's watched side is a bind mount")
				}
				got, err := os.ReadFile(watch)
				require.NoError(t, err)
				require.True(t, bytes.Equal(content(1), got), "the watched path shows version 1 (%d bytes)", len(got))

				v := 1
				next := func() []byte { v++; return content(v) }
				for range 2 {
					_, err := p.Write(context.Background(), dir, "config.yaml", next)
					require.NoError(t, err)
				}
				host, err := os.ReadFile(p.HostPath(dir, "config.yaml"))
				require.NoError(t, err)
				got, err = os.ReadFile(watch)
				require.NoError(t, err)
				var st syscall.Stat_t
				require.NoError(t, syscall.Stat(watch, &st))
				switch {
				case !p.ChangesContent:
					assert.True(t, bytes.Equal(content(1), got), "nothing changed")
				case p.CannotFollow != "":
					assert.True(t, bytes.Equal(content(v), host), "the host side holds the last version")
					assert.True(t, bytes.Equal(content(1), got), "the watched side still shows version 1 (%d bytes)", len(got))
					assert.Equal(t, uint64(0), uint64(st.Nlink), "the inode the watched side shows was unlinked")
				default:
					assert.True(t, bytes.Equal(content(v), got), "the watched path shows the last version (%d bytes)", len(got))
					assert.NotZero(t, st.Nlink)
				}
			})
		}
	}
}

// TestShapeFields checks what the detect lab relies on: every shape has a
// description of its layout, exactly the shapes with a mount step say so,
// and the names the issue asks for are there.
func TestShapeFields(t *testing.T) {
	t.Parallel()
	want := map[string]struct{ mounts, cannotFollow bool }{
		"bindmount-file-rename":  {true, true},
		"bindmount-file-inplace": {true, false},
		"subpath":                {true, true},
		"bindmount-dir-rename":   {true, false},
		"bindmount-dir-inplace":  {true, false},
		"release-symlink":        {false, false},
		"git-checkout":           {false, false},
		"older-mtime":            {false, false},
	}
	for name, w := range want {
		p, err := Lookup(name)
		require.NoError(t, err)
		assert.Equal(t, w.mounts, p.Mounts, name)
		assert.Equal(t, w.mounts, p.bind != nil, name)
		assert.Equal(t, w.cannotFollow, p.CannotFollow != "", name)
		assert.True(t, p.ChangesContent, name)
		assert.NotEmpty(t, p.Models, name)
	}
	for _, p := range All() {
		if p.Mounts || p.watch != nil {
			assert.NotEmpty(t, p.Shape, "%s: a shape says how the file reaches the watchers", p.Name)
		}
		if _, ok := want[p.Name]; !ok {
			assert.Equal(t, Path("d", "c"), p.WatchPath("d", "c"), p.Name)
			assert.Equal(t, Path("d", "c"), p.HostPath("d", "c"), p.Name)
			cleanup, err := p.Setup("d", "d", "c")
			assert.NoError(t, err, "no mount step: nothing to do")
			assert.NoError(t, cleanup())
		}
	}
}
