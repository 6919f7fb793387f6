//go:build linux

package trigger

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// staleRecorder is a recorder that also keeps stale reports.
type staleRecorder struct {
	*recorder
	mu      sync.Mutex
	reports []string
	at      []time.Time
}

func (s *staleRecorder) Stale(reason string) {
	s.mu.Lock()
	s.reports = append(s.reports, reason)
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
	s.poke()
}

func (s *staleRecorder) snapshot() ([]string, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reports...), append([]time.Time(nil), s.at...)
}

// TestRobustStaleOnSafetyTick checks the stale report that does not rely on
// the watch robust adds on a bind-mounted file (turned off here): the safety
// tick alone must report a replaced bind-mount source within one interval,
// once, and the end of the episode when the mount goes.
func TestRobustStaleOnSafetyTick(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a single-file bind mount needs root (mount(2) with MS_BIND)")
	}
	noFileWatch.Store(true)
	defer noFileWatch.Store(false)
	src := filepath.Join(t.TempDir(), "config.yaml")
	dst := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(src, []byte("version: 1\n"), 0o644))
	require.NoError(t, os.WriteFile(dst, []byte("version: 9\n"), 0o644))
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skipf("bind mount not permitted here: %v", err)
		}
		require.NoError(t, err)
	}
	mounted := true
	t.Cleanup(func() {
		if mounted {
			unix.Unmount(dst, unix.MNT_DETACH)
		}
	})
	const safety = 200 * time.Millisecond
	rec := &staleRecorder{recorder: newRecorder()}
	w, err := NewRobust(WithSafetyInterval(safety)).Start(dst, rec)
	require.NoError(t, err)
	defer w.Close()

	time.Sleep(2*safety + safety/2) // between two ticks
	reports, _ := rec.snapshot()
	require.Empty(t, reports, "a followed bind mount is not stale")

	require.NoError(t, os.WriteFile(src+".tmp", []byte("version: 2\n"), 0o644))
	replaced := time.Now()
	require.NoError(t, os.Rename(src+".tmp", src))
	rec.waitFor(t, "a stale report", func([]Notice, []error) bool { r, _ := rec.snapshot(); return len(r) > 0 })
	reports, at := rec.snapshot()
	assert.Contains(t, reports[0], "is a file bind mount whose source was replaced (st_nlink 0)")
	assert.Contains(t, reports[0], "mount the directory, not the file")
	assert.LessOrEqual(t, at[0].Sub(replaced), safety+staleConfirm+200*time.Millisecond, "within one safety interval")
	t.Logf("stale reported %s after the replace (safety interval %s)", at[0].Sub(replaced), safety)

	time.Sleep(3 * safety)
	reports, _ = rec.snapshot()
	assert.Len(t, reports, 1, "once per episode")

	require.NoError(t, unix.Unmount(dst, 0))
	mounted = false
	rec.waitFor(t, "the episode to end", func([]Notice, []error) bool { r, _ := rec.snapshot(); return len(r) == 2 })
	reports, _ = rec.snapshot()
	assert.Equal(t, "", reports[1])
	rec.waitFor(t, "a rescan after it", hasReason("can be followed again, rescan"))
}
