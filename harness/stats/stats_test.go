package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var nan = math.NaN()

func TestQuantile(t *testing.T) {
	// Expected values are R's quantile(x, p, type = 7).
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"median of even count", []float64{4, 1, 3, 2}, 0.5, 2.5},
		{"median of odd count", []float64{5, 1, 3}, 0.5, 3},
		{"p90 of 1..10", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9.1},
		{"first quartile", []float64{1, 3, 7, 15}, 0.25, 2.5},
		{"p0 is the minimum", []float64{3, 1, 2}, 0, 1},
		{"p1 is the maximum", []float64{3, 1, 2}, 1, 3},
		{"p above 1 clamps", []float64{3, 1, 2}, 1.5, 3},
		{"single value", []float64{7}, 0.99, 7},
		{"NaN and Inf ignored", []float64{nan, 1, math.Inf(1), 3}, 0.5, 2},
		{"empty", nil, 0.5, nan},
		{"only NaN", []float64{nan}, 0.5, nan},
		{"NaN p", []float64{1, 2}, nan, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Quantile(tt.xs, tt.p)
			if math.IsNaN(tt.want) {
				assert.True(t, math.IsNaN(got), "got %v", got)
				return
			}
			assert.InDelta(t, tt.want, got, 1e-12)
		})
	}
}

func TestQuantileDoesNotModify(t *testing.T) {
	xs := []float64{3, 1, 2}
	Quantile(xs, 0.5)
	assert.Equal(t, []float64{3, 1, 2}, xs)
}

func TestMeanStdDev(t *testing.T) {
	assert.InDelta(t, 2.5, Mean([]float64{1, 2, 3, 4, nan}), 1e-12)
	assert.InDelta(t, math.Sqrt(5.0/3), StdDev([]float64{1, 2, 3, 4}), 1e-12)
	assert.True(t, math.IsNaN(Mean(nil)))
	assert.True(t, math.IsNaN(StdDev([]float64{1})))
}

func TestHistQuantile(t *testing.T) {
	bs := []Bucket{{Lo: 2, Hi: 4, Count: 2}, {Lo: 0, Hi: 1, Count: 7}, {Lo: 1, Hi: 2, Count: 1}}
	tests := []struct {
		p    float64
		want float64
	}{
		{0, 1}, {0.5, 1}, {0.7, 1}, {0.8, 2}, {0.9, 4}, {0.99, 4}, {1, 4},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, HistQuantile(bs, tt.p), "p=%v", tt.p)
	}
	assert.True(t, math.IsNaN(HistQuantile(nil, 0.5)))
	assert.Equal(t, 7, int(bs[1].Count), "the input is not reordered")
}

func TestHolm(t *testing.T) {
	// R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		assert.InDelta(t, want[i], got[i], 1e-12, "index %d", i)
	}
	got = Holm([]float64{0.5, nan, 0.01})
	assert.InDelta(t, 0.5, got[0], 1e-12, "NaN does not count in the family")
	assert.True(t, math.IsNaN(got[1]))
	assert.InDelta(t, 0.02, got[2], 1e-12)
	assert.Equal(t, []float64{0.9}, Holm([]float64{0.9}), "a family of one is not adjusted")
	assert.Empty(t, Holm(nil))
	assert.InDelta(t, 1, Holm([]float64{0.6, 0.7})[0], 1e-12, "capped at 1")
}

func TestLogRatioFloor(t *testing.T) {
	tests := []struct {
		name  string
		pairs [][2]float64
		floor float64
		n     int
	}{
		{"largest pair wins", [][2]float64{{1, 2}, {3, 3.3}}, math.Log(2), 2},
		{"symmetric", [][2]float64{{2, 1}}, math.Log(2), 1},
		{"zeros and NaN skipped", [][2]float64{{0, 1}, {nan, 1}, {1, 1.5}}, math.Log(1.5), 1},
		{"nothing usable", [][2]float64{{0, 0}}, nan, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, n := LogRatioFloor(tt.pairs)
			assert.Equal(t, tt.n, n)
			if math.IsNaN(tt.floor) {
				assert.True(t, math.IsNaN(f))
				return
			}
			assert.InDelta(t, tt.floor, f, 1e-12)
		})
	}
}

