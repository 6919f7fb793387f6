package target

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		values []string
		want   int64
		err    string
	}{
		{"plain", []string{"7"}, 7, ""},
		{"spaces trimmed", []string{" 12 "}, 12, ""},
		{"large", []string{"9007199254740993"}, 9007199254740993, ""},
		{"missing", nil, -1, "no X-Config-Version header"},
		{"not a number", []string{"v3"}, -1, `"v3" is not an integer`},
		{"empty", []string{""}, -1, "is not an integer"},
		{"two headers", []string{"1", "2"}, -1, "2 X-Config-Version headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.values {
				h.Add(DefaultVersionHeader, v)
			}
			v, err := ParseVersion(h, DefaultVersionHeader)
			assert.Equal(t, tc.want, v)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
		})
	}
	h := http.Header{}
	h.Set("x-config-version", "3") // canonicalised: names are case-insensitive
	v, err := ParseVersion(h, "X-CONFIG-VERSION")
	require.NoError(t, err)
	assert.Equal(t, int64(3), v)
}

func TestClassifyError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ err, want string }{
		{`Get "http://127.0.0.1:8080/": read tcp 127.0.0.1:5555->127.0.0.1:8080: read: connection reset by peer`, ErrReset},
		{`Get "http://127.0.0.1:8080/": write tcp 127.0.0.1:5555->127.0.0.1:8080: write: broken pipe`, ErrReset},
		{`Get "http://127.0.0.1:8080/": EOF`, ErrEOF},
		{`unexpected EOF`, ErrEOF},
		{`Get "http://127.0.0.1:8080/": http: server closed idle connection`, ErrEOF},
		{`Get "http://127.0.0.1:8080/": dial tcp 127.0.0.1:8080: connect: connection refused`, ErrRefused},
		{`Get "http://127.0.0.1:8080/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, ErrTimeout},
		{`Get "http://127.0.0.1:8080/": dial tcp 10.0.0.1:80: i/o timeout`, ErrTimeout},
		{`502 Bad Gateway`, ErrStatus},
		{`500`, ErrStatus},
		{`5000 things`, ErrOther},
		{`tls: handshake failure`, ErrOther},
		{``, ErrOther},
	} {
		assert.Equal(t, tc.want, ClassifyError(tc.err), "%q", tc.err)
	}
	assert.True(t, IsConnectionError(ErrReset))
	assert.True(t, IsConnectionError(ErrEOF))
	assert.False(t, IsConnectionError(ErrRefused))
	assert.False(t, IsConnectionError(ErrTimeout))
}

func TestParsePidSignal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in  string
		pid int
		sig syscall.Signal
		err string
	}{
		{"1234:HUP", 1234, syscall.SIGHUP, ""},
		{"1234:SIGUSR1", 1234, syscall.SIGUSR1, ""},
		{"1234:usr2", 1234, syscall.SIGUSR2, ""},
		{" 1234 : 10 ", 1234, syscall.Signal(10), ""},
		{"1234", 0, 0, "want PID:SIG"},
		{"x:HUP", 0, 0, "want PID:SIG"},
		{"-5:HUP", 0, 0, "want PID:SIG"},
		{"1234:NOPE", 0, 0, "unknown signal SIGNOPE"},
		{"1234:99", 0, 0, "no signal 99"},
	} {
		pid, sig, err := ParsePidSignal(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.pid, pid, tc.in)
		assert.Equal(t, tc.sig, sig, tc.in)
	}
}

func TestNewRemoteValidates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts RemoteOptions
		err  string
	}{
		{"no hook", RemoteOptions{URL: "http://127.0.0.1:1/"}, "needs one way to change"},
		{"two hooks", RemoteOptions{URL: "http://127.0.0.1:1/", ReloadCmd: "true", ReloadURL: "http://127.0.0.1:1/reload"}, "got reload-cmd, reload-url"},
		{"not http", RemoteOptions{URL: "ftp://x/", ReloadCmd: "true"}, "want http://"},
		{"no host", RemoteOptions{URL: "http:///x", ReloadCmd: "true"}, "want http://"},
		{"bad reload URL", RemoteOptions{URL: "http://127.0.0.1:1/", ReloadURL: "/reload"}, "reload URL"},
		{"bad signal", RemoteOptions{URL: "http://127.0.0.1:1/", ReloadSignal: "HUP"}, "want PID:SIG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRemote(tc.opts)
			require.ErrorContains(t, err, tc.err)
		})
	}
	r, err := NewRemote(RemoteOptions{URL: "http://127.0.0.1:1", ReloadCmd: "true"})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1/", r.URL(), "an empty path is /")
	assert.Equal(t, DefaultVersionHeader, r.VersionHeader())
	assert.Equal(t, "reload-cmd", r.Method())
	assert.Equal(t, KindRemote, r.Kind())
	require.NoError(t, r.Alive())
	require.NoError(t, r.Stop())
	assert.Nil(t, r.Pids())
}

// versionServer serves {"version":N} with the version header and bumps N
// on POST /reload.
func versionServer(t *testing.T, header string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var v atomic.Int64
	v.Store(1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if r.URL.Path != "/reload" {
				http.NotFound(w, r)
				return
			}
			v.Add(1)
			return
		}
		n := v.Load()
		w.Header().Set(header, strconv.FormatInt(n, 10))
		w.Write([]byte(`{"version":` + strconv.FormatInt(n, 10) + `}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &v
}

func TestRemoteChange(t *testing.T) {
	ctx := t.Context()
	srv, v := versionServer(t, "X-Version")
	dir := t.TempDir()

	got, err := FetchVersion(ctx, srv.URL+"/", "X-Version")
	require.NoError(t, err)
	assert.Equal(t, int64(1), got)
	_, err = FetchVersion(ctx, srv.URL+"/", DefaultVersionHeader)
	require.ErrorContains(t, err, "no X-Config-Version header")

	r, err := NewRemote(RemoteOptions{URL: srv.URL, VersionHeader: "X-Version", ReloadURL: srv.URL + "/reload?to={version}"})
	require.NoError(t, err)
	require.NoError(t, r.Change(ctx, 2))
	assert.Equal(t, int64(2), v.Load(), "POST /reload bumped the version")
	bad, err := NewRemote(RemoteOptions{URL: srv.URL, ReloadURL: srv.URL + "/missing"})
	require.NoError(t, err)
	require.ErrorContains(t, bad.Change(ctx, 3), "404")

	out := filepath.Join(dir, "cmd-out")
	r, err = NewRemote(RemoteOptions{URL: srv.URL, ReloadCmd: "printf '%s/{version}' \"$RELOADLAB_VERSION\" > " + out})
	require.NoError(t, err)
	require.NoError(t, r.Change(ctx, 5))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "5/5", string(b))
	r, err = NewRemote(RemoteOptions{URL: srv.URL, ReloadCmd: "echo oops >&2; exit 3"})
	require.NoError(t, err)
	require.ErrorContains(t, r.Change(ctx, 6), "oops")

	file := filepath.Join(dir, "version.conf")
	r, err = NewRemote(RemoteOptions{URL: srv.URL, ReloadFile: file, ReloadFileContent: "version: {version}\n"})
	require.NoError(t, err)
	require.NoError(t, r.Change(ctx, 7))
	b, err = os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "version: 7\n", string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary file left")

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	r, err = NewRemote(RemoteOptions{URL: srv.URL, ReloadSignal: strconv.Itoa(os.Getpid()) + ":USR2"})
	require.NoError(t, err)
	require.NoError(t, r.Change(ctx, 8))
	select {
	case s := <-sigs:
		assert.Equal(t, syscall.SIGUSR2, s)
	case <-time.After(5 * time.Second):
		t.Fatal("no SIGUSR2 arrived")
	}
	assert.Contains(t, r.Describe(), "SIGUSR2")
}

