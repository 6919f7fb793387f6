package reload

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func startConfig(t *testing.T, path string, opts ...Option) *Reloader[testConfig] {
	t.Helper()
	opts = append([]Option{WithValidate(testConfig.check)}, opts...)
	r, err := New(path, YAML[testConfig](), opts...)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	return r
}

func TestStartLoadsNestedConfig(t *testing.T) {
	t.Parallel()
	r := startConfig(t, writeConfig(t, yamlConfig("svc", 8080)), fast()...)
	cfg := r.Load()
	assert.Equal(t, testConfig{Name: "svc", Server: testServer{Port: 8080, Timeout: 2 * time.Second}, Tags: []string{"a", "b"}}, cfg)
	st := r.Status()
	assert.Equal(t, uint64(1), st.Version)
	assert.Equal(t, uint64(0), st.Applied, "the first load is not a reload")
	assert.True(t, st.Running)
	assert.False(t, st.Stale)
	assert.Len(t, st.Hash, 64)
	assert.Equal(t, "robust", st.Trigger)
}

// TestStartRefusesBadFile: a service must not start on a bad config; once
// the file is fixed, Start may be called again.
func TestStartRefusesBadFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		data  *string // nil: no file
		stage string
		want  string
	}{
		{"missing file", nil, "read", "missing file"},
		{"empty file", ptr(""), "decode", "empty document"},
		{"invalid yaml", ptr("server: [oops\n"), "decode", "yaml:"},
		{"unknown key", ptr(yamlConfig("svc", 80) + "prot: 1\n"), "decode", "field prot not found"},
		{"wrong type", ptr("server:\n  port: eighty\n"), "decode", "cannot unmarshal"},
		{"two documents", ptr(yamlConfig("svc", 80) + "---\nname: x\n"), "decode", "more than one document"},
		{"fails validation", ptr(yamlConfig("svc", 0)), "validate", "server.port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.yaml")
			if tt.data != nil {
				require.NoError(t, os.WriteFile(path, []byte(*tt.data), 0o644))
			}
			r, err := New(path, YAML[testConfig](), WithValidate(testConfig.check))
			require.NoError(t, err)
			defer r.Close()
			err = r.Start(context.Background())
			require.Error(t, err)
			var rej *RejectError
			require.ErrorAs(t, err, &rej)
			assert.Equal(t, tt.stage, rej.Stage)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), path)
			assert.Equal(t, testConfig{}, r.Load(), "nothing is served")
			st := r.Status()
			assert.False(t, st.Running)
			assert.True(t, st.Stale)
			assert.Equal(t, uint64(1), st.Rejected)

			require.NoError(t, os.WriteFile(path, []byte(yamlConfig("fixed", 81)), 0o644))
			require.NoError(t, r.Start(context.Background()), "Start may be retried")
			assert.Equal(t, "fixed", r.Load().Name)
		})
	}
}

func ptr(s string) *string { return &s }

