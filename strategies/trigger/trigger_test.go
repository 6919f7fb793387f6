package trigger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a Sink that keeps what it is told. Fire blocks while gate is
// held, which lets a test stall a trigger's event loop.
type recorder struct {
	gate sync.RWMutex

	mu      sync.Mutex
	notices []Notice
	errs    []error
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) Fire(n Notice) {
	r.gate.RLock()
	r.gate.RUnlock()
	r.mu.Lock()
	r.notices = append(r.notices, n)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) Error(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds over the recorded notices and errors.
func (r *recorder) waitFor(t *testing.T, what string, cond func([]Notice, []error) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond(r.notices, r.errs)
		summary := fmt.Sprintf("notices %v, errors %v", r.notices, r.errs)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; got %s", what, summary)
		}
	}
}

func hasReason(sub string) func([]Notice, []error) bool {
	return func(ns []Notice, _ []error) bool {
		for _, n := range ns {
			if strings.Contains(n.Reason, sub) {
				return true
			}
		}
		return false
	}
}

func hasError(target error) func([]Notice, []error) bool {
	return func(_ []Notice, es []error) bool {
		for _, e := range es {
			if errors.Is(e, target) {
				return true
			}
		}
		return false
	}
}

func TestNewUnknownListsValid(t *testing.T) {
	t.Parallel()
	_, err := New("inotifywait")
	require.Error(t, err)
	for _, n := range Names() {
		assert.Contains(t, err.Error(), n)
		assert.NotEmpty(t, Describe(n))
	}
}

// TestRobustRecoversLostWatch replaces the watched directory: robust must
// notice the lost watch, rescan, re-add the watch, and then see a later
// change through inotify again (not only through its safety poll).
func TestRobustRecoversLostWatch(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "conf")
	require.NoError(t, os.Mkdir(dir, 0o755))
	cfg := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("version: 1\n"), 0o644))

	tr, err := New("robust", WithDebounce(20*time.Millisecond), WithSafetyInterval(150*time.Millisecond))
	require.NoError(t, err)
	rec := newRecorder()
	w, err := tr.Start(cfg, rec)
	require.NoError(t, err)
	defer w.Close()

	// Replace the directory: the old one moves away, a new one takes its name.
	require.NoError(t, os.Rename(dir, filepath.Join(base, "conf.old")))
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.WriteFile(cfg, []byte("version: 2\n"), 0o644))
	rec.waitFor(t, "the lost watch to be reported", func(_ []Notice, es []error) bool {
		for _, e := range es {
			if strings.Contains(e.Error(), "watch lost") {
				return true
			}
		}
		return false
	})
	rec.waitFor(t, "the watch to be re-established", hasReason("watch re-established"))

	// A change now must come through the new inotify watch.
	require.NoError(t, os.WriteFile(cfg, []byte("version: 3\n"), 0o644))
	want := "robust: WRITE config.yaml"
	if closeWriteEvents {
		want = "robust: CLOSE_WRITE config.yaml" // the writer's close fires at once
	}
	rec.waitFor(t, "an inotify notice after re-adding", hasReason(want))
}

// TestOverflow stalls the triggers' event loops while more events than
// fs.inotify.max_queued_events arrive, without changing that limit. The
// kernel drops events and queues IN_Q_OVERFLOW; robust must report it and
// rescan, dirwatch only reports it.
func TestOverflow(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("generates tens of thousands of file-system events")
	}
	limit := maxQueuedEvents(t)
	for _, name := range []string{"robust", "dirwatch"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.yaml")
			require.NoError(t, os.WriteFile(cfg, []byte("version: 1\n"), 0o644))
			tr, err := New(name, WithDebounce(20*time.Millisecond), WithSafetyInterval(time.Hour))
			require.NoError(t, err)
			rec := newRecorder()
			w, err := tr.Start(cfg, rec)
			require.NoError(t, err)
			defer w.Close()

			// Stall the consumer: with the gate held, the debounced Fire
			// blocks while holding the debouncer, so the event loop blocks
			// on its next poke and stops draining inotify.
			rec.gate.Lock()
			require.NoError(t, os.WriteFile(cfg, []byte("version: 1\n"), 0o644))
			time.Sleep(150 * time.Millisecond) // the debounce expires and blocks in Fire
			require.NoError(t, os.WriteFile(cfg, []byte("version: 1\n"), 0o644))
			time.Sleep(50 * time.Millisecond) // the loop blocks in poke
			flood(t, dir, limit+limit/2)
			require.NoError(t, os.WriteFile(cfg, []byte("version: 2\n"), 0o644))
			rec.gate.Unlock()

			rec.waitFor(t, "ErrEventOverflow", hasError(fsnotify.ErrEventOverflow))
			if name == "robust" {
				rec.waitFor(t, "an overflow rescan", hasReason("overflow, rescan"))
			} else {
				time.Sleep(500 * time.Millisecond)
				rec.mu.Lock()
				defer rec.mu.Unlock()
				for _, n := range rec.notices {
					assert.NotContains(t, n.Reason, "rescan", "dirwatch must not rescan")
				}
			}
		})
	}
}

