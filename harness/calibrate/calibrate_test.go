package calibrate

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/harness/stats"
)

func TestFit(t *testing.T) {
	t.Parallel()
	xs := []float64{0, 1, 2, 3, 4, 0, 1, 2, 3, 4}
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = 1 + 2*x + 0.01*float64(i%3-1)
	}
	f := fit(xs, ys)
	require.True(t, f.Slope.Valid())
	assert.InDelta(t, 2, f.Slope.Value, 0.01)
	assert.InDelta(t, 1, f.Intercept.Value, 0.02)
	assert.True(t, f.Slope.Lo < 2 && 2 < f.Slope.Hi)
	assert.False(t, fit([]float64{1, 2}, []float64{1, 2}).Slope.Valid(), "two points leave no degrees of freedom")
	assert.False(t, fit([]float64{1, 1, 1}, []float64{1, 2, 3}).Slope.Valid(), "no spread in x: no slope")
}

func TestSummarizeAndVerdict(t *testing.T) {
	t.Parallel()
	// Three levels of ten shots: 0, 1 pp (10 ms) and 10 pp (100 ms), each
	// recovered exactly with ±1 ms of noise.
	var tp analysis.ThroughputSummary
	tp.Geometry = analysis.DefaultGeometry
	for _, inj := range []time.Duration{0, 10 * time.Millisecond, 100 * time.Millisecond} {
		var costs []analysis.ShotCost
		for i := 0; i < 10; i++ {
			c := analysis.ShotCost{Kind: analysis.KindBurn, Injected: inj, LostMs: float64(inj)/1e6 + float64(i%3-1)}
			costs = append(costs, c)
		}
		tp.Shots = append(tp.Shots, costs...)
		tp.Kinds = append(tp.Kinds, analysis.Aggregate(analysis.KindBurn, costs, analysis.QPSSample, 1))
	}
	s := summarize(tp, nil, Config{Shots: 10, Spacing: time.Second}, 1)
	require.Len(t, s.Levels, 3)
	assert.Equal(t, 0.0, s.Levels[0].InjectedPct)
	assert.InDelta(t, 1, s.Levels[1].InjectedPct, 1e-12)
	assert.InDelta(t, 10, s.Levels[2].InjectedPct, 1e-12)
	assert.False(t, s.Levels[0].Excludes0)
	assert.True(t, s.Levels[1].Excludes0)
	assert.True(t, s.Levels[1].Covers)
	assert.InDelta(t, 1, float64(s.ResolutionPP), 1e-12, "the smallest level whose interval excludes 0")
	assert.Positive(t, float64(s.AAFloorPP))
	assert.InDelta(t, 1, s.Fit.Slope.Value, 0.01)
	assert.Contains(t, s.Verdict, "recovers injected costs")
	assert.Contains(t, s.Verdict, "smallest injected effect resolved: 1.0 pp")

	none := summarize(analysis.ThroughputSummary{}, nil, Config{Shots: 3}, 1)
	assert.True(t, math.IsNaN(float64(none.ResolutionPP)))
	assert.Contains(t, none.Verdict, "too few shots")
	for _, tt := range []struct {
		slope stats.Estimate
		want  string
	}{
		{stats.Estimate{Value: 1.2, Lo: 1.1, Hi: 1.3}, "measured exceeds injected by 20%"},
		{stats.Estimate{Value: 0.8, Lo: 0.7, Hi: 0.9}, "under-reads injected costs: it recovers 80%"},
	} {
		v := verdictLine(Summary{Fit: Fit{Slope: tt.slope}, AAFloorPP: 0.1, ZeroPP: stats.Estimate{}, ResolutionPP: stats.Num(math.NaN()), ShotsFor03: stats.Num(math.NaN())})
		assert.Contains(t, v, tt.want)
		assert.Contains(t, v, "no injected level's interval excludes 0")
	}
	data, err := json.Marshal(none)
	require.NoError(t, err, "a summary without data still encodes")
	assert.Contains(t, string(data), `"resolution_pp":null`)
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Levels: []float64{1, 2}}, "must include 0"},
		{Config{Levels: []float64{0, 80}}, "[0, 50]"},
		{Config{Shots: 2}, "too few"},
		{Config{TargetCPUs: []int{1}}, "or neither"},
	}
	for _, tt := range tests {
		err := tt.cfg.fill()
		require.Error(t, err, "%+v", tt.cfg)
		assert.Contains(t, err.Error(), tt.want)
	}
	c := Config{Levels: []float64{3, 0, 1, 1}}
	require.NoError(t, c.fill())
	assert.Equal(t, []float64{0, 1, 3}, c.Levels, "sorted, each once")
}

