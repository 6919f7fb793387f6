package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"reloadlab/harness/analysis"
	"reloadlab/harness/bench"
	"reloadlab/harness/compare"
	"reloadlab/harness/detect"
	"reloadlab/harness/fsmount"
	"reloadlab/harness/machine"
	"reloadlab/harness/results"
	"reloadlab/harness/stats"
	"reloadlab/harness/verdict"
)

const microTxt = `goos: linux
commit: abc123
pkg: reloadlab/strategies/store
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
pkg: reloadlab/harness/walkbench
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
		Pattern: "rename", Rate: 9000, RateSource: "probed", Machine: mi, Command: "lab compare", Elapsed: "20m"}
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

	m := detect.Matrix{Schema: detect.Schema, Machine: mi, Command: "lab detect", WallSeconds: 300,
		Params:   detect.Params{Trials: 10},
		Columns:  []detect.Column{{Name: "fsnotify", Kind: "trigger"}, {Name: "robust", Kind: "trigger"}},
		Patterns: []detect.PatternInfo{{Name: "rename", ChangesContent: true}},
		Cells: []detect.Cell{
			{FS: "disk", Pattern: "rename", Column: "fsnotify", Changes: true, Trials: 10, Missed: 10, Problem: true},
			{FS: "disk", Pattern: "rename", Column: "robust", Changes: true, Trials: 10, LatencyMS: []float64{101, 102, 103}},
		},
		Claims: []detect.Claim{{ID: "C1", Source: "chapter 1", Claim: "vim saves are missed", Verdict: detect.Partly, Evidence: "scheme 1 missed", Cells: []string{"disk/vim/fsnotify"}}},
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
	claims, vs, err := Write(root, out, "test", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	md := string(data)
	for _, want := range []string{
		"## 1. Verdict", "## 2. Claims ledger", "## 3. Results", "## 4. Method and limits",
		"Test CPU", "Linux 6.18.44", "go1.26.8", "`0123456789ab`",
		"`lockmap`: worse on apply duration p50 ×420",
		"`robust` (trigger): missed 0 of 10 trials in 0 of 1 cells",
		"| D1 | chapter 1 | vim saves are missed |",
		"make compare", "make detect", "make micro",
	} {
		assert.Contains(t, md, want)
	}
	byID := map[string]Claim{}
	for _, c := range claims {
		byID[c.ID] = c
	}
	assert.Equal(t, Depends, byID["P1"].Verdict, "atomic's dip interval is below 0.3%, lockmap's straddles it")
	assert.Contains(t, byID["P1"].Because, "unresolved for lockmap at saturation")
	assert.Contains(t, md, "*Rule: at a load level")
	assert.Equal(t, NotReproducible, byID["P8"].Verdict, "no lockparse bench in the fixture")
	assert.Equal(t, Depends, byID["P2"].Verdict, "×1.01 capacity but ×16 in the bare Get")
	assert.Equal(t, Depends, byID["P5"].Verdict)
	assert.Contains(t, byID["P5"].Measured, "filepath.Walk 12.4 ms")
	assert.Equal(t, NotReproducible, byID["P6"].Verdict, "no bench runs in the fixture")
	assert.Equal(t, Depends, byID["D1"].Verdict)

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

func TestLoadNamesTheMissingCommand(t *testing.T) {
	t.Parallel()
	_, err := Load(t.TempDir())
	require.Error(t, err)
	for _, want := range []string{"make compare", "make detect", "make micro"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestClaimQPSRule(t *testing.T) {
	t.Parallel()
	e := func(v, lo, hi float64) stats.Estimate { return stats.Estimate{Value: v, Lo: lo, Hi: hi} }
	withUtil := func(sat, open map[string]stats.Estimate) *Inputs {
		in := &Inputs{Sweeps: map[string]*compare.Run{}, Bench: map[string]*bench.Summary{}}
		in.Compare = &compare.Run{Baseline: "atomic", Strategies: []string{"atomic", "lockparse"}, Points: []compare.Point{{Dip: dips(sat)}}}
		if open != nil {
			in.Sweeps["util"] = &compare.Run{Baseline: "atomic", Strategies: []string{"atomic", "lockparse"},
				Points: []compare.Point{{Value: "0.5", OpenDip: dips(open)}}}
		}
		return in
	}
	tests := []struct {
		name    string
		in      *Inputs
		verdict string
		because string
	}{
		{"every strategy below 0.3 pp everywhere", withUtil(map[string]stats.Estimate{"atomic": e(0.1, 0, 0.2), "lockparse": e(0.2, 0.1, 0.29)}, map[string]stats.Estimate{"atomic": e(0, -0.1, 0.1), "lockparse": e(0, -0.1, 0.1)}), Confirmed, ""},
		{"every strategy above everywhere", withUtil(map[string]stats.Estimate{"atomic": e(3, 2.5, 3.5), "lockparse": e(4, 3, 5)}, nil), Refuted, ""},
		{"below capacity holds, saturation fails", withUtil(map[string]stats.Estimate{"atomic": e(3, 2.5, 3.5), "lockparse": e(4, 3, 5)}, map[string]stats.Estimate{"atomic": e(0, -0.1, 0.1), "lockparse": e(0.05, -0.1, 0.2)}), Depends, "holds for atomic at 50% of capacity (open model), lockparse at 50% of capacity (open model); fails for atomic at saturation (closed model), lockparse at saturation (closed model); unresolved for none"},
		{"too noisy to tell", withUtil(map[string]stats.Estimate{"atomic": e(0.3, -0.5, 1.1), "lockparse": e(0.3, -0.5, 1.1)}, nil), Depends, "unresolved for atomic at saturation"},
		{"no pooled dip", &Inputs{Compare: &compare.Run{Points: []compare.Point{{}}}, Sweeps: map[string]*compare.Run{}}, NotReproducible, "no pooled QPS dip"},
		{"no interval anywhere", withUtil(map[string]stats.Estimate{"atomic": stats.NoEstimate()}, nil), NotReproducible, "no strategy has a dip estimate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claimQPS(tt.in)
			assert.Equal(t, tt.verdict, c.Verdict)
			assert.Contains(t, c.Because, tt.because)
			assert.NotEmpty(t, c.Rule)
			assert.NotContains(t, c.Measured, "NaN")
		})
	}
}

func TestClaimPprofShareRule(t *testing.T) {
	t.Parallel()
	with := func(share stats.Estimate, during int) *Inputs {
		s := &bench.Summary{Strategy: "lockparse", GOMAXPROCS: 1}
		s.Goroutines = bench.GoroutineSummary{Profiles: 100, DuringReload: during, DuringParse: during, ShareDuringReload: share,
			ShareSteady: stats.Estimate{Value: 0.01, Lo: 0, Hi: 0.02}, ServingShareDuringReload: share, MaxShare: share.Hi, MaxInLock: 30, MeanTotal: 45}
		return &Inputs{Bench: map[string]*bench.Summary{"lockparse": s}}
	}
	tests := []struct {
		name    string
		in      *Inputs
		verdict string
	}{
		{"above 70%", with(stats.Estimate{Value: 0.8, Lo: 0.75, Hi: 0.85}, 10), Confirmed},
		{"below 70%", with(stats.Estimate{Value: 0.4, Lo: 0.35, Hi: 0.45}, 10), Refuted},
		{"straddles 70%", with(stats.Estimate{Value: 0.7, Lo: 0.6, Hi: 0.8}, 10), Depends},
		{"no profile caught a reload", with(stats.NoEstimate(), 0), NotReproducible},
		{"no lockparse run", &Inputs{Bench: map[string]*bench.Summary{}}, NotReproducible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claimPprofShare(tt.in)
			assert.Equal(t, tt.verdict, c.Verdict)
			assert.NotEmpty(t, c.Rule)
			if tt.verdict != NotReproducible {
				assert.Contains(t, c.Measured, "Goroutine profiles")
			}
		})
	}
}
