package bench

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/anchors"
	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/harness/target"
	"github.com/reloadlab/reloadlab/harness/tools"
)

func TestResolveExternal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"unknown strategy lists the anchors", Config{Strategy: "apache"}, "valid: atomic, lockmap, lockswap, syncmap, lockparse, polling, signal, robust, etcd, nginx, caddy"},
		{"store override of an anchor", Config{Strategy: "nginx", Store: "lockmap"}, "-store and -trigger"},
		{"pattern of an anchor", Config{Strategy: "caddy", Pattern: "inplace"}, "write patterns"},
		{"reload burn of an anchor", Config{Strategy: "nginx", ReloadBurn: time.Millisecond}, "-reload-burn"},
		{"controls in an anchor's mix", Config{Strategy: "nginx", Mix: []string{"reload", "identical"}}, `"identical" needs the lab's own reload pipeline`},
		{"a hook without a URL", Config{ReloadURL: "http://10.0.0.1/reload"}, "give its -target-url"},
		{"a URL without a hook", Config{TargetURL: "http://10.0.0.1/"}, "needs one way to change"},
		{"a URL with a preset", Config{TargetURL: "http://10.0.0.1/", ReloadCmd: "true", Strategy: "lockmap"}, `-strategy "lockmap" does not apply`},
		{"a remote target's CPUs", Config{TargetURL: "http://10.0.0.1/", ReloadCmd: "true", TargetCPUs: []int{0}, LoadCPUs: []int{0}}, "-target-cpus does not apply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolve(tc.cfg)
			require.ErrorContains(t, err, tc.err)
		})
	}

	r, err := resolve(Config{Strategy: "nginx", Quick: true})
	require.NoError(t, err)
	assert.Equal(t, target.KindAnchor, r.ext)
	assert.Equal(t, filepath.Join("results", "nginx"), r.Out)
	assert.Equal(t, "sighup", r.strategy.Trigger)
	assert.Equal(t, []string{analysis.KindReload}, r.Mix, "an external target's mix is reloads only")
	var names []string
	for _, p := range r.phases {
		names = append(names, p.Name)
		assert.Equal(t, []string{analysis.KindReload}, p.Mix)
	}
	assert.Equal(t, []string{"warmup", "throughput", "latency"}, names, "no diagnosis or goroutine profiles of an external target")

	r, err = resolve(Config{Strategy: "atomic", TargetURL: "http://10.0.0.1:8080", ReloadSignal: "1:HUP", LoadCPUs: []int{0}})
	require.NoError(t, err)
	assert.Equal(t, target.KindRemote, r.ext)
	assert.Equal(t, RemoteName, r.strategy.Name, "the CLI's default strategy names a remote run remote")
	assert.Equal(t, "reload-signal", r.patternName())

	assert.NoError(t, CheckStrategy("caddy"))
	assert.ErrorContains(t, CheckStrategy("haproxy"), "nginx, caddy")
	assert.True(t, IsAnchor("nginx"))
	assert.False(t, IsAnchor("atomic"))
}

// t0 is a fixed origin for synthetic timelines.
var t0 = time.Unix(1_700_000_000, 0)

func atMs(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }

func probeRec(conn string, sentMs, recvMs float64, version int64) target.ProbeRecord {
	return target.ProbeRecord{Conn: conn, Sent: atMs(sentMs).UnixNano(), Received: atMs(recvMs).UnixNano(), Status: 200, Version: version}
}

