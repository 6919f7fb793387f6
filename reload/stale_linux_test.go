//go:build linux

package reload

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestStaleBindMountReported bind-mounts a config file (docker run -v
// file:file) and runs the default Robust trigger on the mount point. An
// in-place write from the host side is followed; a host-side save by
// rename leaves the mount on the old, unlinked file: the Reloader must
// report it once, within one safety interval, as a Stale event and in
// Status, and keep serving the last good value.
func TestStaleBindMountReported(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("a single-file bind mount needs root (mount(2) with MS_BIND)")
	}
	src := filepath.Join(t.TempDir(), "config.yaml")
	dst := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(src, []byte(yamlConfig("v1", 80)), 0o644))
	require.NoError(t, os.WriteFile(dst, nil, 0o644))
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skipf("bind mount not permitted here: %v", err)
		}
		require.NoError(t, err)
	}
	t.Cleanup(func() { unix.Unmount(dst, unix.MNT_DETACH) })

	const safety = 300 * time.Millisecond
	var got events
	r := startConfig(t, dst, WithSafetyInterval(safety), WithObserver(got.observe))
	isStale := func(e Event) bool { return e.Outcome == Stale }

	inPlace(t, src, yamlConfig("v2", 80))
	eventually(t, "the host-side in-place write to be served", func() bool { return r.Load().Name == "v2" })
	assert.False(t, r.Status().Stale)
	assert.False(t, got.has(isStale))

	renameSave(t, src, yamlConfig("v3", 80))
	replaced := time.Now()
	eventually(t, "a stale report", func() bool { return got.has(isStale) })
	var ev Event
	for _, e := range got.list() {
		if isStale(e) {
			ev = e
			break
		}
	}
	assert.WithinDuration(t, replaced, ev.Detected, safety+time.Second, "reported within one safety interval")
	assert.True(t, ev.Stale)
	assert.Contains(t, ev.StaleReason, "st_nlink 0")
	assert.Contains(t, ev.StaleReason, "mount the directory, not the file")
	assert.Equal(t, uint64(2), ev.Version, "the version still serving")

	time.Sleep(3 * safety)
	st := r.Status()
	assert.True(t, st.Stale)
	assert.Equal(t, ev.StaleReason, st.StaleReason)
	assert.Equal(t, uint64(1), st.StaleReports, "one report per episode")
	n := 0
	for _, e := range got.list() {
		if isStale(e) {
			n++
		}
	}
	assert.Equal(t, 1, n, "one Stale event per episode")
	assert.Equal(t, "v2", r.Load().Name, "the last good value keeps serving")
	require.NoError(t, r.Reload(t.Context()), "a manual reload reads the old file: nothing to apply")
	assert.True(t, r.Status().Stale, "a run that finds the serving content does not clear a stale mount")
}
