package verdict

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/stats"
)

// floor is the A/A noise floor that allows ratios up to 1 + rel.
func floor(rel float64) compare.NoiseFloor {
	return compare.NoiseFloor{Log: stats.Num(math.Log1p(rel)), Relative: stats.Num(rel)}
}

func runWith(apply, capacity map[string]compare.Stat, noiseApply, noiseCap float64) *compare.Run {
	mk := func(m map[string]compare.Stat) map[string]*compare.Stat {
		out := map[string]*compare.Stat{}
		for k, v := range m {
			out[k] = &v
		}
		return out
	}
	return &compare.Run{
		Baseline: "atomic", Strategies: []string{"atomic", "lockmap"},
		Metrics: []compare.MetricInfo{{Name: "apply", Title: "apply duration p50", Unit: "µs", Better: "lower"}, {Name: "capacity", Title: "capacity", Unit: "req/s", Better: "higher"}},
		Points: []compare.Point{{Metrics: map[string]*compare.MetricResult{
			"apply":    {Noise: floor(noiseApply), Strategies: mk(apply)},
			"capacity": {Noise: floor(noiseCap), Strategies: mk(capacity)},
		}}},
	}
}

func TestCompareVerdictsAndChecks(t *testing.T) {
	t.Parallel()
	published := runWith(
		map[string]compare.Stat{"atomic": {Median: 1, Verdict: "baseline"}, "lockmap": {Median: 400, Ratio: 400, P: 0.008, Verdict: "worse"}},
		map[string]compare.Stat{"atomic": {Median: 100, Verdict: "baseline"}, "lockmap": {Median: 95, Ratio: 0.95, P: 0.03, Verdict: "worse"}},
		0.5, 0.04)
	vs := FromCompare(published)
	require.Len(t, vs, 2)
	byID := map[string]Verdict{}
	for _, v := range vs {
		byID[v.ID] = v
	}
	assert.True(t, byID["compare/apply/lockmap"].Clear, "×400 is far beyond twice a 50% noise floor")
	assert.False(t, byID["compare/capacity/lockmap"].Clear, "5% is within twice a 4% noise floor")

	tests := []struct {
		name string
		run  *compare.Run
		want map[string]string
	}{
		{"same and significant", runWith(
			map[string]compare.Stat{"atomic": {Median: 1}, "lockmap": {Median: 300, P: 0.03, Verdict: "worse"}},
			map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 96, P: 0.2, Verdict: "no difference"}}, 0.5, 0.04),
			map[string]string{"compare/apply/lockmap": Reproduced, "compare/capacity/lockmap": WithinNoise}},
		{"same direction, not significant", runWith(
			map[string]compare.Stat{"atomic": {Median: 1}, "lockmap": {Median: 300, P: 0.1, Verdict: "no difference"}},
			map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 96}}, 0.5, 0.04),
			map[string]string{"compare/apply/lockmap": NotReproduced}},
		{"flipped", runWith(
			map[string]compare.Stat{"atomic": {Median: 300}, "lockmap": {Median: 1, P: 0.03, Verdict: "better"}},
			map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 120}}, 0.5, 0.04),
			map[string]string{"compare/apply/lockmap": Flipped, "compare/capacity/lockmap": WithinNoise}},
		{"a ×400 effect gone: the medians swap inside the noise", runWith(
			map[string]compare.Stat{"atomic": {Median: 300}, "lockmap": {Median: 280, Lo: 260, Hi: 300, P: 0.7, Verdict: "no difference"}},
			map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 120}}, 0.5, 0.04),
			map[string]string{"compare/apply/lockmap": Vanished}},
		{"shrunk below one A/A floor, same direction", runWith(
			map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 120, Lo: 110, Hi: 130, P: 0.2, Verdict: "no difference"}},
			map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 120}}, 0.5, 0.04),
			map[string]string{"compare/apply/lockmap": Vanished}},
		{"shrunk but beyond one floor, not significant", runWith(
			map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 200, Lo: 150, Hi: 260, P: 0.2, Verdict: "no difference"}},
			map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 120}}, 0.5, 0.04),
			map[string]string{"compare/apply/lockmap": NotReproduced}},
		{"a re-run too short to tell: its interval still reaches the effect", runWith(
			map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 100, Lo: 90, Hi: 400, P: 0.9, Verdict: "no difference"}},
			map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 120}}, 0.5, 0.04),
			map[string]string{"compare/apply/lockmap": NotReproduced}},
		{"no re-run", nil, map[string]string{"compare/apply/lockmap": NotMeasured}},
	}
	for _, tt := range tests {
		res := Check(vs, tt.run, nil)
		for _, r := range res {
			if want, ok := tt.want[r.Verdict.ID]; ok {
				assert.Equal(t, want, r.Outcome, "%s: %s (%s)", tt.name, r.Verdict.ID, r.Detail)
			}
		}
	}
}