func TestChangeTimings(t *testing.T) {
	t.Parallel()
	ka, fr := target.ProbeKeepAlive, target.ProbeFresh
	probes := []target.ProbeRecord{
		probeRec(ka, 90, 95, 1),    // before the change
		probeRec(ka, 98, 102, 1),   // sent before the change: old by right, not counted
		probeRec(fr, 101, 104, 1),  // old after the change
		probeRec(fr, 110, 112, 2),  // the first new one
		probeRec(ka, 111, 115, 1),  // old after new (a keep-alive connection on the old process)
		probeRec(ka, 120, 121, -1), // no header: ignored
		{Conn: ka, Sent: atMs(125).UnixNano(), Received: atMs(126).UnixNano(), Version: 1, Err: "EOF"}, // failed: ignored
		probeRec(ka, 180, 190, 1),   // the last old one
		probeRec(ka, 200, 201, 2),   //
		probeRec(fr, 605, 606, 2),   // change 3's old version
		probeRec(ka, 600, 650, 3),   // change 3 served late
		probeRec(fr, 1000, 1001, 3), //
	}
	writes := []analysis.Write{
		{Version: 3, Kind: analysis.KindReload, Phase: "latency", Start: atMs(500), End: atMs(520)},
		{Version: 2, Kind: analysis.KindReload, Phase: "throughput", Start: atMs(100), End: atMs(108)},
		{Version: 4, Kind: analysis.KindReload, Phase: "latency", Start: atMs(1200), End: atMs(1201)}, // never served
	}
	ts := changeTimings(writes, probes)
	require.Len(t, ts, 3)

	c := ts[0]
	assert.Equal(t, int64(2), c.Version, "sorted by issue time")
	assert.Equal(t, atMs(112), c.FirstNew)
	assert.Equal(t, atMs(110), c.FirstNewSent)
	assert.Equal(t, fr, c.FirstNewConn)
	assert.Equal(t, atMs(190), c.LastOld)
	assert.Equal(t, ka, c.LastOldConn)
	assert.Equal(t, 2, c.OldAfterNew, "115 and 190")
	assert.Equal(t, 12*time.Millisecond, c.ToFirstNew())
	assert.Equal(t, 90*time.Millisecond, c.ToLastOld())
	assert.True(t, c.Served())

	c = ts[1]
	assert.Equal(t, atMs(650), c.FirstNew)
	assert.Equal(t, atMs(606), c.LastOld)
	assert.Zero(t, c.OldAfterNew)
	assert.Equal(t, 106*time.Millisecond, c.ToLastOld())

	c = ts[2]
	assert.False(t, c.Served())
	assert.Zero(t, c.ToFirstNew())
	assert.Zero(t, c.ToLastOld())

	g := analysis.Geometry{Lead: 10 * time.Millisecond, Tail: 40 * time.Millisecond}
	for _, tc := range []struct {
		name       string
		c          ChangeTiming
		win, over  analysis.Span
		hasWindows bool
	}{
		{"old after new stretches the changeover", ts[0], analysis.Span{From: atMs(90).UnixNano(), To: atMs(152).UnixNano()}, analysis.Span{From: atMs(90).UnixNano(), To: atMs(230).UnixNano()}, true},
		{"old before new: the same window", ts[1], analysis.Span{From: atMs(490).UnixNano(), To: atMs(690).UnixNano()}, analysis.Span{From: atMs(490).UnixNano(), To: atMs(690).UnixNano()}, true},
		{"never served: no window", ts[2], analysis.Span{}, analysis.Span{}, false},
	} {
		w, ok := reloadWindow(tc.c, g)
		assert.Equal(t, tc.hasWindows, ok, tc.name)
		assert.Equal(t, tc.win, w, tc.name)
		o, ok := changeoverWindow(tc.c, g)
		assert.Equal(t, tc.hasWindows, ok, tc.name)
		assert.Equal(t, tc.over, o, tc.name)
	}

	shots := externalShots(ts)
	require.Len(t, shots, 2, "a change never served is no shot")
	assert.Equal(t, analysis.Shot{Kind: analysis.KindReload, Version: 2, Phase: "throughput", Start: atMs(100).UnixNano(), End: atMs(112).UnixNano(), WriteEnd: atMs(108).UnixNano()}, shots[0])
	w := shotWindows(shots, g)
	require.Len(t, w, 2)
	assert.Equal(t, analysis.Span{From: atMs(90).UnixNano(), To: atMs(152).UnixNano()}, w[0], "the same window as reloadWindow")
}