// TestNeverServesBadFile replaces a served config with every kind of bad
// file: each is rejected with its reason, the old value keeps serving, the
// Reloader is stale, and a good file afterwards is applied.
func TestNeverServesBadFile(t *testing.T) {
	t.Parallel()
	write := func(data string) func(*testing.T, string) {
		return func(t *testing.T, p string) { inPlace(t, p, data) }
	}
	tests := []struct {
		name  string
		make  func(*testing.T, string)
		stage string
		want  string
	}{
		{"invalid yaml", write("name: [\n"), "decode", "yaml:"},
		{"unknown key", write("name: x\nserver:\n  port: 1\n  tiemout: 1s\n"), "decode", "tiemout"},
		{"fails validation", write(yamlConfig("bad", 70000)), "validate", "server.port"},
		{"empty", write(""), "decode", "empty document"},
		{"too large", write(yamlConfig("big", 80) + "# " + strings.Repeat("x", 4096) + "\n"), "read", "exceeds the size limit"},
		{"removed", func(t *testing.T, p string) { require.NoError(t, os.Remove(p)) }, "read", "missing file"},
		{"directory", func(t *testing.T, p string) {
			require.NoError(t, os.Remove(p))
			require.NoError(t, os.Mkdir(p, 0o755))
		}, "read", "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, yamlConfig("good", 80))
			r := startConfig(t, path, WithSizeLimit(4096), WithTrigger(Poll(time.Hour)))
			tt.make(t, path)

			err := r.Reload(context.Background())
			require.Error(t, err)
			var rej *RejectError
			require.ErrorAs(t, err, &rej)
			assert.Equal(t, tt.stage, rej.Stage)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, "good", r.Load().Name, "the old value keeps serving")

			st := r.Status()
			assert.True(t, st.Stale)
			assert.Contains(t, st.StaleReason, tt.want)
			assert.Equal(t, uint64(1), st.Rejected)
			assert.Equal(t, uint64(1), st.Version)
			assert.Contains(t, st.LastError, tt.want)

			if tt.stage != "read" {
				// The same bad content again: unchanged, still stale, same error.
				err2 := r.Reload(context.Background())
				require.Error(t, err2)
				assert.Equal(t, err.Error(), err2.Error(), "the rejection is remembered")
				assert.Equal(t, uint64(1), r.Status().Unchanged)
				assert.True(t, r.Status().Stale)
			}

			os.RemoveAll(path)
			inPlace(t, path, yamlConfig("better", 81))
			require.NoError(t, r.Reload(context.Background()))
			assert.Equal(t, "better", r.Load().Name)
			st = r.Status()
			assert.False(t, st.Stale)
			assert.Empty(t, st.StaleReason)
			assert.Equal(t, uint64(2), st.Version)
			assert.Equal(t, uint64(1), st.Applied)
		})
	}
}

// TestFollowsChanges: each trigger sees a rename-save and an in-place write.
func TestFollowsChanges(t *testing.T) {
	t.Parallel()
	triggers := []struct {
		name string
		t    Trigger
	}{
		{"robust", Robust(Debounce(10 * time.Millisecond))},
		{"zero Trigger", Trigger{}},
		{"dirwatch", DirWatch(Debounce(10*time.Millisecond), MaxWait(time.Second))},
		{"poll", Poll(20 * time.Millisecond)},
		{"pollhash", PollHash(20 * time.Millisecond)},
	}
	writes := []struct {
		name  string
		write func(*testing.T, string, string)
	}{{"rename-save", renameSave}, {"in-place", inPlace}}
	for _, tr := range triggers {
		for _, w := range writes {
			t.Run(tr.name+"/"+w.name, func(t *testing.T) {
				t.Parallel()
				path := writeConfig(t, yamlConfig("v1", 80))
				r := startConfig(t, path, WithTrigger(tr.t), WithSafetyInterval(50*time.Millisecond))
				time.Sleep(30 * time.Millisecond) // a new mtime for poll
				w.write(t, path, yamlConfig("v2", 8080))
				eventually(t, "v2 to be served", func() bool { return r.Load().Name == "v2" })
				assert.Equal(t, 8080, r.Load().Server.Port)
				assert.Equal(t, uint64(2), r.Status().Version)
			})
		}
	}
}

// TestObserverSeesEverything: applied, rejected, unchanged (stale or not)
// and the state after each, from whichever goroutine produced it.
func TestObserverSeesEverything(t *testing.T) {
	t.Parallel()
	var got events
	path := writeConfig(t, yamlConfig("v1", 80))
	r := startConfig(t, path, WithTrigger(Poll(time.Hour)), WithObserver(got.observe))
	ctx := context.Background()
	require.NoError(t, r.Reload(ctx))      // unchanged, fresh
	inPlace(t, path, yamlConfig("bad", 0)) //
	require.Error(t, r.Reload(ctx))        // rejected
	require.Error(t, r.Reload(ctx))        // unchanged, stale
	inPlace(t, path, yamlConfig("v1", 80)) // back to the serving content
	require.NoError(t, r.Reload(ctx))      // unchanged, no longer stale
	inPlace(t, path, yamlConfig("v2", 80)) //
	require.NoError(t, r.Reload(ctx))      // applied

	evs := got.list()
	require.Len(t, evs, 6)
	want := []struct {
		outcome Outcome
		stale   bool
		version uint64
		err     bool
	}{
		{Applied, false, 1, false},
		{Unchanged, false, 1, false},
		{Rejected, true, 1, true},
		{Unchanged, true, 1, true},
		{Unchanged, false, 1, false},
		{Applied, false, 2, false},
	}
	for i, w := range want {
		ev := evs[i]
		assert.Equal(t, w.outcome, ev.Outcome, "event %d", i)
		assert.Equal(t, w.stale, ev.Stale, "event %d stale", i)
		assert.Equal(t, w.version, ev.Version, "event %d version", i)
		assert.Equal(t, w.err, ev.Err != nil, "event %d error", i)
		assert.Equal(t, uint64(i+1), ev.Seq)
	}
	assert.Equal(t, "start", evs[0].Trigger)
	assert.Equal(t, "manual", evs[1].Trigger)
	st := r.Status()
	assert.Equal(t, uint64(3), st.Unchanged)
	assert.Equal(t, uint64(1), st.Rejected)
	assert.Equal(t, uint64(1), st.Applied)
}

