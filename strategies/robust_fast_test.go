package strategies

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// eventLog keeps the events an observer saw and lets a test wait for one.
type eventLog struct {
	mu     sync.Mutex
	events []Event
	poke   chan struct{}
}

func newEventLog() *eventLog { return &eventLog{poke: make(chan struct{}, 1)} }

func (l *eventLog) observe(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	select {
	case l.poke <- struct{}{}:
	default:
	}
}

// wait returns the first event that satisfies ok, or fails after within.
func (l *eventLog) wait(t *testing.T, what string, within time.Duration, ok func(Event) bool) Event {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		for _, e := range l.events {
			if ok(e) {
				l.mu.Unlock()
				return e
			}
		}
		l.mu.Unlock()
		select {
		case <-l.poke:
		case <-time.After(20 * time.Millisecond):
		case <-deadline.C:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("no %s within %s; events: %+v", what, within, l.events)
			return Event{}
		}
	}
}

// count returns how many events satisfy ok.
func (l *eventLog) count(ok func(Event) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if ok(e) {
			n++
		}
	}
	return n
}

func appliedVersion(v int64) func(Event) bool {
	return func(e Event) bool { return e.Outcome == Applied && e.Version == v }
}

// startRobust runs robust on path through the pipeline with the given
// debounce, an hour-long safety interval and no signals (the script tests
// signal this process), so that only the directory watch can fire.
func startRobust(t *testing.T, path string, debounce time.Duration, opts ...trigger.Option) (*Reloader, *eventLog) {
	t.Helper()
	log := newEventLog()
	opts = append([]trigger.Option{trigger.WithDebounce(debounce), trigger.WithSafetyInterval(time.Hour), trigger.WithSignals()}, opts...)
	tr, err := trigger.New("robust", opts...)
	require.NoError(t, err)
	r := NewReloader(path, store.NewAtomic(), tr, WithObserver(log.observe))
	require.NoError(t, r.Start())
	t.Cleanup(func() { r.Close() })
	return r, log
}

// needCloseWrite skips where robust cannot tell a writer's close or a rename
// into place from other events (not Linux): everything is debounced there.
func needCloseWrite(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("robust sees IN_CLOSE_WRITE and IN_MOVED_TO on Linux only; elsewhere every event is debounced")
	}
}

// The debounce in these tests is 10 s: an apply within 2 s did not wait for
// it. No test depends on how fast the machine is, only on that ordering.
const (
	longDebounce = 10 * time.Second
	wellBefore   = 2 * time.Second
)

// TestRobustAppliesRenameWithoutDebounce: a file renamed into place is
// complete, and is read at once.
func TestRobustAppliesRenameWithoutDebounce(t *testing.T) {
	t.Parallel()
	needCloseWrite(t)
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, config.Generate(1, 10), 0o644))
	_, log := startRobust(t, path, longDebounce)

	require.NoError(t, os.WriteFile(path+".tmp", config.Generate(2, 10), 0o644))
	require.NoError(t, os.Rename(path+".tmp", path))
	e := log.wait(t, "apply of the renamed file", wellBefore, appliedVersion(2))
	assert.Contains(t, e.Reason, "MOVED_TO config.yaml")
}

// TestRobustAppliesSymlinkSwapWithoutDebounce: the Kubernetes ..data swap
// (a symlink renamed over ..data) is read at once.
func TestRobustAppliesSymlinkSwapWithoutDebounce(t *testing.T) {
	t.Parallel()
	needCloseWrite(t)
	dir := t.TempDir()
	mkVersion := func(v int64) string {
		ts := filepath.Join(dir, "..v"+string(rune('0'+v)))
		require.NoError(t, os.Mkdir(ts, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(ts, "config.yaml"), config.Generate(v, 10), 0o644))
		return filepath.Base(ts)
	}
	require.NoError(t, os.Symlink(mkVersion(1), filepath.Join(dir, "..data")))
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.Symlink(filepath.Join("..data", "config.yaml"), path))
	_, log := startRobust(t, path, longDebounce)

	require.NoError(t, os.Symlink(mkVersion(2), filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	e := log.wait(t, "apply after the ..data swap", wellBefore, appliedVersion(2))
	assert.Contains(t, e.Reason, "resolved target changed")
}

// TestRobustAppliesClosedWriteWithoutDebounce: an in-place write is read as
// soon as its writer closes the file.
func TestRobustAppliesClosedWriteWithoutDebounce(t *testing.T) {
	t.Parallel()
	needCloseWrite(t)
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, config.Generate(1, 10), 0o644))
	_, log := startRobust(t, path, longDebounce)

	require.NoError(t, os.WriteFile(path, config.Generate(2, 10), 0o644)) // truncate, write, close
	e := log.wait(t, "apply of the closed write", wellBefore, appliedVersion(2))
	assert.Contains(t, e.Reason, "CLOSE_WRITE config.yaml")
}