func TestCountErrors(t *testing.T) {
	t.Parallel()
	rec := func(startMs, latMs float64, errIdx int16) load.Record {
		return load.Record{Start: atMs(startMs).UnixNano(), Latency: int64(latMs * float64(time.Millisecond)), Code: 200, Err: errIdx}
	}
	ph := &load.Result{
		Errors: []string{`Get "http://x/": read tcp: connection reset by peer`, `Get "http://x/": EOF`, `503 Service Unavailable`, `dial tcp: connect: connection refused`},
		Recs: []load.Record{
			rec(0, 1, -1),   // ok, outside
			rec(95, 10, 0),  // reset, overlaps the window from before
			rec(120, 1, 1),  // EOF, inside
			rec(130, 1, -1), // ok, inside
			rec(300, 1, 2),  // 503, outside
			rec(310, 1, 3),  // refused, outside
		},
	}
	w := mergeSpans([]analysis.Span{{From: atMs(100).UnixNano(), To: atMs(150).UnixNano()}, {From: atMs(140).UnixNano(), To: atMs(160).UnixNano()}})
	require.Len(t, w, 1, "overlapping windows merge")
	e := countErrors([]*load.Result{ph, nil}, w, "test windows")
	assert.Equal(t, RequestErrors{
		Requests: 6, Failed: 4, ConnectionResets: 2,
		ByClass:        map[string]int{target.ErrReset: 1, target.ErrEOF: 1, target.ErrStatus: 1, target.ErrRefused: 1},
		WindowRequests: 3, WindowFailed: 2, WindowConnectionResets: 2,
		WindowByClass: map[string]int{target.ErrReset: 1, target.ErrEOF: 1},
		Windows:       "test windows",
	}, e)
	assert.Contains(t, errorsClause(e), "2 of 3 requests failed in reload windows (2 connection resets/EOFs), 4 of 6 overall")
	assert.Equal(t, "; no failed requests (0 sent)", errorsClause(RequestErrors{}))
}

func TestNullJSONKeys(t *testing.T) {
	t.Parallel()
	in := `{"a":1,"big":1700000000123456789,"r":{"x":{"cpu_ms":{"read":0}},"k":[{"cpu_ms":1,"n":2},{"deep":{"cpu_ms":3}}],"keep":4},"s":[{"t":1},{"t":2}]}`
	out, err := NullJSONKeys([]byte(in), "a", "r.**.cpu_ms", "s.t", "missing.path", "r.keep.nothing")
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":null,"big":1700000000123456789,"r":{"x":{"cpu_ms":null},"k":[{"cpu_ms":null,"n":2},{"deep":{"cpu_ms":null}}],"keep":4},"s":[{"t":null},{"t":null}]}`, string(out))
	assert.Contains(t, string(out), "1700000000123456789", "numbers keep their exact text")
	_, err = NullJSONKeys([]byte("{"), "a")
	require.Error(t, err)
}

func TestExternalSummaryJSON(t *testing.T) {
	t.Parallel()
	s := Summary{Strategy: "nginx", Keys: 10, GOMAXPROCS: 0, TornCheck: NotAvailable, External: &ExternalSummary{Kind: target.KindAnchor}, NotAvailable: notAvailable(target.KindAnchor)}
	s.Results.Throughput.Kinds = []analysis.KindCost{analysis.Aggregate(analysis.KindReload, []analysis.ShotCost{{Kind: analysis.KindReload, LostMs: 1, GCMs: 0}}, time.Second, 0)}
	data, err := json.Marshal(s)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	for _, k := range []string{"consistent_view", "target_gomaxprocs", "goroutine_profiles", "target_torn_requests", "keys", "request_work_ns"} {
		assert.Contains(t, m, k)
		assert.Nil(t, m[k], "%s must be null, not zero", k)
	}
	res := m["results"].(map[string]any)
	for _, k := range []string{"gc_pauses", "sched_wait", "mutex_wait_ms_per_s", "waiting_goroutines", "torn", "traces"} {
		assert.Nil(t, res[k], "results.%s", k)
	}
	kind := res["throughput"].(map[string]any)["kinds"].([]any)[0].(map[string]any)
	assert.Nil(t, kind["cpu_ms"])
	assert.Nil(t, kind["predicted_pp"])
	assert.Equal(t, "reload", kind["kind"])
	var back Summary
	require.NoError(t, json.Unmarshal(data, &back), "the ledger reads it back")
	assert.Equal(t, "nginx", back.Strategy)
	require.NotNil(t, back.External)

	// The lab's own target: no nulls.
	s.External, s.NotAvailable = nil, nil
	data, err = json.Marshal(s)
	require.NoError(t, err)
	m = nil
	require.NoError(t, json.Unmarshal(data, &m))
	assert.Equal(t, 10.0, m["keys"])
	assert.NotContains(t, m, "external")
}