// TestNewChecksArguments: mistakes are errors from New, not panics later.
func TestNewChecksArguments(t *testing.T) {
	t.Parallel()
	dec := YAML[testConfig]()
	tests := []struct {
		name string
		path string
		dec  func([]byte) (testConfig, error)
		opts []Option
		want string
	}{
		{"empty path", "", dec, nil, "empty path"},
		{"nil decoder", "c.yaml", nil, nil, "nil decode"},
		{"negative safety interval", "c.yaml", dec, []Option{WithSafetyInterval(-time.Second)}, "negative interval"},
		{"negative size limit", "c.yaml", dec, []Option{WithSizeLimit(-1)}, "negative limit"},
		{"negative poll interval", "c.yaml", dec, []Option{WithTrigger(Poll(-time.Second))}, "negative interval"},
		{"negative debounce", "c.yaml", dec, []Option{WithTrigger(DirWatch(Debounce(-1)))}, "negative duration"},
		{"validator of another type", "c.yaml", dec, []Option{WithValidate(func(int) error { return nil })}, "does not take"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := New(tt.path, tt.dec, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "reload: New("), err.Error())
		})
	}
}

// TestZeroValues: every exported type's zero value works or is refused
// cleanly.
func TestZeroValues(t *testing.T) {
	t.Parallel()
	var r Reloader[testConfig]
	assert.Equal(t, testConfig{}, r.Load())
	assert.ErrorIs(t, r.Start(context.Background()), ErrNotCreated)
	assert.ErrorIs(t, r.Reload(context.Background()), ErrNotCreated)
	assert.NoError(t, r.Close())
	assert.Equal(t, Status{}, r.Status())
	assert.Equal(t, "rejected ", (&RejectError{}).Error())

	// The zero Option and TriggerOption do nothing; the zero Trigger is Robust.
	path := writeConfig(t, yamlConfig("v1", 80))
	z, err := New(path, YAML[testConfig](), Option{}, WithTrigger(Trigger{}), WithTrigger(Robust(TriggerOption{})))
	require.NoError(t, err)
	require.NoError(t, z.Start(context.Background()))
	defer z.Close()
	assert.Equal(t, "robust", z.Status().Trigger)
	assert.Equal(t, "v1", z.Load().Name)
}

func TestCloseAndRestart(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, yamlConfig("v1", 80))
	r, err := New(path, YAML[testConfig](), fast()...)
	require.NoError(t, err)
	require.NoError(t, r.Close(), "Close before Start")
	assert.ErrorIs(t, r.Start(context.Background()), ErrClosed)

	r, err = New(path, YAML[testConfig](), fast()...)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	assert.Error(t, r.Start(context.Background()), "Start twice")
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")
	assert.ErrorIs(t, r.Reload(context.Background()), ErrClosed)
	assert.Equal(t, "v1", r.Load().Name, "Load keeps serving after Close")
	assert.False(t, r.Status().Running)

	// After Close nothing is read any more.
	renameSave(t, path, yamlConfig("v2", 80))
	time.Sleep(150 * time.Millisecond)
	assert.Equal(t, "v1", r.Load().Name)
}

