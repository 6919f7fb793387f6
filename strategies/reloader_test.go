package strategies

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// manual is a trigger that never fires by itself: tests call Reload.
type manual struct{}

func (manual) Name() string { return "manual" }
func (manual) Start(string, trigger.Sink) (io.Closer, error) {
	return io.NopCloser(nil), nil
}

func startManual(t *testing.T, path string, opts ...Option) *Reloader {
	t.Helper()
	r := NewReloader(path, store.NewAtomic(), manual{}, opts...)
	require.NoError(t, r.Start())
	t.Cleanup(func() { r.Close() })
	return r
}

func notice(reason string) trigger.Notice { return trigger.Notice{Reason: reason, Seen: time.Now()} }

func aliasBomb() string {
	var b strings.Builder
	b.WriteString("version: 9\na0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < 9; i++ {
		prev := "*a" + string(rune('0'+i-1))
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [" + strings.Repeat(prev+",", 8) + prev + "]\n")
	}
	return b.String()
}

// TestPipelineRejects replaces a valid config with every kind of bad file a
// file system can produce and checks that each is rejected with a clear
// reason while version 1 keeps serving, and that a good file afterwards is
// applied.
func TestPipelineRejects(t *testing.T) {
	t.Parallel()
	writeFile := func(data string) func(t *testing.T, path string) {
		return func(t *testing.T, path string) { require.NoError(t, os.WriteFile(path, []byte(data), 0o644)) }
	}
	replace := func(mk func(path string) error) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			require.NoError(t, os.Remove(path))
			require.NoError(t, mk(path))
		}
	}
	tests := []struct {
		name  string
		make  func(t *testing.T, path string)
		limit int64
		want  string
	}{
		{"empty file", writeFile(""), 0, "empty file"},
		{"invalid yaml", writeFile("version: 2\nk: [oops\n"), 0, "invalid YAML"},
		{"missing version", writeFile("k: v\n"), 0, `"version": missing`},
		{"non-integer version", writeFile("version: two\n"), 0, "must be an integer, got a string"},
		{"nested values", writeFile("version: 2\ndb:\n  host: x\n"), 0, "nested mapping"},
		{"binary garbage", writeFile("\x00\xff\x13\x37garbage\x00"), 0, "invalid YAML"},
		{"yaml alias bomb", writeFile(aliasBomb()), 0, "got a sequence"},
		{"over the size limit", writeFile(string(config.Generate(2, 200))), 1024, "exceeds the size limit"},
		{"missing file", func(t *testing.T, path string) { require.NoError(t, os.Remove(path)) }, 0, "missing file"},
		{"directory at the path", replace(func(p string) error { return os.Mkdir(p, 0o755) }), 0, "a directory"},
		{"fifo at the path", replace(mkfifo), 0, "a FIFO"},
		{"symlink loop", replace(func(p string) error { return os.Symlink(p, p) }), 0, "symlink loop"},
		{"unreadable file", func(t *testing.T, path string) {
			if os.Geteuid() == 0 {
				t.Skip("running as root: root reads files whatever their permission bits, so an unreadable file cannot be made")
			}
			require.NoError(t, os.Chmod(path, 0))
		}, 0, "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.yaml")
			good := config.Generate(1, 10)
			require.NoError(t, os.WriteFile(path, good, 0o644))
			var opts []Option
			if tt.limit > 0 {
				opts = append(opts, WithSizeLimit(tt.limit))
			}
			r := startManual(t, path, opts...)
			tt.make(t, path)

			done := make(chan Event, 1)
			go func() { done <- r.Reload(notice("test")) }()
			var ev Event
			select {
			case ev = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Reload hung")
			}
			assert.Equal(t, Rejected, ev.Outcome)
			assert.Contains(t, ev.Error, tt.want)
			assert.Equal(t, int64(1), r.Store().Version(), "the old version must keep serving")
			v, ok := r.Store().Get(config.KeyName(3))
			assert.True(t, ok)
			assert.Equal(t, config.Value(1, 3), v)
			st := r.Status(0)
			assert.Equal(t, uint64(1), st.Rejected)
			assert.Equal(t, uint64(0), st.Reloads)
			assert.Equal(t, ev.Error, st.LastError)

			// A good file afterwards is applied.
			os.Chmod(path, 0o644)
			if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
				require.NoError(t, os.RemoveAll(path))
			}
			require.NoError(t, os.WriteFile(path, config.Generate(2, 10), 0o644))
			ev = r.Reload(notice("fixed"))
			assert.Equal(t, Applied, ev.Outcome, ev.Error)
			assert.Equal(t, int64(2), r.Store().Version())
		})
	}
}