// TestQuickCalibrate runs a quick calibration against the real target and
// checks that the estimator sees the largest injected cost, and that every
// output exists and can be re-rendered.
func TestQuickCalibrate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the target under load")
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	require.NoError(t, os.Chdir(filepath.Dir(strings.TrimSpace(string(out)))))
	dir := filepath.Join(t.TempDir(), "calibrate")
	// 16 shots a level (not the quick 6): enough for the 100 ms level to
	// show through the noise of a machine busy with the rest of the suite.
	s, err := Run(context.Background(), Config{Quick: true, Shots: 16, Levels: []float64{0, 1, 10}, Keys: 1000, TracingPairs: 2, Out: dir, CommandLine: "test"})
	require.NoError(t, err)
	require.Len(t, s.Levels, 3)
	top := s.Levels[2]
	assert.True(t, top.MeasuredPP.Lo > 0, "a 100 ms burn per shot must show: %+v", top.MeasuredPP)
	assert.InDelta(t, 100, top.CPUMs, 5, "the target accounts the burn it was asked for")
	require.NotNil(t, s.Tracing, "the tracing-cost phase ran")
	assert.Equal(t, 2, s.Tracing.Pairs)
	assert.Positive(t, float64(s.Tracing.OffRPS))
	assert.Greater(t, s.Fit.Slope.Value, 0.5, "a working estimator recovers most of an injected cost")
	assert.Less(t, s.Fit.Slope.Value, 2.0)
	assert.True(t, stats.Finite(float64(s.AAFloorPP)))
	for _, f := range []string{"summary.json", "summary.md", "calibration.png", "plan.json", "raw/attack.bin", "raw/shots.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.Positive(t, fi.Size(), f)
	}
	require.NoError(t, os.Remove(filepath.Join(dir, "summary.md")))
	require.NoError(t, Render(dir))
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "aa_floor_pp")
	require.ErrorContains(t, Render(t.TempDir()), "summary.json")
}

// TestTracingCost counts completions per block and pairs them whatever the
// ABBA order: a recorder that halves throughput costs 50%, one that costs
// nothing 0 (within the interval).
func TestTracingCost(t *testing.T) {
	t.Parallel()
	block := int64(TracingBlock)
	mk := func(rateOff, rateOn float64, pairs int) ([]load.Record, []tracingBlock) {
		var recs []load.Record
		var blocks []tracingBlock
		for i := 0; i < 2*pairs; i++ {
			on := (i/2)%2 == 1 != (i%2 == 1) // off-on, on-off, …
			b := tracingBlock{on: on, start: int64(i) * block, end: int64(i+1) * block}
			blocks = append(blocks, b)
			rate := rateOff
			if on {
				rate = rateOn
			}
			n := int(rate * float64(block) / 1e9)
			for k := 0; k < n; k++ {
				recs = append(recs, load.Record{Start: b.start + int64(k)*block/int64(n), Latency: 1, Code: 200, Err: -1})
			}
		}
		return recs, blocks
	}
	for _, tc := range []struct {
		name         string
		off, on      float64
		want, within float64
	}{
		{"halves throughput", 1000, 500, 50, 0.5},
		{"costs nothing", 1000, 1000, 0, 0.5},
		{"costs a tenth", 1000, 900, 10, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, blocks := mk(tc.off, tc.on, 4)
			got := tracingCost(recs, blocks)
			require.Equal(t, 4, got.Pairs)
			assert.InDelta(t, tc.want, got.CostPct.Value, tc.within)
			assert.InDelta(t, tc.on, float64(got.OnRPS), tc.on*0.02)
			assert.InDelta(t, tc.off, float64(got.OffRPS), tc.off*0.02)
			assert.Len(t, got.Ratios, 4)
		})
	}
}