// TestRobustWaitsForTheWriter: an in-place write whose writer keeps the file
// open is not read until the writer closes it (debounce 10 s), nor before
// the debounce has passed (debounce 300 ms): half a file written, a pause,
// the rest, as the inplace-slow pattern does, is never read half done.
func TestRobustWaitsForTheWriter(t *testing.T) {
	t.Parallel()
	needCloseWrite(t)
	halfWrite := func(t *testing.T, path string, v int64) (*os.File, []byte) {
		data := config.Generate(v, 50)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		require.NoError(t, err)
		_, err = f.Write(data[:len(data)/2])
		require.NoError(t, err)
		return f, data
	}
	notServed := func(e Event) bool { return e.Outcome != Unchanged && e.Reason != "initial load" }

	t.Run("until the close", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "config.yaml")
		require.NoError(t, os.WriteFile(path, config.Generate(1, 50), 0o644))
		r, log := startRobust(t, path, longDebounce)
		f, data := halfWrite(t, path, 2)
		time.Sleep(500 * time.Millisecond) // the writer pauses mid-file
		_, err := f.Write(data[len(data)/2:])
		require.NoError(t, err)
		time.Sleep(200 * time.Millisecond) // written, still open
		assert.Zero(t, log.count(notServed), "nothing is read while the writer has the file open")
		assert.Equal(t, int64(1), r.Store().Version())
		require.NoError(t, f.Close())
		log.wait(t, "apply after the close", wellBefore, appliedVersion(2))
		assert.Zero(t, log.count(func(e Event) bool { return e.Outcome == Rejected }), "no half-written file was read")
	})

	t.Run("until the debounce", func(t *testing.T) {
		t.Parallel()
		const debounce = 300 * time.Millisecond
		path := filepath.Join(t.TempDir(), "config.yaml")
		require.NoError(t, os.WriteFile(path, config.Generate(1, 50), 0o644))
		_, log := startRobust(t, path, debounce)
		f, data := halfWrite(t, path, 2)
		_, err := f.Write(data[len(data)/2:])
		require.NoError(t, err)
		wrote := time.Now()
		defer f.Close()
		e := log.wait(t, "apply after the debounce", 10*time.Second, appliedVersion(2))
		assert.GreaterOrEqual(t, e.ReadStart.Sub(wrote), debounce-10*time.Millisecond,
			"a write not closed is read only once the debounce has passed")
	})
}

// TestRobustFollowsReleaseSwapAtOnce: the config lives under current ->
// releases/N and a deploy re-points current at a new release (a temp
// symlink renamed over it). The watch on the old release sees nothing;
// robust watches the directory holding current too, moves its watch and
// reads at once, then follows writes in the new release.
func TestRobustFollowsReleaseSwapAtOnce(t *testing.T) {
	t.Parallel()
	needCloseWrite(t)
	base := t.TempDir()
	release := func(n int64) string {
		rel := filepath.Join("releases", string(rune('0'+n)))
		require.NoError(t, os.MkdirAll(filepath.Join(base, rel), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(base, rel, "config.yaml"), config.Generate(n, 10), 0o644))
		return rel
	}
	require.NoError(t, os.Symlink(release(1), filepath.Join(base, "current")))
	path := filepath.Join(base, "current", "config.yaml")
	_, log := startRobust(t, path, longDebounce)

	require.NoError(t, os.Symlink(release(2), filepath.Join(base, "current.tmp")))
	require.NoError(t, os.Rename(filepath.Join(base, "current.tmp"), filepath.Join(base, "current")))
	e := log.wait(t, "apply after the release swap", wellBefore, appliedVersion(2))
	assert.Contains(t, e.Reason, "leads elsewhere")

	require.NoError(t, os.WriteFile(path, config.Generate(3, 10), 0o644))
	log.wait(t, "apply of a write in the new release", wellBefore, appliedVersion(3))
}
