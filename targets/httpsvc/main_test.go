package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/reloadlab/reloadlab/harness/etcdcluster"
	"github.com/reloadlab/reloadlab/strategies/trigger/etcdwatch"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/strategies/trigger"
	"github.com/reloadlab/reloadlab/targets/debugapi"
)

// tornStore serves each key from a version chosen by the test.
type tornStore struct{ versions map[string]int64 }

func (s tornStore) Name() string { return "torn" }
func (s tornStore) Get(k string) (string, bool) {
	v, ok := s.versions[k]
	if !ok {
		return "", false
	}
	return config.Value(v, 0), true
}
func (tornStore) Apply(*config.Snapshot) {}
func (tornStore) Version() int64         { return 0 }

type never struct{}

func (never) Name() string                                  { return "never" }
func (never) Start(string, trigger.Sink) (io.Closer, error) { return io.NopCloser(nil), nil }

func TestServeRootCountsTornRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		versions  map[string]int64
		want      string
		torn      uint64
		missing   uint64
		tornCheck string
	}{
		{"one version", map[string]int64{"a": 4, "b": 4}, `{"version":4}`, 0, 0, "ok"},
		{"two versions", map[string]int64{"a": 4, "b": 5}, `{"versions":[4,5],"torn":true}`, 1, 0, "ok"},
		{"missing key", map[string]int64{"a": 4}, `{"version":4}`, 0, 1, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "c.yaml")
			require.NoError(t, os.WriteFile(path, config.Generate(1, 2), 0o644))
			rel := strategies.NewReloader(path, tornStore{tt.versions}, never{})
			srv := newServer(strategies.Strategy{Name: "test"}, rel, []string{"a", "b"}, nil, nil)
			rec := httptest.NewRecorder()
			srv.serveRoot(rec, httptest.NewRequest("GET", "/", nil))
			assert.Equal(t, tt.want, rec.Body.String())
			assert.Equal(t, tt.torn, srv.torn.Load())
			assert.Equal(t, tt.missing, srv.missing.Load())
		})
	}
}

func TestServeRootUnconventionalValues(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte("version: 3\nport: \"8080\"\n"), 0o644))
	s := store.NewAtomic()
	rel := strategies.NewReloader(path, s, never{})
	require.NoError(t, rel.Start())
	defer rel.Close()
	srv := newServer(strategies.Strategy{Name: "atomic"}, rel, []string{"port"}, nil, nil)
	rec := httptest.NewRecorder()
	srv.serveRoot(rec, httptest.NewRequest("GET", "/", nil))
	assert.True(t, srv.unconventional.Load(), "a value without the version prefix must switch the torn check to n/a")
	assert.Equal(t, uint64(0), srv.torn.Load())
}

func TestFlagErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{nil, "-config is required"},
		{[]string{"-config", "x", "-addr", "0.0.0.0:80"}, "only loopback"},
		{[]string{"-config", "x", "-addr", "example.org:80"}, "only loopback"},
		{[]string{"-config", "x", "-keys", "0"}, "-keys must be at least 1"},
		{[]string{"-config", "x", "extra"}, "unexpected arguments"},
		{[]string{"-config", "x", "-work", "-1ms"}, "must not be negative"},
		{[]string{"-config", "x", "-reload-burn", "-1ms"}, "must not be negative"},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args, io.Discard)
		require.Error(t, err, "%v", tt.args)
		assert.Contains(t, err.Error(), tt.want)
	}
	_, err := parseFlags([]string{"-config", "x", "-addr", "[::1]:0"}, io.Discard)
	assert.NoError(t, err)
}