func TestProbe(t *testing.T) {
	srv, v := versionServer(t, DefaultVersionHeader)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	p := StartProbe(ctx, ProbeOptions{URL: srv.URL + "/", Every: time.Millisecond, FreshEvery: 5 * time.Millisecond, MaxRecords: 400})
	require.Eventually(t, func() bool { return p.Latest() == 1 }, 5*time.Second, time.Millisecond)
	v.Store(2)
	// Both probes must see the new version; on a loaded machine one can
	// lag the other, so wait for each rather than for a fixed time.
	require.Eventually(t, func() bool {
		saw := map[string]bool{}
		for _, r := range p.Records() {
			if r.Version == 2 {
				saw[r.Conn] = true
			}
		}
		return saw[ProbeKeepAlive] && saw[ProbeFresh]
	}, 5*time.Second, time.Millisecond)
	recs := p.Stop()
	require.NotEmpty(t, recs)
	assert.LessOrEqual(t, len(recs), 800, "MaxRecords bounds each mode")
	seen := map[string]map[int64]bool{ProbeKeepAlive: {}, ProbeFresh: {}}
	for i, r := range recs {
		assert.Empty(t, r.Err)
		assert.Equal(t, http.StatusOK, r.Status)
		assert.GreaterOrEqual(t, r.Received, r.Sent)
		if i > 0 {
			assert.GreaterOrEqual(t, r.Received, recs[i-1].Received, "sorted by Received")
		}
		seen[r.Conn][r.Version] = true
	}
	assert.True(t, seen[ProbeKeepAlive][1] && seen[ProbeKeepAlive][2], "the keep-alive probe saw both versions")
	assert.True(t, seen[ProbeFresh][2], "the fresh-connection probe saw the new version")
	n := len(p.Records())
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, n, len(p.Records()), "Stop stops polling")
}

func TestProbeRecordsFailures(t *testing.T) {
	srv, _ := versionServer(t, DefaultVersionHeader)
	url := srv.URL + "/"
	srv.Close() // connection refused from now on
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	p := StartProbe(ctx, ProbeOptions{URL: url, Every: 5 * time.Millisecond, FreshEvery: -1, MaxRecords: 3})
	require.Eventually(t, func() bool { return len(p.Records()) == 3 }, 5*time.Second, time.Millisecond)
	recs := p.Stop()
	require.Len(t, recs, 3, "MaxRecords bounds the requests")
	for _, r := range recs {
		assert.Equal(t, ProbeKeepAlive, r.Conn, "FreshEvery < 0: no fresh probe")
		assert.Equal(t, ErrRefused, ClassifyError(r.Err))
		assert.Equal(t, int64(-1), r.Version)
	}
	assert.Equal(t, int64(-1), p.Latest())
}