func TestStartHonoursContext(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, yamlConfig("v1", 80))
	r, err := New(path, YAML[testConfig]())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, r.Start(ctx), context.Canceled)
	require.NoError(t, r.Start(context.Background()), "a cancelled Start can be retried")
	require.NoError(t, r.Close())
}

// TestReloadWaitsWithContext: a Reload waiting behind a slow run gives up
// when its context ends.
func TestReloadWaitsWithContext(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, `{"name": "v1", "server": {"port": 1}}`)
	gate := make(chan struct{})
	var slow sync.Once
	dec := JSON[testConfig]()
	r, err := New(path, func(b []byte) (testConfig, error) {
		c, err := dec(b)
		if c.Name == "slow" {
			slow.Do(func() { <-gate })
		}
		return c, err
	}, WithTrigger(Poll(time.Hour)))
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	defer r.Close()

	inPlace(t, path, `{"name": "slow", "server": {"port": 1}}`)
	first := make(chan error, 1)
	go func() { first <- r.Reload(context.Background()) }()
	time.Sleep(50 * time.Millisecond) // the first run is now inside the decoder
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, r.Reload(ctx), context.DeadlineExceeded)
	close(gate)
	require.NoError(t, <-first)
	assert.Equal(t, "slow", r.Load().Name)
}

// TestPanickingDecoderRejects: a decoder that panics on a file rejects it.
func TestPanickingDecoderRejects(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "1")
	r, err := New(path, func(b []byte) (int, error) {
		if string(b) == "boom" {
			panic("decoder bug")
		}
		return len(b), nil
	}, WithTrigger(Poll(time.Hour)), WithValidate(func(n int) error {
		if n == 2 {
			panic("validator bug")
		}
		return nil
	}))
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	defer r.Close()
	for _, bad := range []string{"boom", "22"} {
		inPlace(t, path, bad)
		err = r.Reload(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "panic:")
		assert.Equal(t, 1, r.Load())
	}
}

// TestConcurrentLoads reads while the file keeps changing: under -race this
// checks the swap; every value read must be one that was valid.
func TestConcurrentLoads(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, yamlConfig("v0", 1))
	r := startConfig(t, path, fast()...)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad error
	var badOnce sync.Once
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c := r.Load()
				if err := c.check(); err != nil || c.Name == "" {
					badOnce.Do(func() { bad = errors.New("served an invalid value: " + c.Name) })
				}
			}
		}()
	}
	for i := 1; i <= 20; i++ {
		port := i
		if i%5 == 0 {
			port = 0 // invalid: must never be served
		}
		renameSave(t, path, yamlConfig("v"+strings.Repeat("i", i), port))
		_ = r.Reload(context.Background())
	}
	close(stop)
	wg.Wait()
	require.NoError(t, bad)
	assert.Equal(t, uint64(4), r.Status().Rejected)
}

// TestRobustRecoversLostDirectory replaces the config's directory: the lost
// watch is reported as a degradation, then cleared once the watch is back,
// and the new file is served.
func TestRobustRecoversLostDirectory(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "conf")
	require.NoError(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "config.yaml")
	inPlace(t, path, yamlConfig("v1", 80))
	var got events
	r := startConfig(t, path, append(fast(), WithObserver(got.observe))...)

	require.NoError(t, os.Rename(dir, filepath.Join(base, "conf.old")))
	require.NoError(t, os.Mkdir(dir, 0o755))
	inPlace(t, path, yamlConfig("v2", 80))
	eventually(t, "v2 to be served", func() bool { return r.Load().Name == "v2" })
	eventually(t, "the degradation to be reported", func() bool {
		return got.has(func(e Event) bool { return e.Outcome == Degraded && strings.Contains(e.Degraded, "safety poll") })
	})
	eventually(t, "the watch to be back", func() bool {
		return got.has(func(e Event) bool { return e.Outcome == Degraded && e.Degraded == "" }) && r.Status().Degraded == ""
	})
	st := r.Status()
	assert.NotZero(t, st.TriggerErrors)
	assert.NotZero(t, st.Rescans)
	assert.True(t, got.has(func(e Event) bool {
		return e.Outcome == TriggerError && e.Err != nil && strings.Contains(e.Err.Error(), "watch lost")
	}), "the lost watch is reported as a trigger error")
}
