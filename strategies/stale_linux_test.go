//go:build linux

package strategies

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// bindMountFile bind-mounts a new file host/config.yaml (holding host) onto
// ctr/config.yaml (holding under, seen again after the unmount), as docker
// run -v file:file does, and returns both paths. The mount is always
// undone by the test's cleanup. It skips when mount(2) is not allowed.
func bindMountFile(t *testing.T, host, under []byte) (src, dst string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a single-file bind mount needs root (mount(2) with MS_BIND); run the tests as root to cover the stale report")
	}
	src = filepath.Join(t.TempDir(), "config.yaml")
	dst = filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(src, host, 0o644))
	require.NoError(t, os.WriteFile(dst, under, 0o644))
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			t.Skipf("bind mount not permitted here (no CAP_SYS_ADMIN in this namespace?): %v", err)
		}
		require.NoError(t, err, "bind mount %s on %s", src, dst)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dst, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			t.Errorf("unmount %s: %v", dst, err)
		}
	})
	return src, dst
}

func writeInPlace(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	require.NoError(t, err)
	_, err = f.Write(data)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// TestRobustReportsStaleBindMount bind-mounts a config file and runs robust
// on the mount point. In-place writes, from either side of the mount, are
// followed and nothing is stale. Then the host side saves by temp file and
// rename: the mount keeps the old, now unlinked inode, and no process behind
// it can see the new file. Robust must say so once, within one safety
// interval, with a reason that says what to do, while the old config keeps
// serving; and clear it when the path can be followed again (the unmount
// shows the file under the mount point).
func TestRobustReportsStaleBindMount(t *testing.T) {
	t.Parallel()
	const safety = 300 * time.Millisecond
	const slack = time.Second
	src, dst := bindMountFile(t, config.Generate(1, 10), config.Generate(9, 10))
	r, log := startRobust(t, dst, 100*time.Millisecond, trigger.WithSafetyInterval(safety))

	writeInPlace(t, dst, config.Generate(2, 10)) // through the mount point
	log.wait(t, "apply of an in-place write through the mount", 2*time.Second, appliedVersion(2))
	writeInPlace(t, src, config.Generate(3, 10)) // on the host side, in place
	log.wait(t, "apply of a host-side in-place write", safety+slack, appliedVersion(3))
	time.Sleep(2 * safety)
	isStale := func(e Event) bool { return e.Outcome == Stale }
	require.Zero(t, log.count(isStale), "in-place writes through a bind mount are followed, not stale")
	require.False(t, r.Status(0).Stale)

	// The host saves by temp file + rename.
	require.NoError(t, os.WriteFile(src+".tmp", config.Generate(4, 10), 0o644))
	replaced := time.Now()
	require.NoError(t, os.Rename(src+".tmp", src))
	e := log.wait(t, "a stale report", safety+slack, isStale)
	assert.WithinDuration(t, replaced, e.Detected, safety+slack, "reported within one safety interval")
	t.Logf("stale reported %s after the replace: %s", e.Detected.Sub(replaced), e.Reason)
	assert.Contains(t, e.Reason, dst)
	assert.Contains(t, e.Reason, "st_nlink 0")
	assert.Contains(t, e.Reason, "mount the directory, not the file")
	assert.Equal(t, int64(3), e.Version, "the stale event names the version still serving")

	time.Sleep(3 * safety) // several safety ticks: still one report
	assert.Equal(t, 1, log.count(isStale), "one report per stale episode")
	st := r.Status(0)
	assert.True(t, st.Stale)
	assert.Equal(t, e.Reason, st.StaleReason)
	assert.Equal(t, uint64(1), st.StaleReports)
	assert.Equal(t, int64(3), r.Store().Version(), "the last good config keeps serving")
	assert.Zero(t, log.count(appliedVersion(4)), "the new file cannot be seen through the mount")

	// The mount goes away: the path now shows the file under it (version 9),
	// which can be followed. The stale state clears and a rescan reads it.
	require.NoError(t, unix.Unmount(dst, 0))
	log.wait(t, "the rescan after the stale state cleared", safety+slack, appliedVersion(9))
	assert.False(t, r.Status(0).Stale)
	assert.Equal(t, 1, log.count(isStale))
}
