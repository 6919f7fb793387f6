package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchmath"
	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the coverage of the intervals this package reports.
const Confidence = 0.95

// Finite reports whether v is neither NaN nor infinite.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Clean returns the finite values of xs, sorted, in a new slice.
func Clean(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if Finite(x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// Quantile returns the type-7 p-quantile (0 ≤ p ≤ 1) of the finite values
// of xs, NaN if there are none. xs is not modified.
func Quantile(xs []float64, p float64) float64 { return QuantileSorted(Clean(xs), p) }

// QuantileSorted is Quantile for values already sorted and finite.
func QuantileSorted(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 || math.IsNaN(p) {
		return math.NaN()
	}
	p = min(max(p, 0), 1)
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Median returns the median of the finite values of xs (NaN for none).
func Median(xs []float64) float64 { return Quantile(xs, 0.5) }

// Mean returns the mean of the finite values of xs (NaN for none).
func Mean(xs []float64) float64 {
	s, n := 0.0, 0
	for _, x := range xs {
		if Finite(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// StdDev returns the sample standard deviation (n − 1) of the finite values
// of xs (NaN for fewer than two).
func StdDev(xs []float64) float64 {
	m := Mean(xs)
	s, n := 0.0, 0
	for _, x := range xs {
		if Finite(x) {
			s += (x - m) * (x - m)
			n++
		}
	}
	if n < 2 {
		return math.NaN()
	}
	return math.Sqrt(s / float64(n-1))
}

// Bucket is one histogram bucket: Count values in [Lo, Hi).
type Bucket struct {
	Lo, Hi float64
	Count  uint64
}

// HistQuantile returns the upper bound of the bucket that holds the type-7
// p-quantile's lower order statistic (rank ⌊(n−1)·p⌋, 0-based), an upper
// estimate of the quantile; NaN for an empty histogram. Buckets may come in
// any order and must not overlap.
func HistQuantile(buckets []Bucket, p float64) float64 {
	bs := slices.Clone(buckets)
	slices.SortFunc(bs, func(a, b Bucket) int {
		switch {
		case a.Hi < b.Hi:
			return -1
		case a.Hi > b.Hi:
			return 1
		}
		return 0
	})
	var n uint64
	for _, b := range bs {
		n += b.Count
	}
	if n == 0 || math.IsNaN(p) {
		return math.NaN()
	}
	rank := uint64(math.Floor(float64(n-1) * min(max(p, 0), 1)))
	var acc uint64
	for _, b := range bs {
		acc += b.Count
		if acc > rank {
			return b.Hi
		}
	}
	return bs[len(bs)-1].Hi
}

// Estimate is a point estimate with a confidence interval. An estimate that
// could not be made is NaN; in JSON NaN is null.
type Estimate struct {
	Value float64
	Lo    float64
	Hi    float64
}

// NoEstimate is the estimate that could not be made.
func NoEstimate() Estimate { return Estimate{math.NaN(), math.NaN(), math.NaN()} }

// Valid reports whether the estimate and its interval exist.
func (e Estimate) Valid() bool { return Finite(e.Value) && Finite(e.Lo) && Finite(e.Hi) }

// Excludes reports whether the interval lies wholly above or below v.
func (e Estimate) Excludes(v float64) bool { return e.Valid() && (e.Lo > v || e.Hi < v) }

// HalfWidth returns half the interval's width (NaN if it does not exist).
func (e Estimate) HalfWidth() float64 {
	if !e.Valid() {
		return math.NaN()
	}
	return (e.Hi - e.Lo) / 2
}

// Scale returns the estimate multiplied by k (interval ends swap for k < 0).
func (e Estimate) Scale(k float64) Estimate {
	out := Estimate{e.Value * k, e.Lo * k, e.Hi * k}
	if k < 0 {
		out.Lo, out.Hi = out.Hi, out.Lo
	}
	return out
}

type estimateJSON struct {
	Value *float64 `json:"value"`
	Lo    *float64 `json:"ci_lo"`
	Hi    *float64 `json:"ci_hi"`
}

func finiteOrNil(v float64) *float64 {
	if !Finite(v) {
		return nil
	}
	return &v
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// MarshalJSON encodes NaN as null.
func (e Estimate) MarshalJSON() ([]byte, error) {
	return json.Marshal(estimateJSON{finiteOrNil(e.Value), finiteOrNil(e.Lo), finiteOrNil(e.Hi)})
}

// UnmarshalJSON decodes null as NaN.
func (e *Estimate) UnmarshalJSON(data []byte) error {
	var j estimateJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	e.Value, e.Lo, e.Hi = orNaN(j.Value), orNaN(j.Lo), orNaN(j.Hi)
	return nil
}

// Resamples is the number of bootstrap resamples.
const Resamples = 4000

// SmallSample is the count below which MeanCI uses Student's t interval:
// a percentile bootstrap of a handful of values is far too narrow.
const SmallSample = 30

// MeanCI returns the mean of the finite values of xs with a 95% interval:
// Student's t interval below SmallSample values, the percentile bootstrap
// (BootstrapMean) from there on, where it no longer understates the width
// and copes better with skewed values. It needs at least two values for an
// interval.
func MeanCI(xs []float64) Estimate {
	if len(Clean(xs)) >= SmallSample {
		return BootstrapMean(xs)
	}
	return TMean(xs)
}

// TMean returns the mean of the finite values of xs with Student's t 95%
// interval, mean ± t(0.975, n−1)·s/√n.
func TMean(xs []float64) Estimate {
	vals := Clean(xs)
	n := len(vals)
	switch n {
	case 0:
		return NoEstimate()
	case 1:
		return Estimate{vals[0], math.NaN(), math.NaN()}
	}
	m, sd := Mean(vals), StdDev(vals)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - (1-Confidence)/2)
	h := t * sd / math.Sqrt(float64(n))
	return Estimate{m, m - h, m + h}
}

// BootstrapMean returns the mean of the finite values of xs with a 95%
// percentile bootstrap interval (Resamples resamples, fixed seed). It needs
// at least two values; with few values prefer MeanCI.
func BootstrapMean(xs []float64) Estimate {
	return BlockBootstrapMean(xs, 1)
}

// BlockBootstrapMean is BootstrapMean for a time series: it resamples
// moving blocks of block consecutive values (the finite values in their
// original order), so correlation between neighbours survives into the
// interval. block ≤ 1 is the plain bootstrap; a block longer than the
// series is cut to its length.
func BlockBootstrapMean(xs []float64, block int) Estimate {
	var vals []float64
	for _, x := range xs {
		if Finite(x) {
			vals = append(vals, x)
		}
	}
	n := len(vals)
	if n < 2 {
		if n == 1 {
			return Estimate{vals[0], math.NaN(), math.NaN()}
		}
		return NoEstimate()
	}
	block = min(max(block, 1), n)
	starts := n - block + 1
	rng := rand.New(rand.NewPCG(0x5eed, uint64(n)))
	means := make([]float64, Resamples)
	for r := range means {
		s, k := 0.0, 0
		for k < n {
			i := rng.IntN(starts)
			for j := 0; j < block && k < n; j++ {
				s += vals[i+j]
				k++
			}
		}
		means[r] = s / float64(n)
	}
	slices.Sort(means)
	alpha := (1 - Confidence) / 2
	return Estimate{Value: Mean(vals), Lo: QuantileSorted(means, alpha), Hi: QuantileSorted(means, 1-alpha)}
}

// MedianCI returns the median of the finite values of xs and a
// distribution-free interval for it with its coverage: benchmath's 95%
// interval when one exists (6 values or more), otherwise [min, max] with
// coverage MinMaxCoverage(n). No values give NaNs.
func MedianCI(xs []float64) (Estimate, float64) {
	vals := Clean(xs)
	if len(vals) == 0 {
		return NoEstimate(), math.NaN()
	}
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(vals, &benchmath.DefaultThresholds), Confidence)
	e, cov := Estimate{QuantileSorted(vals, 0.5), s.Lo, s.Hi}, s.Confidence
	if !Finite(s.Lo) || !Finite(s.Hi) {
		e.Lo, e.Hi, cov = vals[0], vals[len(vals)-1], MinMaxCoverage(len(vals))
	}
	return e, cov
}

// MinMaxCoverage is the confidence with which [min, max] of n independent
// values covers their median, 1 − 2^(1−n): 93.75% for 5 values.
func MinMaxCoverage(n int) float64 {
	if n < 1 {
		return math.NaN()
	}
	return 1 - math.Pow(2, float64(1-n))
}

// MannWhitney returns the two-sided Mann-Whitney U p-value of a against b
// (benchmath's exact or normal-approximation test), NaN if either has no
// finite value.
func MannWhitney(a, b []float64) float64 {
	ca, cb := Clean(a), Clean(b)
	if len(ca) == 0 || len(cb) == 0 {
		return math.NaN()
	}
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(ca, &benchmath.DefaultThresholds), benchmath.NewSample(cb, &benchmath.DefaultThresholds))
	return c.P
}

// Holm returns Holm's step-down adjustment of the family ps: each adjusted
// p-value is the smallest family-wise significance level at which its test
// would be rejected. NaN entries stay NaN and do not count in the family's
// size. Adjusted values are capped at 1 and keep the raw order.
func Holm(ps []float64) []float64 {
	out := make([]float64, len(ps))
	var idx []int
	for i, p := range ps {
		out[i] = math.NaN()
		if Finite(p) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	m := len(idx)
	running := 0.0
	for k, i := range idx {
		adj := min(1, float64(m-k)*ps[i])
		running = max(running, adj)
		out[i] = running
	}
	return out
}

// LogRatioFloor returns the A/A noise floor on the log scale: the largest
// |ln(a/a′)| over the pairs in which both values are finite and positive,
// and how many pairs it saw. NaN if no pair qualifies.
func LogRatioFloor(pairs [][2]float64) (floor float64, n int) {
	floor = math.NaN()
	for _, p := range pairs {
		if !Finite(p[0]) || !Finite(p[1]) || p[0] <= 0 || p[1] <= 0 {
			continue
		}
		d := math.Abs(math.Log(p[0] / p[1]))
		if n == 0 || d > floor {
			floor = d
		}
		n++
	}
	return floor, n
}

// BeyondLogFloor reports whether ratio differs from 1 by more than the
// log-scale floor: |ln ratio| > floor. A non-positive or non-finite ratio,
// or a NaN floor, is never beyond.
func BeyondLogFloor(ratio, floor float64) bool {
	if !Finite(ratio) || ratio <= 0 || !Finite(floor) {
		return false
	}
	return math.Abs(math.Log(ratio)) > floor
}

// FloorPercent expresses a log-scale floor as the ± percentages it allows
// around a ratio of 1: (e^floor − 1) above and (1 − e^−floor) below.
func FloorPercent(floor float64) (up, down float64) {
	if !Finite(floor) {
		return math.NaN(), math.NaN()
	}
	return 100 * (math.Exp(floor) - 1), 100 * (1 - math.Exp(-floor))
}

// RequiredN returns how many independent values with standard deviation sd
// a mean needs for its 95% interval to be ±halfWidth (normal approximation:
// (1.96·sd/halfWidth)², rounded up); NaN if it cannot be said.
func RequiredN(sd, halfWidth float64) float64 {
	if !Finite(sd) || !Finite(halfWidth) || halfWidth <= 0 {
		return math.NaN()
	}
	return math.Ceil(math.Pow(1.959964*sd/halfWidth, 2))
}

// Num is a float64 that encodes NaN and ±Inf as JSON null and decodes null
// as NaN, for figures that may not exist.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	if !Finite(float64(n)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Num) UnmarshalJSON(data []byte) error {
	var p *float64
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*n = Num(orNaN(p))
	return nil
}

// TwoLevelMean returns the mean of every finite value in groups (the shots
// of several runs, say) with a 95% interval that allows for a random group
// effect: the mean's variance is τ²/R + s²/N, where N is the number of
// values, R the number of groups holding any, s² the pooled within-group
// variance, and τ² = max(0, var(group means) − mean of s²/n_g) the
// between-group variance by the method of moments. With no between-group
// variance this is the plain interval of N independent values; with some,
// it is wider, as it must be when runs differ by more than their shots
// explain. The interval is normal (±1.96 σ); the variance is returned too,
// for differences. Fewer than two values give no interval.
func TwoLevelMean(groups [][]float64) (Estimate, float64) {
	var all, means, ns []float64
	var ss float64 // within-group sum of squares
	df := 0
	for _, g := range groups {
		vals := Clean(g)
		if len(vals) == 0 {
			continue
		}
		m := Mean(vals)
		for _, v := range vals {
			ss += (v - m) * (v - m)
		}
		df += len(vals) - 1
		all = append(all, vals...)
		means = append(means, m)
		ns = append(ns, float64(len(vals)))
	}
	n := len(all)
	if n < 2 || df == 0 {
		if n == 0 {
			return NoEstimate(), math.NaN()
		}
		return Estimate{Mean(all), math.NaN(), math.NaN()}, math.NaN()
	}
	s2 := ss / float64(df)
	v := s2 / float64(n)
	if r := len(means); r >= 2 {
		noise := 0.0
		for _, k := range ns {
			noise += s2 / k
		}
		tau2 := math.Max(0, math.Pow(StdDev(means), 2)-noise/float64(r))
		v += tau2 / float64(r)
	}
	m := Mean(all)
	h := 1.959964 * math.Sqrt(v)
	return Estimate{m, m - h, m + h}, v
}

// DiffTwoLevel returns mean(a) − mean(b) of two TwoLevelMean estimates with
// a normal 95% interval (independent samples: the variances add), and its
// two-sided p-value.
func DiffTwoLevel(a, b [][]float64) (Estimate, float64) {
	ea, va := TwoLevelMean(a)
	eb, vb := TwoLevelMean(b)
	if !Finite(va) || !Finite(vb) {
		return NoEstimate(), math.NaN()
	}
	d := ea.Value - eb.Value
	sd := math.Sqrt(va + vb)
	if sd == 0 {
		return Estimate{d, d, d}, math.NaN()
	}
	p := 2 * (1 - distuv.UnitNormal.CDF(math.Abs(d)/sd))
	return Estimate{d, d - 1.959964*sd, d + 1.959964*sd}, p
}

// Format renders the estimate scaled by scale with prec decimals as
// "v [lo, hi]" (suffix appended to each number), "v" when there is no
// interval, and "n/a" when there is no estimate. A value that rounds to
// zero prints as 0, never -0.
func (e Estimate) Format(scale float64, prec int, suffix string) string {
	f := func(v float64) string {
		s := strconv.FormatFloat(v*scale, 'f', prec, 64)
		if strings.Trim(s, "-0.") == "" {
			s = strings.TrimPrefix(s, "-")
		}
		return s + suffix
	}
	switch {
	case !Finite(e.Value):
		return "n/a"
	case !e.Valid():
		return f(e.Value)
	}
	return f(e.Value) + " [" + f(e.Lo) + ", " + f(e.Hi) + "]"
}