func TestPipelineDedupAndEvents(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, config.Generate(1, 5), 0o644))
	r := startManual(t, path)

	ev := r.Reload(notice("same content"))
	assert.Equal(t, Unchanged, ev.Outcome)

	require.NoError(t, os.WriteFile(path, []byte("version: x\n"), 0o644))
	assert.Equal(t, Rejected, r.Reload(notice("bad")).Outcome)
	assert.Equal(t, Unchanged, r.Reload(notice("same bad content")).Outcome, "a rejected file is not re-parsed")

	require.NoError(t, os.WriteFile(path, config.Generate(2, 5), 0o644))
	ev = r.Reload(notice("good"))
	require.Equal(t, Applied, ev.Outcome)
	assert.Equal(t, int64(2), ev.Version)
	assert.Equal(t, int64(1), ev.PrevVersion)
	assert.Equal(t, 5, ev.Keys)
	assert.Equal(t, "good", ev.Reason)
	assert.False(t, ev.ApplyEnd.Before(ev.ApplyStart))
	assert.Len(t, ev.Hash, 64)

	st := r.Status(0)
	assert.Equal(t, uint64(1), st.Reloads)
	assert.Equal(t, uint64(1), st.Rejected)
	assert.Equal(t, uint64(2), st.Unchanged)
	// initial load, unchanged, rejected, unchanged, applied: every run is logged
	require.Len(t, st.Events, 5)
	var outcomes []Outcome
	for _, e := range st.Events {
		outcomes = append(outcomes, e.Outcome)
		assert.False(t, e.Finished.Before(e.ReadStart), "a run finishes after it starts")
		if runtime.GOOS == "linux" {
			assert.True(t, e.CPU.Measured, "the thread CPU clock exists on Linux")
			assert.Positive(t, e.CPU.Read, "reading and hashing take CPU")
		}
	}
	assert.Equal(t, []Outcome{Applied, Unchanged, Rejected, Unchanged, Applied}, outcomes)
	assert.Zero(t, st.Events[1].CPU.Parse, "an unchanged file is not parsed")
	assert.Len(t, r.Status(st.Events[3].Seq).Events, 1, "Status(after) returns only newer events")

	var buf bytes.Buffer
	require.NoError(t, WriteEvents(&buf, st.Events))
	back, err := ReadEvents(&buf)
	require.NoError(t, err)
	require.Len(t, back, 5)
	for i := range back {
		assert.True(t, back[i].Detected.Equal(st.Events[i].Detected))
		back[i].Detected, st.Events[i].Detected = time.Time{}, time.Time{}
		back[i].ReadStart, st.Events[i].ReadStart = time.Time{}, time.Time{}
		back[i].ApplyStart, st.Events[i].ApplyStart = time.Time{}, time.Time{}
		back[i].ApplyEnd, st.Events[i].ApplyEnd = time.Time{}, time.Time{}
		back[i].Finished, st.Events[i].Finished = time.Time{}, time.Time{}
	}
	assert.Equal(t, st.Events, back)
}

func TestReadEventsReportsLine(t *testing.T) {
	t.Parallel()
	_, err := ReadEvents(strings.NewReader("{\"seq\":1}\n{oops\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2")
}

func TestEventRingKeepsNewest(t *testing.T) {
	t.Parallel()
	r := newEventRing(3)
	for i := 0; i < 5; i++ {
		r.add(Event{Version: int64(i)})
	}
	got := r.since(0)
	require.Len(t, got, 3)
	assert.Equal(t, []uint64{3, 4, 5}, []uint64{got[0].Seq, got[1].Seq, got[2].Seq})
	assert.Len(t, r.since(4), 1)
	assert.Empty(t, r.since(5))
}

func TestStartRejectsBadInitialConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("nope: 1\n"), 0o644))
	r := NewReloader(path, store.NewAtomic(), manual{})
	err := r.Start()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "initial load")
	assert.Contains(t, err.Error(), "version")
}

func TestResolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, preset, store, trigger  string
		wantName, wantStore, wantTrig string
		err                           string
	}{
		{name: "preset", preset: "atomic", wantName: "atomic", wantStore: "atomic", wantTrig: "dirwatch"},
		{name: "polling", preset: "polling", wantName: "polling", wantStore: "atomic", wantTrig: "pollhash"},
		{name: "same store is no override", preset: "lockmap", store: "lockmap", wantName: "lockmap", wantStore: "lockmap", wantTrig: "dirwatch"},
		{name: "override trigger", preset: "lockmap", trigger: "poll", wantName: "lockmap+poll", wantStore: "lockmap", wantTrig: "poll"},
		{name: "override store", preset: "robust", store: "syncmap", wantName: "syncmap+robust", wantStore: "syncmap", wantTrig: "robust"},
		{name: "unknown preset", preset: "rcu", err: "valid: atomic, lockmap, lockswap, syncmap, lockparse, polling, signal, robust"},
		{name: "unknown store", preset: "atomic", store: "btree", err: "valid: lockmap, lockswap, syncmap, lockparse, atomic"},
		{name: "unknown trigger", preset: "atomic", trigger: "kqueue", err: "valid: fsnotify, dirwatch, poll, pollhash, signal, robust, etcd"},
		{name: "etcd preset", preset: "etcd", wantName: "etcd", wantStore: "atomic", wantTrig: "etcd"},
		{name: "etcd trigger on another store", preset: "lockmap", trigger: "etcd", wantName: "lockmap+etcd", wantStore: "lockmap", wantTrig: "etcd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Resolve(tt.preset, tt.store, tt.trigger)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantName, s.Name)
			assert.Equal(t, tt.wantStore, s.Store)
			assert.Equal(t, tt.wantTrig, s.Trigger)
			assert.Equal(t, tt.preset, s.Preset)
			assert.NotEmpty(t, s.Description)
		})
	}
	assert.Equal(t, []string{"atomic", "lockmap", "lockswap", "syncmap", "lockparse", "polling", "signal", "robust", "etcd"}, Names())
}

// TestEtcdNeedsItsSettings: the etcd trigger cannot be built without
// endpoints and a key, and says so.
func TestEtcdNeedsItsSettings(t *testing.T) {
	t.Parallel()
	s, err := Lookup("etcd")
	require.NoError(t, err)
	_, err = s.NewReloader("etcd:/k")
	require.ErrorContains(t, err, "needs endpoints and a key")
	_, err = s.NewReloader("etcd:/k", WithEtcd([]string{"http://127.0.0.1:2379"}, ""))
	require.ErrorContains(t, err, "needs endpoints and a key")
	r, err := s.NewReloader("etcd:/k", WithEtcd([]string{"http://127.0.0.1:2379"}, "/k"))
	require.NoError(t, err)
	_, ok := r.Source()
	assert.True(t, ok, "the etcd trigger delivers the config itself")
}

func TestPipelineRawApplierParsesInsideTheStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, config.Generate(1, 200), 0o644))
	r := NewReloader(path, store.NewLockParse(), manual{})
	require.NoError(t, r.Start())
	t.Cleanup(func() { r.Close() })

	require.NoError(t, os.WriteFile(path, config.Generate(2, 200), 0o644))
	ev := r.Reload(notice("good"))
	require.Equal(t, Applied, ev.Outcome, ev.Error)
	assert.Equal(t, int64(2), r.Store().Version())
	assert.False(t, ev.ApplyStart.IsZero())
	if ev.CPU.Measured {
		assert.Positive(t, ev.CPU.Parse, "the parse's CPU is read inside ApplyRaw")
	}

	bad := append(config.Generate(3, 200), []byte("key00000: \"dup\"\n")...)
	require.NoError(t, os.WriteFile(path, bad, 0o644))
	ev = r.Reload(notice("duplicate key at the end"))
	assert.Equal(t, Rejected, ev.Outcome)
	assert.Contains(t, ev.Error, "defined twice")
	assert.True(t, ev.ApplyStart.IsZero(), "nothing was applied")
	assert.Equal(t, int64(2), r.Store().Version(), "the old config keeps serving")
}

func TestExtraCostIsSpentAndRecorded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the per-thread CPU clock is read on Linux only")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, config.Generate(1, 5), 0o644))
	r := NewReloader(path, store.NewAtomic(), manual{}, WithExtraCost(3*time.Millisecond))
	require.NoError(t, r.Start())
	t.Cleanup(func() { r.Close() })
	require.NoError(t, os.WriteFile(path, config.Generate(2, 5), 0o644))
	ev := r.Reload(notice("good"))
	require.Equal(t, Applied, ev.Outcome)
	assert.GreaterOrEqual(t, ev.CPU.Extra, 3*time.Millisecond)
	assert.GreaterOrEqual(t, ev.Finished.Sub(ev.ApplyEnd), 3*time.Millisecond, "the extra cost comes after the apply")

	ev = r.Reload(notice("unchanged"))
	assert.Zero(t, ev.CPU.Extra, "only applied reloads carry the extra cost")
}
