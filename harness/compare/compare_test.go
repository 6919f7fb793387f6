package compare

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestJudge(t *testing.T) {
	t.Parallel()
	base := summarize([]float64{100, 101, 99, 100, 102})
	tests := []struct {
		name   string
		values []float64
		noise  NoiseFloor
		better string
		want   string
		why    string
	}{
		{"clearly higher, higher is better", []float64{150, 151, 149, 152, 150}, NoiseFloor{Relative: 0.05}, "higher", "better", ""},
		{"clearly higher, lower is better", []float64{150, 151, 149, 152, 150}, NoiseFloor{Relative: 0.05}, "lower", "worse", ""},
		{"significant but inside the A/A floor", []float64{104, 105, 104, 106, 105}, NoiseFloor{Relative: 0.10}, "higher", "no difference", "within the A/A noise floor"},
		{"overlapping samples", []float64{99, 103, 98, 101, 100}, NoiseFloor{Relative: 0.01}, "higher", "no difference", "p ≥ 0.05"},
	}
	for _, tt := range tests {
		st := summarize(tt.values)
		judge(&st, base, tt.noise, tt.better)
		assert.Equal(t, tt.want, st.Verdict, tt.name)
		assert.Equal(t, tt.why, st.WhyNoDiff, tt.name)
	}
	// A zero baseline compares absolute differences.
	zero := summarize([]float64{0, 0, 0, 0, 0})
	st := summarize([]float64{3, 4, 5, 3, 4})
	judge(&st, zero, NoiseFloor{Absolute: 1}, "lower")
	assert.Equal(t, "worse", st.Verdict)
	assert.True(t, math.IsNaN(st.Ratio))
}

func TestNoiseFloor(t *testing.T) {
	t.Parallel()
	nf := noiseFloor([]float64{100, 200, math.NaN()}, []float64{110, 190, 5})
	assert.InDelta(t, 10/105.0, nf.Relative, 1e-9)
	assert.Equal(t, 10.0, nf.Absolute)
	assert.Len(t, nf.Pairs, 2)
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
	err := fill(&Config{Strategies: []string{"rcu"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "valid: atomic")
	_, err = SweepValues("cpu")
	assert.ErrorContains(t, err, "valid: keys, rate")
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
}
