package anchors

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestRootBody(t *testing.T) {
	for _, tc := range []struct {
		version int64
		want    string
	}{
		{0, `{"version":0}`},
		{1, `{"version":1}`},
		{1234567, `{"version":1234567}`},
		{-1, `{"version":-1}`},
	} {
		assert.Equal(t, tc.want, string(RootBody(tc.version)))
	}
}

func TestStartRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		anch string
		opts Options
		want string
	}{
		{"unknown anchor", "apache", Options{}, `unknown anchor "apache"`},
		{"negative keys", NameNginx, Options{Keys: -1}, "Keys -1 is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Start(t.Context(), tc.anch, tc.opts)
			require.ErrorContains(t, err, tc.want)
		})
	}
	assert.Contains(t, Available(t.Context(), "apache"), "unknown anchor")
}

func TestProcStat(t *testing.T) {
	state, pg, ok := procStat(os.Getpid())
	require.True(t, ok)
	assert.NotEqual(t, byte('Z'), state)
	assert.Equal(t, unix.Getpgrp(), pg)
	assert.Contains(t, groupPids(pg), os.Getpid())
	assert.True(t, processAlive(os.Getpid()))
	_, _, ok = procStat(1 << 30)
	assert.False(t, ok)
}

func TestEnvWith(t *testing.T) {
	t.Setenv("RELOADLAB_ANCHORS_T", "old")
	env := envWith(map[string]string{"RELOADLAB_ANCHORS_T": "new", "RELOADLAB_ANCHORS_U": "u"})
	assert.Contains(t, env, "RELOADLAB_ANCHORS_T=new")
	assert.Contains(t, env, "RELOADLAB_ANCHORS_U=u")
	assert.NotContains(t, env, "RELOADLAB_ANCHORS_T=old")
}

// brokenReloader is the test hook both anchors have: a reload whose config
// the server must reject.
type brokenReloader interface {
	reload(ctx context.Context, version int64, broken bool) error
}

// anchorOrSkip skips the test when the anchor cannot run here and returns
// the binary to use.
func anchorOrSkip(t *testing.T, name string) string {
	t.Helper()
	if reason := Available(t.Context(), name); reason != "" {
		t.Skipf("%s unavailable: %s", name, reason)
	}
	switch name {
	case NameNginx:
		bin, err := FindNginx()
		require.NoError(t, err)
		return bin
	case NameCaddy:
		if testing.Short() {
			t.Skip("caddy may need a build of several minutes; skipped under -short")
		}
		ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
		defer cancel()
		start := time.Now()
		bin, err := BuildCaddy(ctx, "", t.Output())
		if err != nil {
			t.Skipf("caddy unavailable: build failed (no Go toolchain or module proxy?): %v", err)
		}
		t.Logf("caddy ready in %s", time.Since(start).Round(time.Millisecond))
		return bin
	}
	t.Fatalf("unknown anchor %s", name)
	return ""
}

// testCPUs returns the last CPU this process may use: the anchor is pinned
// to one CPU.
func testCPUs(t *testing.T) []int {
	t.Helper()
	var set unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &set))
	last := -1
	for i := range 1024 {
		if set.IsSet(i) {
			last = i
		}
	}
	require.GreaterOrEqual(t, last, 0)
	return []int{last}
}

func get(t *testing.T, client *http.Client, url string) (status int, version int64, body []byte) {
	t.Helper()
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	v, err := strconv.ParseInt(resp.Header.Get(VersionHeader), 10, 64)
	if err != nil {
		v = -1
	}
	return resp.StatusCode, v, body
}

