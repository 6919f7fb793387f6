package compare

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/stats"
)

func TestSummarizeFallsBackToRange(t *testing.T) {
	t.Parallel()
	st := summarize([]float64{5, 1, 3, 4, 2})
	assert.Equal(t, 3.0, st.Median)
	assert.Equal(t, 1.0, st.Lo)
	assert.Equal(t, 5.0, st.Hi)
	assert.InDelta(t, 0.9375, st.Confidence, 1e-9, "[min, max] of 5 values is a 93.75% interval")

	st = summarize([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	assert.InDelta(t, 5.5, st.Median, 1e-9)
	assert.Greater(t, st.Confidence, 0.95)
	assert.Greater(t, st.Lo, 1.0)
	assert.Less(t, st.Hi, 10.0)

	st = summarize([]float64{math.NaN()})
	assert.True(t, math.IsNaN(st.Median))
}

func TestJudgeFamily(t *testing.T) {
	t.Parallel()
	six := func(vs ...float64) []float64 { return vs }
	tests := []struct {
		name   string
		values []float64
		noise  NoiseFloor
		better string
		want   string
		why    string
	}{
		{"clearly higher, higher is better", six(150, 151, 149, 152, 150, 151), NoiseFloor{Log: stats.Num(math.Log(1.05))}, "higher", "better", ""},
		{"clearly higher, lower is better", six(150, 151, 149, 152, 150, 151), NoiseFloor{Log: stats.Num(math.Log(1.05))}, "lower", "worse", ""},
		{"significant but inside the A/A floor", six(104, 105, 104, 106, 105, 105), NoiseFloor{Log: stats.Num(math.Log(1.10))}, "higher", "no difference", "within the A/A noise floor"},
		{"overlapping samples", six(99, 103, 98, 101, 100, 102), NoiseFloor{Log: stats.Num(math.Log(1.01))}, "higher", "no difference", "p ≥ 0.05 (Holm)"},
		{"better past a floor above 100%: the log floor is symmetric", six(20, 21, 19, 22, 20, 21), NoiseFloor{Log: stats.Num(math.Log(2.15))}, "lower", "better", ""},
	}
	for _, tt := range tests {
		sts := map[string]*Stat{}
		base := summarize(six(100, 101, 99, 100, 102, 100))
		sts["base"] = &base
		st := summarize(tt.values)
		sts["x"] = &st
		judgeFamily(sts, []string{"base", "x"}, "base", tt.noise, tt.better)
		assert.Equal(t, tt.want, st.Verdict, tt.name)
		assert.Equal(t, tt.why, st.WhyNoDiff, tt.name)
		assert.Equal(t, "baseline", base.Verdict)
	}
	// A zero baseline compares absolute differences.
	zero := summarize(six(0, 0, 0, 0, 0, 0))
	st := summarize(six(3, 4, 5, 3, 4, 4))
	sts := map[string]*Stat{"base": &zero, "x": &st}
	judgeFamily(sts, []string{"base", "x"}, "base", NoiseFloor{Absolute: 1}, "lower")
	assert.Equal(t, "worse", st.Verdict)
	assert.True(t, math.IsNaN(st.Ratio))
}

func TestHolmMakesAFamilyStricter(t *testing.T) {
	t.Parallel()
	// 5 rounds against 5: the smallest Mann-Whitney p is 2/252 ≈ 0.008.
	// Alone it is significant; in a family of eight it is not.
	five := func(d float64) []float64 { return []float64{10 + d, 11 + d, 12 + d, 13 + d, 14 + d} }
	family := func(k int) map[string]*Stat {
		sts := map[string]*Stat{}
		b := summarize(five(0))
		sts["base"] = &b
		for i := 0; i < k; i++ {
			st := summarize(five(100))
			sts[fmt.Sprint("s", i)] = &st
		}
		return sts
	}
	names := func(k int) []string {
		out := []string{"base"}
		for i := 0; i < k; i++ {
			out = append(out, fmt.Sprint("s", i))
		}
		return out
	}
	one := family(1)
	judgeFamily(one, names(1), "base", NoiseFloor{Log: stats.Num(0.01)}, "lower")
	assert.Equal(t, "worse", one["s0"].Verdict)
	eight := family(8)
	judgeFamily(eight, names(8), "base", NoiseFloor{Log: stats.Num(0.01)}, "lower")
	for i := 0; i < 8; i++ {
		st := eight[fmt.Sprint("s", i)]
		assert.InDelta(t, 8*st.P, st.PHolm, 1e-12)
		assert.Equal(t, "no difference", st.Verdict)
		assert.Equal(t, "p ≥ 0.05 (Holm)", st.WhyNoDiff)
	}
}

func TestNoiseFloor(t *testing.T) {
	t.Parallel()
	nf := noiseFloor([]float64{100, 200, math.NaN()}, []float64{110, 190, 5})
	assert.InDelta(t, math.Log(1.1), float64(nf.Log), 1e-9)
	assert.InDelta(t, 0.1, float64(nf.Relative), 1e-9)
	assert.Equal(t, 10.0, nf.Absolute)
	assert.Len(t, nf.Pairs, 2)
	zeros := noiseFloor([]float64{0, 0}, []float64{0, 1})
	assert.True(t, math.IsInf(float64(zeros.Log), 1), "no positive pair: only absolute differences can be judged")
	assert.Equal(t, 1.0, zeros.Absolute)
}

func TestPoolDips(t *testing.T) {
	t.Parallel()
	shots := func(lost ...float64) bench.Summary {
		var s bench.Summary
		s.GOMAXPROCS = 1
		for _, l := range lost {
			s.Results.Throughput.Shots = append(s.Results.Throughput.Shots, analysis.ShotCost{Kind: analysis.KindReload, LostMs: l})
		}
		return s
	}
	noisy := func(center float64) []float64 {
		out := make([]float64, 40)
		for i := range out {
			out[i] = center + float64(i%5-2)
		}
		return out
	}
	runs := map[string][]bench.Summary{
		"atomic":       {shots(noisy(10)...), shots(noisy(10)...)},
		"atomic (A/A)": {shots(noisy(10)...), shots(noisy(10)...)},
		"lockparse":    {shots(noisy(40)...), shots(noisy(40)...)},
		"lockmap":      {shots(noisy(10.2)...), shots(noisy(10.2)...)},
	}
	dc := poolDips(runs, []string{"atomic", "lockmap", "lockparse"}, "atomic", closedShots)
	require.NotNil(t, dc.Strategies["lockparse"])
	assert.InDelta(t, 4.0, dc.Strategies["lockparse"].Reload.DipPP.Value, 1e-9, "40 ms of a 1 s sample")
	assert.Equal(t, "worse", dc.Strategies["lockparse"].Verdict)
	assert.Equal(t, "no difference", dc.Strategies["lockmap"].Verdict)
	assert.Equal(t, "baseline", dc.Strategies["atomic"].Verdict)
	assert.InDelta(t, 0, dc.AADiff.Value, 1e-9)
	assert.Positive(t, float64(dc.AAFloorPP))
	assert.Less(t, float64(dc.AAFloorPP), 0.1)
	assert.Equal(t, 80, dc.Strategies["atomic"].Reload.N)

	// A strategy whose two runs disagree by far more than their shots
	// explain: the run-to-run variation widens its interval, and a mean
	// 4 ms above the baseline is no longer a real difference.
	runs["syncmap"] = []bench.Summary{shots(noisy(4)...), shots(noisy(24)...)}
	dc = poolDips(runs, []string{"atomic", "lockmap", "lockparse", "syncmap"}, "atomic", closedShots)
	sm := dc.Strategies["syncmap"]
	assert.InDelta(t, 1.4, sm.Reload.DipPP.Value, 1e-9)
	assert.Greater(t, sm.Reload.DipPP.HalfWidth(), 5*dc.Strategies["atomic"].Reload.DipPP.HalfWidth())
	assert.Equal(t, "no difference", sm.Verdict)
	assert.Equal(t, "worse", dc.Strategies["lockparse"].Verdict, "consistent runs keep their verdict")
}

func TestStatJSONRoundTrip(t *testing.T) {
	t.Parallel()
	st := Stat{Values: []float64{1, math.NaN()}, Median: 1, Lo: math.NaN(), Hi: 2, Ratio: math.NaN(), P: 0.01, Verdict: "worse"}
	data, err := json.Marshal(st)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"ci_lo":null`)
	var back Stat
	require.NoError(t, json.Unmarshal(data, &back))
	assert.True(t, math.IsNaN(back.Lo))
	assert.True(t, math.IsNaN(back.Values[1]))
	assert.Equal(t, "worse", back.Verdict)
}

func TestRotateAndConfig(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"b", "c", "a"}, rotate([]string{"a", "b", "c"}, 1))
	assert.Equal(t, []string{"a", "b", "c"}, rotate([]string{"a", "b", "c"}, 3))
	cfg := Config{Strategies: []string{"lockmap"}}
	require.NoError(t, fill(&cfg))
	assert.Equal(t, []string{"atomic", "lockmap"}, cfg.Strategies, "the baseline is always compared")
	assert.Equal(t, DefaultRepeat, cfg.Repeat)
	assert.Equal(t, 6, DefaultRepeat, "Holm over eight strategies needs 6 rounds for Mann-Whitney to reach significance")
	err := fill(&Config{Strategies: []string{"rcu"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "valid: atomic")
	_, err = SweepValues("cpu")
	assert.ErrorContains(t, err, "valid: keys, rate, util")
	util, err := SweepValues("util")
	require.NoError(t, err)
	assert.Equal(t, []string{"0.25", "0.5", "0.75", "0.9"}, util)
}

func TestReplot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.ErrorContains(t, Replot(dir), "summary.json", "no summary.json: a clear error")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "summary.json"), []byte(`{"strategies":[],"points":[]}`), 0o644))
	require.ErrorContains(t, Replot(dir), "holds no comparison")

	pt := Point{Metrics: map[string]*MetricResult{}}
	for _, m := range metrics {
		pt.Metrics[m.Name] = &MetricResult{Strategies: map[string]*Stat{
			"atomic":  {Median: 1, Lo: 0.9, Hi: 1.1, Confidence: 0.9375},
			"lockmap": {Median: 2, Lo: 1.8, Hi: 2.2, Confidence: 0.9375},
		}}
	}
	run := Run{Baseline: "atomic", Strategies: []string{"atomic", "lockmap"}, Repeat: 5, Points: []Point{pt}}
	data, err := json.Marshal(run)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "summary.json"), data, 0o644))
	require.NoError(t, Replot(dir))
	for _, m := range metrics {
		fi, err := os.Stat(filepath.Join(dir, "bars-"+m.Name+".png"))
		require.NoError(t, err, m.Name)
		assert.Positive(t, fi.Size(), m.Name)
	}
	assert.NoFileExists(t, filepath.Join(dir, "timelines.png"), "replot leaves the raw-data timeline alone")
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	require.NoError(t, err, "replot rewrites summary.md")
	assert.Contains(t, string(md), "| metric | A/A noise floor |")

	delete(pt.Metrics, "capacity")
	data, err = json.Marshal(Run{Baseline: "atomic", Strategies: []string{"atomic"}, Repeat: 5, Points: []Point{pt}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "summary.json"), data, 0o644))
	require.ErrorContains(t, Replot(dir), `lacks the metric "capacity"`, "a summary from another version is refused, not half-drawn")
}