func TestBeyondLogFloor(t *testing.T) {
	floor := math.Log(2.15) // a ±115% floor on the linear scale
	tests := []struct {
		ratio float64
		want  bool
	}{
		{0.3, true}, // better by more than the floor: impossible with |ratio−1| ≤ 1.15
		{0.5, false},
		{2, false},
		{2.5, true},
		{0, false},
		{nan, false},
		{-1, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, BeyondLogFloor(tt.ratio, floor), "ratio %v", tt.ratio)
	}
	assert.False(t, BeyondLogFloor(3, nan))
	up, down := FloorPercent(math.Log(2))
	assert.InDelta(t, 100, up, 1e-9)
	assert.InDelta(t, 50, down, 1e-9)
}

func TestBootstrapMean(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	xs := make([]float64, 400)
	for i := range xs {
		xs[i] = rng.NormFloat64()
	}
	e := BootstrapMean(xs)
	require.True(t, e.Valid())
	assert.True(t, e.Lo < e.Value && e.Value < e.Hi)
	// The interval's half-width is about 1.96/sqrt(400) = 0.098.
	assert.InDelta(t, 0.098, e.HalfWidth(), 0.02)
	assert.Equal(t, e, BootstrapMean(xs), "a fixed seed gives the same interval")

	c := BootstrapMean([]float64{2, 2, 2})
	assert.Equal(t, Estimate{2, 2, 2}, c)
	one := BootstrapMean([]float64{5, nan})
	assert.Equal(t, 5.0, one.Value)
	assert.False(t, one.Valid(), "one value has no interval")
	assert.False(t, BootstrapMean(nil).Valid())
}

func TestBlockBootstrapWidensForCorrelatedSeries(t *testing.T) {
	// An AR(1) series with strong positive correlation: a plain bootstrap
	// treats its values as independent and understates the interval.
	rng := rand.New(rand.NewPCG(2, 2))
	xs := make([]float64, 2000)
	for i := 1; i < len(xs); i++ {
		xs[i] = 0.9*xs[i-1] + rng.NormFloat64()
	}
	plain := BootstrapMean(xs)
	block := BlockBootstrapMean(xs, 50)
	assert.Greater(t, block.HalfWidth(), 2*plain.HalfWidth())
	assert.Equal(t, plain.Value, block.Value)
	assert.True(t, BlockBootstrapMean(xs[:3], 10).Valid(), "a block longer than the series is cut")
}