// waitVersion polls url until it serves version or timeout passes and
// returns how long that took.
func waitVersion(t *testing.T, client *http.Client, url string, version int64, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.Header.Get(VersionHeader) == strconv.FormatInt(version, 10) {
				return time.Since(start)
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s did not serve version %d within %s", url, version, timeout)
	return 0
}

func TestAnchorLifecycle(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			bin := anchorOrSkip(t, name)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cpus := testCPUs(t)
			a, err := Start(ctx, name, Options{CPUs: cpus, Keys: 4, InitialVersion: 1, WorkDir: t.TempDir(), Log: t.Output(), Binary: bin})
			require.NoError(t, err)
			t.Cleanup(func() { a.Kill() })
			dir := a.(interface{ Dir() string }).Dir()
			require.DirExists(t, dir)
			assert.Equal(t, name, a.Name())

			pids := a.Pids()
			require.Contains(t, pids, a.Pid())
			if name == NameNginx {
				require.Len(t, pids, 2, "one master and one worker")
			}
			for _, pid := range pids {
				var set unix.CPUSet
				require.NoError(t, unix.SchedGetaffinity(pid, &set))
				assert.Equal(t, len(cpus), set.Count(), "pid %d's CPUs", pid)
				assert.True(t, set.IsSet(cpus[0]), "pid %d pinned to %v", pid, cpus)
			}

			if name == NameNginx && os.Geteuid() == 0 {
				for _, pid := range pids {
					if pid != a.Pid() {
						status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
						require.NoError(t, err)
						assert.NotRegexp(t, `(?m)^Uid:\s+0\s`, string(status), "the worker runs unprivileged")
					}
				}
			}
			if name == NameCaddy {
				environ, err := os.ReadFile("/proc/" + strconv.Itoa(a.Pid()) + "/environ")
				require.NoError(t, err)
				assert.Contains(t, strings.Split(string(environ), "\x00"), "GOMAXPROCS="+strconv.Itoa(len(cpus)))
				assert.Contains(t, strings.Split(string(environ), "\x00"), "HOME="+dir)
			}

			client := &http.Client{Timeout: 5 * time.Second}
			defer client.CloseIdleConnections()
			status, v, body := get(t, client, a.URL())
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, int64(1), v)
			assert.Equal(t, string(RootBody(1)), string(body))
			assert.Len(t, body, len(`{"version":1}`))
			status, _, _ = get(t, client, a.URL()+"other")
			assert.Equal(t, http.StatusNotFound, status)

			start := time.Now()
			require.NoError(t, a.Reload(ctx, 2))
			returned := time.Since(start)
			took := waitVersion(t, client, a.URL(), 2, 10*time.Second)
			t.Logf("Reload(2) returned after %s; version 2 served %s after it returned", returned, took)
			assert.Equal(t, int64(2), a.Version())

			err = a.(brokenReloader).reload(ctx, 3, true)
			require.Error(t, err)
			t.Logf("bad reload: %v", err)
			assert.Equal(t, int64(2), a.Version())
			for range 20 {
				status, v, body := get(t, client, a.URL())
				require.Equal(t, http.StatusOK, status)
				require.Equal(t, int64(2), v, "the old config keeps serving")
				require.Equal(t, string(RootBody(2)), string(body))
				time.Sleep(10 * time.Millisecond)
			}
			require.NoError(t, a.Reload(ctx, 4), "a good reload after a bad one")
			waitVersion(t, client, a.URL(), 4, 10*time.Second)

			pids = a.Pids() // nginx's worker is new after the reloads
			client.CloseIdleConnections()
			require.NoError(t, a.Stop())
			for _, pid := range pids {
				assert.False(t, processAlive(pid), "pid %d still alive after Stop", pid)
			}
			assert.Empty(t, groupPids(a.Pid()))
			assert.NoDirExists(t, dir)
			require.NoError(t, a.Stop(), "Stop again returns the first result")
			require.NoError(t, a.Kill())
		})
	}
}

func TestAnchorCancelAndKill(t *testing.T) {
	for _, name := range Names() {
		for _, how := range []string{"cancel", "kill"} {
			t.Run(name+"/"+how, func(t *testing.T) {
				bin := anchorOrSkip(t, name)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				a, err := Start(ctx, name, Options{InitialVersion: 7, WorkDir: t.TempDir(), Binary: bin})
				require.NoError(t, err)
				dir := a.(interface{ Dir() string }).Dir()
				pids := a.Pids()
				require.NotEmpty(t, pids)
				switch how {
				case "cancel":
					cancel()
				case "kill":
					require.NoError(t, a.Kill())
				}
				require.Eventually(t, func() bool {
					for _, pid := range pids {
						if processAlive(pid) {
							return false
						}
					}
					_, err := os.Stat(dir)
					return os.IsNotExist(err)
				}, 10*time.Second, 10*time.Millisecond, "processes %v and %s should be gone", pids, dir)
				require.NoError(t, a.Kill(), "after the end, Kill returns the end's result")
			})
		}
	}
}
