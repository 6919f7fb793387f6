package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/calibrate"
	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/fsmount"
	"github.com/reloadlab/reloadlab/harness/ledger"
	"github.com/reloadlab/reloadlab/harness/machine"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/harness/verdict"
)

const microTxt = `goos: linux
commit: abc123
pkg: github.com/reloadlab/reloadlab/strategies/store
BenchmarkGet/store=atomic/writer=none-2 	 100	 5.5 ns/op
BenchmarkGet/store=lockmap/writer=none-2 	 100	 100 ns/op
BenchmarkGet/store=syncmap/writer=none-2 	 100	 15 ns/op
BenchmarkGet/store=atomic/writer=100ms-2 	 100	 6 ns/op
BenchmarkGet/store=lockmap/writer=100ms-2 	 100	 95 ns/op
BenchmarkApply/store=atomic/keys=1k 	 100	 8.5 ns/op	 0 B/op	 0 allocs/op
BenchmarkApply/store=lockmap/keys=1k 	 100	 32000 ns/op	 0 B/op	 0 allocs/op
BenchmarkApply/store=lockmap/keys=10k 	 100	 400000 ns/op	 0 B/op	 0 allocs/op
BenchmarkApply/store=syncmap/keys=10k 	 100	 2300000 ns/op	 800000 B/op	 30000 allocs/op
BenchmarkApply/store=atomic/keys=10k 	 100	 8.4 ns/op	 0 B/op	 0 allocs/op
pkg: github.com/reloadlab/reloadlab/harness/walkbench
BenchmarkWalk/way=filepath.Walk-2 	 10	 12400000 ns/op
BenchmarkWalk/way=filepath.WalkDir-2 	 10	 4400000 ns/op
BenchmarkWalk/way=os.DirFS+fs.WalkDir-2 	 10	 5500000 ns/op
`

// dips builds a pooled dip comparison with the given reload dips.
func dips(by map[string]stats.Estimate) *compare.DipComparison {
	dc := &compare.DipComparison{SampleMs: 1000, Strategies: map[string]*compare.DipStat{}, AAFloorPP: 0.2, WidestPP: 0.4,
		AADiff: stats.Estimate{Value: 0.01, Lo: -0.19, Hi: 0.21}}
	for s, e := range by {
		dc.Strategies[s] = &compare.DipStat{Reload: analysis.KindCost{Kind: analysis.KindReload, N: 50, DipPP: e, LostMs: e.Scale(10), GCMs: stats.NoEstimate()}}
	}
	return dc
}

func mkStat(median, lo, hi, ratio, p float64, verdict string) *compare.Stat {
	return &compare.Stat{Values: []float64{lo, median, hi}, Median: median, Lo: lo, Hi: hi, Ratio: ratio, P: p, Verdict: verdict}
}