func TestMedianCI(t *testing.T) {
	e, cov := MedianCI([]float64{5, 1, 3, 2, 4})
	assert.Equal(t, 3.0, e.Value)
	assert.Equal(t, 1.0, e.Lo)
	assert.Equal(t, 5.0, e.Hi)
	assert.InDelta(t, 0.9375, cov, 1e-12)
	e, cov = MedianCI([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	assert.Equal(t, 5.5, e.Value, "even count: mean of the middle two")
	assert.GreaterOrEqual(t, cov, 0.95)
	assert.LessOrEqual(t, e.Lo, 5.0)
	e, _ = MedianCI(nil)
	assert.False(t, e.Valid())
}

func TestMannWhitney(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5, 6}
	b := []float64{11, 12, 13, 14, 15, 16}
	p := MannWhitney(a, b)
	assert.InDelta(t, 2.0/924, p, 1e-9, "exact two-sided p for complete separation of 6 vs 6")
	assert.True(t, math.IsNaN(MannWhitney(nil, b)))
	assert.Greater(t, MannWhitney(a, a), 0.5)
}

func TestEstimate(t *testing.T) {
	e := Estimate{1, 0.5, 2}
	assert.True(t, e.Excludes(0))
	assert.False(t, e.Excludes(1.5))
	assert.Equal(t, Estimate{-2, -4, -1}, e.Scale(-2))
	data, err := json.Marshal(NoEstimate())
	require.NoError(t, err)
	assert.JSONEq(t, `{"value":null,"ci_lo":null,"ci_hi":null}`, string(data))
	var back Estimate
	require.NoError(t, json.Unmarshal([]byte(`{"value":1,"ci_lo":null,"ci_hi":3}`), &back))
	assert.Equal(t, 1.0, back.Value)
	assert.True(t, math.IsNaN(back.Lo))
	assert.False(t, NoEstimate().Excludes(0))
}

func TestRequiredN(t *testing.T) {
	assert.Equal(t, 385.0, RequiredN(1, 0.1))
	assert.True(t, math.IsNaN(RequiredN(1, 0)))
	assert.InDelta(t, 0.9375, MinMaxCoverage(5), 1e-12)
	assert.True(t, math.IsNaN(MinMaxCoverage(0)))
}

func TestMeanCI(t *testing.T) {
	// R: t.test(c(1, 2, 3, 4))$conf.int = 0.4457397 4.5542603
	e := MeanCI([]float64{1, 2, 3, 4})
	assert.InDelta(t, 2.5, e.Value, 1e-12)
	assert.InDelta(t, 0.4457397, e.Lo, 1e-6)
	assert.InDelta(t, 4.5542603, e.Hi, 1e-6)
	assert.Equal(t, TMean([]float64{1, 2, 3, 4}), e, "small samples use t")
	big := make([]float64, 100)
	for i := range big {
		big[i] = float64(i % 10)
	}
	assert.Equal(t, BootstrapMean(big), MeanCI(big), "large samples use the bootstrap")
	assert.False(t, MeanCI([]float64{1}).Valid())
	assert.False(t, MeanCI(nil).Valid())
	// A handful of values: the t interval is wider than the bootstrap's.
	few := []float64{-4, 1, -8, -2}
	assert.Greater(t, MeanCI(few).HalfWidth(), BootstrapMean(few).HalfWidth())
}

func TestNumJSON(t *testing.T) {
	data, err := json.Marshal(struct{ A, B Num }{Num(nan), 1.5})
	require.NoError(t, err)
	assert.JSONEq(t, `{"A":null,"B":1.5}`, string(data))
	var back struct{ A, B Num }
	require.NoError(t, json.Unmarshal(data, &back))
	assert.True(t, math.IsNaN(float64(back.A)))
	assert.Equal(t, Num(1.5), back.B)
}

func TestTwoLevelMean(t *testing.T) {
	// Three groups with no group effect: the plain interval of 30 values.
	flat := [][]float64{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}
	e, v := TwoLevelMean(flat)
	assert.InDelta(t, 5.5, e.Value, 1e-12)
	assert.InDelta(t, (55.0/6)/30, v, 1e-12, "no between-group variance: s²/N")
	// The same values shifted by group: the interval widens.
	shifted := [][]float64{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, {21, 22, 23, 24, 25, 26, 27, 28, 29, 30}}
	es, vs := TwoLevelMean(shifted)
	assert.InDelta(t, 15.5, es.Value, 1e-12)
	// var(group means) = 100, noise = s²/10 = 0.917: τ² = 99.08; v = τ²/3 + s²/30.
	assert.InDelta(t, (100-55.0/60)/3+(55.0/6)/30, vs, 1e-9)
	assert.Greater(t, es.HalfWidth(), 10*e.HalfWidth())
	one, _ := TwoLevelMean([][]float64{{4}})
	assert.False(t, one.Valid())
	none, _ := TwoLevelMean(nil)
	assert.True(t, math.IsNaN(none.Value))

	d, p := DiffTwoLevel(shifted, flat)
	assert.InDelta(t, 10, d.Value, 1e-12)
	assert.Greater(t, p, 0.05, "a 10-point shift is not significant when groups differ by 10 among themselves")
	d, p = DiffTwoLevel([][]float64{{11, 12, 13}, {11, 12, 13}}, [][]float64{{1, 2, 3}, {1, 2, 3}})
	assert.InDelta(t, 10, d.Value, 1e-12)
	assert.Less(t, p, 0.001)
	_, p = DiffTwoLevel(nil, flat)
	assert.True(t, math.IsNaN(p))
}

func TestEstimateFormat(t *testing.T) {
	tests := []struct {
		e    Estimate
		want string
	}{
		{Estimate{0.341, 0.302, 0.376}, "34% [30%, 38%]"},
		{Estimate{0.001, -0.002, 0.011}, "0% [0%, 1%]"},
		{Estimate{0.25, nan, nan}, "25%"},
		{NoEstimate(), "n/a"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.e.Format(100, 0, "%"))
	}
	assert.Equal(t, "2.85 [2.65, 3.06]", Estimate{2.853, 2.649, 3.061}.Format(1, 2, ""))
}