// TestQuickBenchAnchors runs a quick bench of each anchor end to end (each
// is skipped, with the reason, where it cannot run; Caddy also under
// -short, since it may need a build of minutes).
func TestQuickBenchAnchors(t *testing.T) {
	for _, name := range anchors.Names() {
		t.Run(name, func(t *testing.T) {
			if reason := anchors.Available(t.Context(), name); reason != "" {
				t.Skipf("%s unavailable: %s (make anchors)", name, reason)
			}
			if _, cached := anchors.CaddyCached(t.Context(), ""); name == anchors.NameCaddy && (testing.Short() || !cached) {
				t.Skip("caddy: skipped under -short or without a cached build (make anchors builds it)")
			}
			dir := filepath.Join(t.TempDir(), name)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			rep, err := Run(ctx, Config{Strategy: name, Quick: true, Out: dir, Log: testLog{t}, CommandLine: "test"})
			require.NoError(t, err)
			checkExternal(t, dir, rep, name, target.KindAnchor)
			es := rep.Summary.External
			require.NotNil(t, es.TargetCPU, "an anchor's process CPU is measured")
			assert.Positive(t, es.TargetCPU.CPUSeconds)
			assert.Equal(t, 1, es.TargetCPU.CPUs)
		})
	}
}

// checkExternal checks an external target's results directory.
func checkExternal(t *testing.T, dir string, rep *Report, name, kind string) {
	t.Helper()
	s := rep.Summary
	assert.Equal(t, name, s.Strategy)
	require.NotNil(t, s.External)
	es := s.External
	assert.Equal(t, kind, es.Kind)
	assert.Positive(t, s.Results.Throughput.CapacityRPS)
	assert.Positive(t, es.Changes)
	assert.Positive(t, es.Served, "the probe saw changes served")
	assert.Equal(t, es.Served, es.FirstNewMs.N)
	assert.Positive(t, es.FirstNewMs.P50)
	assert.Equal(t, es.Served, s.Results.Reloads.Applied)
	assert.Positive(t, es.Probe.Requests[target.ProbeKeepAlive])
	assert.Positive(t, es.Probe.Requests[target.ProbeFresh])
	assert.Positive(t, s.Errors.Requests)
	assert.Positive(t, s.Results.Latency.Requests)
	require.NotNil(t, s.Results.Throughput.Kind(analysis.KindReload), "the dip is estimated from the harness's own windows")
	assert.Empty(t, s.Results.Throughput.Stages)
	assert.True(t, math.IsNaN(float64(s.Results.Throughput.Kind(analysis.KindReload).PredictedPP)), "no prediction without CPU accounting")
	assert.NotEmpty(t, s.NotAvailable)
	assert.Contains(t, s.Verdict, "change → first new-version response")

	for _, f := range []string{"summary.json", "summary.md", "plan.json", "bench.txt", "attack.bin", "writes.jsonl", "probes.jsonl", "changes.jsonl", "latency.png", "throughput.png"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, "missing %s", f)
		assert.Positive(t, fi.Size(), "%s is empty", f)
	}
	for _, f := range []string{"cpu.pprof", "trace-reload-1.out", "metrics.jsonl", "reloads.jsonl", "gc-pauses.png", "blocked-goroutines.png"} {
		assert.NoFileExists(t, filepath.Join(dir, f), "nothing faked for an external target")
	}
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	assert.Nil(t, m["results"].(map[string]any)["gc_pauses"])
	assert.Nil(t, m["target_gomaxprocs"])
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## Not available for an external target")
	assert.Contains(t, string(md), NotAvailable)
	bt, err := os.ReadFile(filepath.Join(dir, "bench.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(bt), "change-to-first-new-p50-ns")
	assert.NotContains(t, string(bt), "reload-gc-pause", "no zero-filled telemetry")
	rep2, err := tools.Tool(context.Background(), "vegeta", "report", filepath.Join(dir, "attack.bin"))
	require.NoError(t, err)
	assert.Contains(t, string(rep2), "Requests")
	checkPNG(t, filepath.Join(dir, "latency.png"))
	checkPNG(t, filepath.Join(dir, "throughput.png"))
	assert.False(t, strings.Contains(s.Verdict, "torn"), "no torn-request claim about an external target")
}