// fixture writes a small but complete results tree.
func fixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mi := machine.Info{GoVersion: "go1.26.8", GOOS: "linux", GOARCH: "amd64", Kernel: "6.18.44", CPU: "Test CPU", NumCPU: 2, Commit: "0123456789abcdef0123456789abcdef01234567"}
	run := compare.Run{Baseline: "atomic", Strategies: []string{"atomic", "lockmap"}, Repeat: 5, RunDuration: "30s", Keys: 10000, ReloadEvery: "500ms",
		Pattern: "rename", Rate: 9000, RateSource: "probed", Machine: mi, Command: "lab compare", Elapsed: "20m", Started: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	for _, m := range compare.Metrics() {
		run.Metrics = append(run.Metrics, compare.MetricInfo{Name: m.Name, Title: m.Title, Unit: m.Unit, Better: m.Better})
	}
	pt := compare.Point{Metrics: map[string]*compare.MetricResult{}}
	for _, m := range compare.Metrics() {
		pt.Metrics[m.Name] = &compare.MetricResult{Noise: compare.NoiseFloor{Relative: 0.05},
			Strategies: map[string]*compare.Stat{"atomic": mkStat(1, 0.9, 1.1, 1, 1, "baseline"), "lockmap": mkStat(1.01, 0.9, 1.1, 1.01, 0.6, "no difference")}}
	}
	pt.Metrics["apply"].Strategies["lockmap"] = mkStat(420, 400, 450, 420, 0.008, "worse")
	pt.Metrics["capacity"].Strategies["atomic"] = mkStat(60000, 59000, 61000, 1, 1, "baseline")
	pt.Metrics["capacity"].Strategies["lockmap"] = mkStat(59500, 58000, 60500, 0.99, 0.4, "no difference")
	pt.Dip = dips(map[string]stats.Estimate{"atomic": {Value: 0.1, Lo: -0.05, Hi: 0.25}, "lockmap": {Value: 0.5, Lo: 0.1, Hi: 0.9}})
	run.Points = []compare.Point{pt}
	require.NoError(t, os.MkdirAll(filepath.Join(root, "compare"), 0o755))
	require.NoError(t, results.WriteJSON(filepath.Join(root, "compare", "summary.json"), run))

	m := detect.Matrix{Schema: detect.Schema, Machine: mi, Command: "lab detect", WallSeconds: 300, Started: time.Date(2026, 11, 21, 23, 0, 0, 0, time.UTC),
		Params:   detect.Params{Trials: 10},
		Columns:  []detect.Column{{Name: "fsnotify", Kind: "trigger"}, {Name: "robust", Kind: "trigger"}},
		Patterns: []detect.PatternInfo{{Name: "rename", ChangesContent: true}},
		Cells: []detect.Cell{
			{FS: "disk", Pattern: "rename", Column: "fsnotify", Changes: true, Trials: 10, Missed: 10, Problem: true},
			{FS: "disk", Pattern: "rename", Column: "robust", Changes: true, Trials: 10, LatencyMS: []float64{101, 102, 103}},
		},
	}
	m.FileSystems = append(m.FileSystems, fsmount.Info{Name: "disk", Type: "ext4"})
	require.NoError(t, os.MkdirAll(filepath.Join(root, "detect"), 0o755))
	require.NoError(t, results.WriteJSON(filepath.Join(root, "detect", "matrix.json"), m))

	require.NoError(t, os.MkdirAll(filepath.Join(root, "micro"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "micro", "bench.txt"), []byte(microTxt), 0o644))
	return root
}

func TestWriteReport(t *testing.T) {
	t.Parallel()
	root := fixture(t)
	out := filepath.Join(root, "REPORT.md")
	claims, vs, err := Write(root, out, "test")
	require.NoError(t, err)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	md := string(data)
	for _, want := range []string{
		"## 1. Verdict", "## 2. Claims ledger", "## 3. Results", "## 4. Method and limits",
		"Test CPU", "Linux 6.18.44", "go1.26.8", "`0123456789ab`",
		"`lockmap`: worse on apply duration p50 ×420",
		"`robust` (trigger): missed silently 0 of 10 trials in 0 of 1 cells; stale, reported, in 0 trials",
		"| D1 | chapter 1, opening |",
		"make compare", "make detect", "make micro",
	} {
		assert.Contains(t, md, want)
	}
	byID := map[string]Claim{}
	for _, c := range claims {
		byID[c.ID] = c
	}
	assert.Equal(t, ledger.Depends, byID["P1"].Verdict, "atomic's dip interval is below 0.3%, lockmap's straddles it")
	assert.Contains(t, byID["P1"].Because, "unresolved for lockmap at saturation")
	assert.Contains(t, md, "*Rule: at a load level")
	assert.Equal(t, ledger.NotReproducible, byID["P8"].Verdict, "no lockparse bench in the fixture")
	assert.Equal(t, ledger.Depends, byID["P2"].Verdict, "×1.01 capacity but ×16 in the bare Get")
	assert.Equal(t, ledger.Depends, byID["P5"].Verdict, "the article's ratio, but plain WalkDir is faster than os.DirFS")
	assert.Contains(t, byID["P5"].Measured, "filepath.Walk 12.4 ms")
	assert.Equal(t, ledger.NotReproducible, byID["P6"].Verdict, "no bench runs in the fixture")
	assert.Equal(t, ledger.NotReproducible, byID["D1"].Verdict, "no vim cells in the fixture")

	vf, err := verdict.Read(filepath.Join(root, "verdicts.json"))
	require.NoError(t, err)
	assert.Equal(t, len(vs), len(vf.Verdicts))
	ids := map[string]bool{}
	for _, v := range vf.Verdicts {
		ids[v.ID] = true
	}
	assert.True(t, ids["compare/apply/lockmap"])
	assert.True(t, ids["detect/miss/fsnotify/disk/rename"])
	assert.True(t, ids["detect/zero-missed/robust"])
	assert.False(t, strings.Contains(md, "NaN"), "no NaN may reach the report")
}