func TestZeroBaselineUsesAbsoluteNoise(t *testing.T) {
	t.Parallel()
	run := runWith(
		map[string]compare.Stat{"atomic": {Median: 0}, "lockmap": {Median: 5, Diff: 5, Ratio: math.NaN(), P: 0.01, Verdict: "worse"}},
		map[string]compare.Stat{"atomic": {Median: 100}}, 0, 0)
	run.Points[0].Metrics["apply"].Noise.Absolute = 1
	vs := FromCompare(run)
	require.Len(t, vs, 1)
	assert.True(t, vs[0].Clear, "5 > 2 × an absolute floor of 1")
	assert.Zero(t, vs[0].Ratio)
}

func matrix(cells ...detect.Cell) *detect.Matrix { return &detect.Matrix{Cells: cells} }

func TestDetectVerdictsAndChecks(t *testing.T) {
	t.Parallel()
	published := matrix(
		detect.Cell{FS: "disk", Pattern: "rename", Column: "fsnotify", Changes: true, Trials: 10, Missed: 10},
		detect.Cell{FS: "disk", Pattern: "rename", Column: "robust", Changes: true, Trials: 10},
		detect.Cell{FS: "disk", Pattern: "touch", Column: "robust", Changes: false, Trials: 10, Missed: 10},
		detect.Cell{FS: "fuse-remote", Pattern: "rename", Column: "robust", Changes: true, Trials: 10},
	)
	vs := FromDetect(published)
	ids := map[string]bool{}
	for _, v := range vs {
		ids[v.ID] = true
		assert.True(t, v.Clear)
	}
	assert.True(t, ids["detect/miss/fsnotify/disk/rename"])
	assert.True(t, ids["detect/zero-missed/robust"], "no-change cells do not count as misses")
	assert.True(t, ids["detect/zero-torn/robust"])
	assert.True(t, ids["detect/zero-torn/fsnotify"])
	assert.False(t, ids["detect/zero-missed/fsnotify"])

	rerun := matrix(
		detect.Cell{FS: "disk", Pattern: "rename", Column: "fsnotify", Changes: true, Trials: 3, Missed: 0},
		detect.Cell{FS: "disk", Pattern: "rename", Column: "robust", Changes: true, Trials: 3, Missed: 1},
	)
	got := map[string]string{}
	for _, r := range Check(vs, nil, rerun) {
		got[r.Verdict.ID] = r.Outcome
	}
	assert.Equal(t, Flipped, got["detect/miss/fsnotify/disk/rename"], "fsnotify caught every rename in the re-run")
	assert.Equal(t, Flipped, got["detect/zero-missed/robust"])
	assert.Equal(t, Reproduced, got["detect/zero-torn/robust"])
}

func TestTornIsCheckedByExistence(t *testing.T) {
	t.Parallel()
	median := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
	}
	tornRun := func(atomic, syncmap []float64, p float64, verdict string) *compare.Run {
		return &compare.Run{
			Baseline: "atomic", Strategies: []string{"atomic", "syncmap"},
			Metrics: []compare.MetricInfo{{Name: "torn", Title: "torn requests", Unit: "requests", Better: "lower"}},
			Points: []compare.Point{{Metrics: map[string]*compare.MetricResult{"torn": {Strategies: map[string]*compare.Stat{
				"atomic":  {Values: atomic, Median: median(atomic)},
				"syncmap": {Values: syncmap, Median: median(syncmap), Diff: median(syncmap) - median(atomic), Ratio: math.NaN(), P: p, Verdict: verdict},
			}}}}},
		}
	}
	vs := FromCompare(tornRun([]float64{0, 0, 0, 0, 0}, []float64{99, 224, 300, 530, 8}, 0.008, "worse"))
	require.Len(t, vs, 1)
	require.True(t, vs[0].Clear)

	tests := []struct {
		name           string
		atomic, synced []float64
		p              float64
		verdict        string
		want           string
	}{
		{"a few torn requests in a short re-run prove it", []float64{0, 0, 0, 0}, []float64{0, 3, 0, 29}, 0.43, "no difference", Reproduced},
		{"no torn request anywhere", []float64{0, 0, 0, 0}, []float64{0, 0, 0, 0}, 1, "no difference", NotReproduced},
		{"the baseline tears: back to the rank test", []float64{5, 9, 7, 6}, []float64{0, 0, 1, 0}, 0.03, "better", Flipped},
	}
	for _, tt := range tests {
		res := Check(vs, tornRun(tt.atomic, tt.synced, tt.p, tt.verdict), nil)
		require.Len(t, res, 1)
		assert.Equal(t, tt.want, res[0].Outcome, "%s: %s", tt.name, res[0].Detail)
	}
}