func TestRunRejectsUnknownStrategy(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(path, config.Generate(1, 4), 0o644))
	err := run([]string{"-config", path, "-strategy", "nope"}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "valid: atomic, lockmap")
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary the integration tests built, and lets this
// test binary run as an etcd member (the etcd preset's test starts one).
func TestMain(m *testing.M) {
	etcdcluster.RunMemberIfChild()
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds the real target once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "httpsvc-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "httpsvc")
		out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

type target struct {
	cmd    *exec.Cmd
	base   string
	stderr *syncWriter
}

func startTarget(t *testing.T, args ...string) *target {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &syncWriter{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	tg := &target{cmd: cmd, stderr: stderr}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		require.True(t, ok, "target exited before announcing its address; stderr:\n%s", stderr.String())
		require.True(t, strings.HasPrefix(l, "listening on http://127.0.0.1:"), "first stdout line %q", l)
		tg.base = strings.TrimPrefix(l, "listening on ")
	case <-time.After(20 * time.Second):
		t.Fatalf("target did not announce its address; stderr:\n%s", stderr.String())
	}
	go func() {
		for l := range line {
			t.Errorf("unexpected extra stdout line %q", l)
		}
	}()
	return tg
}

// syncWriter collects a child's stderr; safe to read while it is written.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (tg *target) status(t *testing.T) debugapi.ReloadStatus {
	t.Helper()
	resp, err := http.Get(tg.base + "/debug/reload")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st debugapi.ReloadStatus
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

func (tg *target) waitStatus(t *testing.T, what string, cond func(debugapi.ReloadStatus) bool) debugapi.ReloadStatus {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := tg.status(t)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; status %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tg *target) root(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(tg.base + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

func renameIn(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, data, 0o644))
	require.NoError(t, os.Rename(tmp, path))
}

// TestTargetPresets starts the real binary with every preset, changes its
// config, sends a bad one, and stops it with SIGTERM.
func TestTargetPresets(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and starts the target binary")
	}
	for _, preset := range strategies.Names() {
		t.Run(preset, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.yaml")
			change := func(data []byte) { renameIn(t, path, data) }
			args := []string{"-config", path}
			if preset == etcdwatch.Name {
				// The etcd preset reads a key of a real member instead.
				c, err := etcdcluster.Start(context.Background(), etcdcluster.WithoutFsync())
				require.NoError(t, err)
				t.Cleanup(func() { c.Close() })
				cli, err := c.Client()
				require.NoError(t, err)
				t.Cleanup(func() { cli.Close() })
				change = func(data []byte) {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					_, err := cli.Put(ctx, "/test/config", string(data))
					require.NoError(t, err)
				}
				args = []string{"-etcd-endpoints", strings.Join(c.Endpoints(), ","), "-etcd-key", "/test/config"}
			}
			change(config.Generate(1, 100))
			tg := startTarget(t, append(args, "-strategy", preset, "-poll-interval", "50ms", "-safety-interval", "200ms")...)
			poke := func() {
				if preset == "signal" {
					require.NoError(t, tg.cmd.Process.Signal(syscall.SIGUSR1))
				}
			}
			st := tg.status(t)
			assert.Equal(t, preset, st.Strategy)
			assert.Equal(t, int64(1), st.Version)
			assert.Equal(t, `{"version":1}`, tg.root(t))

			change(config.Generate(2, 100))
			poke()
			tg.waitStatus(t, "version 2", func(s debugapi.ReloadStatus) bool { return s.Version == 2 })
			assert.Equal(t, `{"version":2}`, tg.root(t))

			change([]byte("version: 3\nnested:\n  not: allowed\n"))
			poke()
			st = tg.waitStatus(t, "the bad file to be rejected", func(s debugapi.ReloadStatus) bool { return s.Rejected == 1 })
			assert.Equal(t, int64(2), st.Version, "the old config must keep serving")
			assert.Contains(t, st.LastError, "nested mapping")
			assert.Equal(t, `{"version":2}`, tg.root(t))
			assert.Equal(t, uint64(0), st.TornRequests)
			assert.Equal(t, "ok", st.TornCheck)

			require.NoError(t, tg.cmd.Process.Signal(syscall.SIGTERM))
			done := make(chan error, 1)
			go func() { done <- tg.cmd.Wait() }()
			select {
			case err := <-done:
				require.NoError(t, err, "SIGTERM must stop the target cleanly; stderr:\n%s", tg.stderr.String())
			case <-time.After(15 * time.Second):
				t.Fatal("target did not exit after SIGTERM")
			}
		})
	}
}

func TestServeBurn(t *testing.T) {
	t.Parallel()
	srv := &server{}
	tests := []struct {
		query string
		code  int
		min   time.Duration
	}{
		{"cpu=0", http.StatusOK, 0},
		{"cpu=2ms", http.StatusOK, 2 * time.Millisecond},
		{"cpu=-1ms", http.StatusBadRequest, 0},
		{"cpu=1h", http.StatusBadRequest, 0},
		{"cpu=soon", http.StatusBadRequest, 0},
		{"cpu=2ms&mode=loop", http.StatusOK, 2 * time.Millisecond},
		{"cpu=2ms&mode=fast", http.StatusBadRequest, 0},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		srv.serveBurn(rec, httptest.NewRequest("POST", "/debug/burn?"+tt.query, nil))
		require.Equal(t, tt.code, rec.Code, tt.query)
		if tt.code != http.StatusOK {
			continue
		}
		var b debugapi.Burn
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b))
		assert.Equal(t, tt.min, b.Requested)
		assert.False(t, b.End.Before(b.Start))
		if b.Mode == "loop" {
			assert.InDelta(t, float64(tt.min), float64(b.CPU), float64(tt.min)/20, "a calibrated loop reports its nominal cost")
			continue
		}
		assert.Equal(t, "clock", b.Mode)
		assert.GreaterOrEqual(t, b.CPU, tt.min, tt.query)
		if runtime.GOOS == "linux" {
			assert.GreaterOrEqual(t, b.End.Sub(b.Start), tt.min, "CPU time cannot exceed the wall time it took")
		}
	}
}

// TestTargetWorkAndReloadBurn starts the binary with the per-request work
// and the reload burn, and checks both are reported and the burn recorded.
func TestTargetWorkAndReloadBurn(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and starts the target binary")
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, config.Generate(1, 100), 0o644))
	tg := startTarget(t, "-config", path, "-work", "200us", "-reload-burn", "4ms")
	st := tg.status(t)
	assert.InDelta(t, float64(200*time.Microsecond), float64(st.RequestWork), float64(20*time.Microsecond))
	assert.Positive(t, st.RequestWorkIterations)
	assert.Equal(t, 4*time.Millisecond, st.ReloadExtraCost)
	assert.Equal(t, `{"version":1}`, tg.root(t))
	renameIn(t, path, config.Generate(2, 100))
	var applied *strategies.Event
	// The store serves version 2 before the burn ends and the event is
	// recorded, so wait for the event, not the version.
	tg.waitStatus(t, "the applied event of version 2", func(s debugapi.ReloadStatus) bool {
		for i := range s.Events {
			if s.Events[i].Outcome == strategies.Applied && s.Events[i].Version == 2 {
				applied = &s.Events[i]
				return true
			}
		}
		return false
	})
	if runtime.GOOS == "linux" {
		assert.GreaterOrEqual(t, applied.CPU.Extra, 4*time.Millisecond)
		assert.Positive(t, applied.CPU.Parse)
	}
}
