//go:build linux

package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/targets/debugapi"
)

// TestTargetReportsStaleBindMount runs the real target (robust preset) on a
// bind-mounted config file whose host side is then saved by rename:
// /debug/reload must show the stale state with its reason and count it,
// stderr must carry one line telling the operator to mount the directory,
// and the old config must keep serving.
func TestTargetReportsStaleBindMount(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and starts the target binary")
	}
	if os.Geteuid() != 0 {
		t.Skip("a single-file bind mount needs root (mount(2) with MS_BIND)")
	}
	src := filepath.Join(t.TempDir(), "config.yaml")
	dst := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(src, config.Generate(1, 100), 0o644))
	require.NoError(t, os.WriteFile(dst, nil, 0o644))
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skipf("bind mount not permitted here: %v", err)
		}
		require.NoError(t, err)
	}
	t.Cleanup(func() { unix.Unmount(dst, unix.MNT_DETACH) })

	const safety = 300 * time.Millisecond
	tg := startTarget(t, "-config", dst, "-strategy", "robust", "-safety-interval", safety.String())
	st := tg.status(t)
	assert.False(t, st.Stale)
	assert.Zero(t, st.StaleReports)

	renameIn(t, src, config.Generate(2, 100))
	st = tg.waitStatus(t, "the stale state", func(s debugapi.ReloadStatus) bool { return s.Stale })
	assert.Contains(t, st.StaleReason, "mount the directory, not the file")
	assert.Equal(t, uint64(1), st.StaleReports)
	assert.Equal(t, int64(1), st.Version, "the last good config keeps serving")
	assert.Equal(t, `{"version":1}`, tg.root(t))
	var staleEvents int
	for _, e := range st.Events {
		if e.Outcome == strategies.Stale {
			staleEvents++
			assert.Equal(t, st.StaleReason, e.Reason)
		}
	}
	assert.Equal(t, 1, staleEvents, "the event log records it")

	time.Sleep(3 * safety)
	st = tg.status(t)
	assert.Equal(t, uint64(1), st.StaleReports, "one report per episode")
	require.NoError(t, tg.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, tg.cmd.Wait())
	logs := tg.stderr.String()
	assert.Equal(t, 1, strings.Count(logs, "mount the directory, not the file; serving the last good config"),
		"one log line tells the operator what to do; stderr:\n%s", logs)
}