// TestReproduceFailsWhenAnEffectVanishes is the check make reproduce makes:
// a clear effect that is gone from the re-run fails it, with the verdict
// named; verdicts the re-run did not measure are counted and listed.
func TestReproduceFailsWhenAnEffectVanishes(t *testing.T) {
	t.Parallel()
	published := runWith(
		map[string]compare.Stat{"atomic": {Median: 1, Verdict: "baseline"}, "lockmap": {Median: 400, Ratio: 400, P: 0.008, Verdict: "worse"}},
		map[string]compare.Stat{"atomic": {Median: 100, Verdict: "baseline"}, "lockmap": {Median: 95, Ratio: 0.95, P: 0.03, Verdict: "worse"}},
		0.5, 0.04)
	vs := append(FromCompare(published), Verdict{ID: "detect/zero-missed/robust", Kind: KindDetectZero, Clear: true, Column: "robust", What: "missed"})
	held := runWith(
		map[string]compare.Stat{"atomic": {Median: 1}, "lockmap": {Median: 380, P: 0.01, Verdict: "worse"}},
		map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 97}}, 0.5, 0.04)
	gone := runWith(
		map[string]compare.Stat{"atomic": {Median: 1}, "lockmap": {Median: 1.05, Lo: 1, Hi: 1.1, P: 0.6, Verdict: "no difference"}},
		map[string]compare.Stat{"atomic": {Median: 100}, "lockmap": {Median: 97}}, 0.5, 0.04)

	s := Summarize(Check(vs, held, nil))
	require.NoError(t, s.Err())
	assert.Equal(t, "re-checked 1 of 2 asserted verdicts; 0 flipped; 0 vanished", s.Line())
	assert.Equal(t, []string{"detect/zero-missed/robust"}, s.NotRechecked)

	s = Summarize(Check(vs, gone, nil))
	require.Error(t, s.Err())
	assert.Contains(t, s.Err().Error(), "compare/apply/lockmap (vanished)")
	assert.Equal(t, "re-checked 1 of 2 asserted verdicts; 0 flipped; 1 vanished", s.Line())
	assert.Contains(t, s.Markdown(), "| `compare/apply/lockmap` | yes | VANISHED |")
}

// TestStaleIsNotSilent: a column that cannot follow a cell but reports it
// stale in every trial keeps its zero-missed verdict and gains a stale
// verdict, which a re-run flips when it falls silent.
func TestStaleIsNotSilent(t *testing.T) {
	t.Parallel()
	m := &detect.Matrix{Cells: []detect.Cell{
		{FS: "disk", Pattern: "bindmount-file-rename", Column: "robust", Changes: true, Trials: 10, Missed: 10, StaleReported: 10},
		{FS: "disk", Pattern: "rename", Column: "robust", Changes: true, Trials: 10},
	}}
	byID := map[string]Verdict{}
	for _, v := range FromDetect(m) {
		byID[v.ID] = v
	}
	require.Contains(t, byID, "detect/zero-missed/robust", "stale reported is not a silent miss")
	require.Contains(t, byID, "detect/stale/robust/disk/bindmount-file-rename")
	vs := []Verdict{byID["detect/stale/robust/disk/bindmount-file-rename"], byID["detect/zero-missed/robust"]}

	silent := &detect.Matrix{Cells: []detect.Cell{
		{FS: "disk", Pattern: "bindmount-file-rename", Column: "robust", Changes: true, Trials: 3, Missed: 3},
		{FS: "disk", Pattern: "rename", Column: "robust", Changes: true, Trials: 3},
	}}
	res := Check(vs, nil, silent)
	assert.Equal(t, Flipped, res[0].Outcome, "the re-run fell silent")
	assert.Equal(t, Flipped, res[1].Outcome, "and missed in silence")

	same := &detect.Matrix{Cells: []detect.Cell{
		{FS: "disk", Pattern: "bindmount-file-rename", Column: "robust", Changes: true, Trials: 3, Missed: 3, StaleReported: 3},
	}}
	res = Check(vs, nil, same)
	assert.Equal(t, Reproduced, res[0].Outcome)
	assert.Equal(t, Reproduced, res[1].Outcome)
}