// TestReportIsDeterministic regenerates the report from the same results
// and requires identical bytes: no clock, no map order in the output.
func TestReportIsDeterministic(t *testing.T) {
	t.Parallel()
	root := fixture(t)
	var outs [][]byte
	for i := range 3 {
		out := filepath.Join(root, fmt.Sprintf("REPORT-%d.md", i))
		_, _, err := Write(root, out, "test")
		require.NoError(t, err)
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		outs = append(outs, data)
	}
	assert.Equal(t, string(outs[0]), string(outs[1]))
	assert.Equal(t, string(outs[0]), string(outs[2]))
	assert.Contains(t, string(outs[0]), "results made between 2026-11-20 and 2026-11-21")
}

// TestCorruptResultsAreErrors checks that a corrupt results file, required
// or optional, fails the report with the file's name, and the old report
// stays.
func TestCorruptResultsAreErrors(t *testing.T) {
	t.Parallel()
	for _, rel := range []string{"compare/summary.json", "detect/matrix.json", "calibrate/summary.json", "compare-sweep-util/summary.json", "atomic/summary.json", "viperenv/summary.json"} {
		t.Run(rel, func(t *testing.T) {
			root := fixture(t)
			p := filepath.Join(root, rel)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte(`{"strategy": "atomic", "truncated`), 0o644))
			out := filepath.Join(root, "REPORT.md")
			require.NoError(t, os.WriteFile(out, []byte("old"), 0o644))
			_, _, err := Write(root, out, "test")
			require.Error(t, err)
			assert.Contains(t, err.Error(), p)
			data, _ := os.ReadFile(out)
			assert.Equal(t, "old", string(data), "a failed report leaves the old one")
		})
	}
}

// TestEmptyResultsDoNotPanic renders results that hold no data at all.
func TestEmptyResultsDoNotPanic(t *testing.T) {
	t.Parallel()
	in := &Inputs{Compare: &compare.Run{}, Detect: &detect.Matrix{}, Micro: &ledger.Micro{}, Sweeps: map[string]*compare.Run{"keys": {Strategies: []string{"atomic"}, Points: []compare.Point{{Value: "1000"}}}, "util": {Strategies: []string{"atomic"}, Points: []compare.Point{{Value: "0.5"}}}},
		Shared: &compare.Run{}, Calibrate: &calibrate.Summary{}, CalLoop: &calibrate.Summary{},
		Bench: map[string]*bench.Summary{"atomic": {Strategy: "atomic"}}}
	var md string
	require.NotPanics(t, func() { md = Markdown(in, ledger.Claims(in), nil, "") })
	assert.Contains(t, md, "## 2. Claims ledger")
}

// TestAnchorsSection renders the anchors table from a comparison that
// holds nginx beside atomic, and says "not run" without one.
func TestAnchorsSection(t *testing.T) {
	num := func(v float64) stats.Num { return stats.Num(v) }
	stat := func(m float64, verdict string) *compare.Stat {
		return &compare.Stat{Median: m, Verdict: verdict}
	}
	run := &compare.Run{Baseline: "atomic", Strategies: []string{"atomic", "nginx"}, Command: "lab compare", Points: []compare.Point{{
		Metrics: map[string]*compare.MetricResult{
			"capacity":   {Strategies: map[string]*compare.Stat{"atomic": stat(1500, "baseline"), "nginx": stat(9000, "better")}},
			"reload-p99": {Strategies: map[string]*compare.Stat{"atomic": stat(4, "baseline"), "nginx": stat(16, "worse")}},
		},
		Clients: map[string]*compare.ClientView{
			"atomic": {WindowRequests: 100, ServingP50Ms: num(3), ServingP99Ms: num(9), LastOldP50Ms: num(math.NaN()), LastOldMaxMs: num(math.NaN())},
			"nginx":  {External: true, WindowRequests: 200, WindowFailed: 7, WindowConnectionResets: 5, ServingP50Ms: num(24), ServingP99Ms: num(36), LastOldP50Ms: num(117), LastOldMaxMs: num(128)},
		},
	}}}
	md := anchorsSection(&Inputs{Compare: run})
	assert.Contains(t, md, "| `nginx` | 9000 req/s (better) | not available | 16.0 ms (worse) | 7 of 200 | 5 |")
	assert.Contains(t, md, "`nginx`: 7 failed request(s) in reload windows (5 connection resets/EOFs) against 0 for `atomic`; old-version responses for up to 128 ms after the change; capacity ×6.00")
	run.Strategies = []string{"atomic"}
	assert.Contains(t, anchorsSection(&Inputs{Compare: run}), "Not run: the committed comparison holds no anchor")
}