// flood creates and removes files in dir until at least n events were made.
func flood(t *testing.T, dir string, n int) {
	t.Helper()
	for i := 0; i < n/2+1; i++ {
		p := filepath.Join(dir, "noise-"+strconv.Itoa(i%64))
		f, err := os.Create(p)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.NoError(t, os.Remove(p))
	}
}

func maxQueuedEvents(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skipf("cannot read the inotify queue limit: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	if n > 1<<20 {
		t.Skipf("max_queued_events is %d: overflowing it would take too long", n)
	}
	return n
}

func TestDebouncerCoalescesAndBounds(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	d := newDebouncer(40*time.Millisecond, 120*time.Millisecond, rec)
	defer d.stop()
	start := time.Now()
	// Pokes every 10 ms for 300 ms: without MaxWait this would never fire.
	for time.Since(start) < 300*time.Millisecond {
		d.poke("event", time.Now())
		time.Sleep(10 * time.Millisecond)
	}
	rec.waitFor(t, "a bounded fire", func(ns []Notice, _ []error) bool { return len(ns) >= 1 })
	rec.mu.Lock()
	n := len(rec.notices)
	first := rec.notices[0]
	rec.mu.Unlock()
	assert.Less(t, n, 30, "pokes must coalesce")
	assert.Equal(t, "event", first.Reason)
	assert.False(t, first.Seen.Before(start))

	d.stop()
	d.poke("after stop", time.Now())
	time.Sleep(100 * time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, ns := range rec.notices {
		assert.NotEqual(t, "after stop", ns.Reason, "no fire after stop")
	}
}

// TestFileWatchIgnoresAddError checks scheme 1's kept defect: a path that
// cannot be watched is reported, not returned, and nothing ever fires.
func TestFileWatchIgnoresAddError(t *testing.T) {
	t.Parallel()
	tr, err := New("fsnotify")
	require.NoError(t, err)
	rec := newRecorder()
	w, err := tr.Start(filepath.Join(t.TempDir(), "missing.yaml"), rec)
	require.NoError(t, err, "scheme 1 ignores the Add error")
	defer w.Close()
	rec.waitFor(t, "the Add error to be reported", func(_ []Notice, es []error) bool { return len(es) == 1 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Contains(t, rec.errs[0].Error(), "never reload")
}

func TestDirWatchFailsLoudly(t *testing.T) {
	t.Parallel()
	tr, err := New("dirwatch")
	require.NoError(t, err)
	_, err = tr.Start(filepath.Join(t.TempDir(), "no-such-dir", "config.yaml"), newRecorder())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such-dir")
}

func TestRobustStartsWithoutInotify(t *testing.T) {
	t.Parallel()
	// The directory does not exist yet: the watch cannot be added, robust
	// must start anyway and pick the file up once it appears.
	base := t.TempDir()
	cfg := filepath.Join(base, "later", "config.yaml")
	tr, err := New("robust", WithSafetyInterval(50*time.Millisecond))
	require.NoError(t, err)
	rec := newRecorder()
	w, err := tr.Start(cfg, rec)
	require.NoError(t, err)
	defer w.Close()
	rec.waitFor(t, "the failed watch to be reported", func(_ []Notice, es []error) bool { return len(es) > 0 })
	require.NoError(t, os.Mkdir(filepath.Dir(cfg), 0o755))
	require.NoError(t, os.WriteFile(cfg, []byte("version: 1\n"), 0o644))
	rec.waitFor(t, "the watch to be established late", hasReason("watch re-established"))
}
