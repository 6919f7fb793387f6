package compare

import (
	"encoding/json"
	"math"
	"slices"

	"golang.org/x/perf/benchmath"
)

// Alpha is the significance level of the Mann-Whitney U test.
const Alpha = 0.05

// Stat is one strategy's figures for one metric.
type Stat struct {
	Values     []float64 `json:"values"`      // one per repeat
	Median     float64   `json:"median"`      // benchmath center
	Lo         float64   `json:"ci_lo"`       // confidence interval of the median
	Hi         float64   `json:"ci_hi"`       //
	Confidence float64   `json:"confidence"`  // of [Lo, Hi]
	Ratio      float64   `json:"ratio"`       // median ÷ baseline median (NaN if the baseline median is 0)
	Diff       float64   `json:"diff"`        // median − baseline median
	P          float64   `json:"p"`           // Mann-Whitney U vs the baseline
	Verdict    string    `json:"verdict"`     // "baseline", "better", "worse", "no difference"
	WhyNoDiff  string    `json:"why_no_diff"` // "p ≥ 0.05" or "within the A/A noise floor"
}

// summarize returns the median and its confidence interval: benchmath's
// 95% interval, or, with too few values for one, [min, max] with its own
// confidence 1 − 2^(1−n).
func summarize(values []float64) Stat {
	vals := clean(values)
	st := Stat{Values: values, Median: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	if len(vals) == 0 {
		return st
	}
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(vals, &benchmath.DefaultThresholds), 0.95)
	st.Median, st.Lo, st.Hi, st.Confidence = s.Center, s.Lo, s.Hi, s.Confidence
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) {
		st.Lo, st.Hi = vals[0], vals[len(vals)-1] // NewSample sorted vals
		st.Confidence = MinMaxCoverage(len(vals))
	}
	return st
}

// MinMaxCoverage is the confidence with which [min, max] of n independent
// values covers their median, 1 − 2^(1−n): 93.75% for 5 values. It is the
// interval shown when n is too small for a 95% one (fewer than 6).
func MinMaxCoverage(n int) float64 { return 1 - math.Pow(2, float64(1-n)) }

func clean(values []float64) []float64 {
	out := make([]float64, 0, len(values))
	for _, v := range values {
		if finite(v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// mannWhitney returns the two-sided Mann-Whitney U p-value of a vs b.
func mannWhitney(a, b []float64) float64 {
	ca, cb := clean(a), clean(b)
	if len(ca) == 0 || len(cb) == 0 {
		return math.NaN()
	}
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(ca, &benchmath.DefaultThresholds), benchmath.NewSample(cb, &benchmath.DefaultThresholds))
	return c.P
}

// NoiseFloor is what the A/A pair says about one metric.
type NoiseFloor struct {
	Relative float64      `json:"relative"` // largest |A−A'| ÷ mean(A, A') over rounds
	Absolute float64      `json:"absolute"` // largest |A−A'|
	Pairs    [][2]float64 `json:"pairs"`
}

func noiseFloor(a, aa []float64) NoiseFloor {
	nf := NoiseFloor{}
	for i := range a {
		if i >= len(aa) || !finite(a[i]) || !finite(aa[i]) {
			continue
		}
		nf.Pairs = append(nf.Pairs, [2]float64{a[i], aa[i]})
		d := math.Abs(a[i] - aa[i])
		nf.Absolute = math.Max(nf.Absolute, d)
		if m := (math.Abs(a[i]) + math.Abs(aa[i])) / 2; m > 0 {
			nf.Relative = math.Max(nf.Relative, d/m)
		}
	}
	return nf
}

// judge fills the comparison fields of st against the baseline.
func judge(st *Stat, base Stat, nf NoiseFloor, better string) {
	st.Diff = st.Median - base.Median
	st.Ratio = math.NaN()
	if base.Median != 0 {
		st.Ratio = st.Median / base.Median
	}
	st.P = mannWhitney(st.Values, base.Values)
	within := false
	if finite(st.Ratio) {
		within = math.Abs(st.Ratio-1) <= nf.Relative
	} else {
		within = math.Abs(st.Diff) <= nf.Absolute
	}
	switch {
	case !finite(st.P) || st.P >= Alpha:
		st.Verdict, st.WhyNoDiff = "no difference", "p ≥ 0.05"
	case within:
		st.Verdict, st.WhyNoDiff = "no difference", "within the A/A noise floor"
	case (st.Diff > 0) == (better == "higher"):
		st.Verdict = "better"
	default:
		st.Verdict = "worse"
	}
}

// num is a float64 that encodes NaN and ±Inf as JSON null.
type num float64

// MarshalJSON implements json.Marshaler.
func (n num) MarshalJSON() ([]byte, error) {
	if !finite(float64(n)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// MarshalJSON encodes NaN fields as null.
func (s Stat) MarshalJSON() ([]byte, error) {
	vals := make([]num, len(s.Values))
	for i, v := range s.Values {
		vals[i] = num(v)
	}
	return json.Marshal(struct {
		Values     []num  `json:"values"`
		Median     num    `json:"median"`
		Lo         num    `json:"ci_lo"`
		Hi         num    `json:"ci_hi"`
		Confidence num    `json:"confidence"`
		Ratio      num    `json:"ratio"`
		Diff       num    `json:"diff"`
		P          num    `json:"p"`
		Verdict    string `json:"verdict"`
		WhyNoDiff  string `json:"why_no_diff,omitempty"`
	}{vals, num(s.Median), num(s.Lo), num(s.Hi), num(s.Confidence), num(s.Ratio), num(s.Diff), num(s.P), s.Verdict, s.WhyNoDiff})
}

// UnmarshalJSON decodes null fields as NaN.
func (s *Stat) UnmarshalJSON(data []byte) error {
	var j struct {
		Values     []*float64 `json:"values"`
		Median     *float64   `json:"median"`
		Lo         *float64   `json:"ci_lo"`
		Hi         *float64   `json:"ci_hi"`
		Confidence *float64   `json:"confidence"`
		Ratio      *float64   `json:"ratio"`
		Diff       *float64   `json:"diff"`
		P          *float64   `json:"p"`
		Verdict    string     `json:"verdict"`
		WhyNoDiff  string     `json:"why_no_diff"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	f := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	s.Values = make([]float64, len(j.Values))
	for i, v := range j.Values {
		s.Values[i] = f(v)
	}
	s.Median, s.Lo, s.Hi, s.Confidence = f(j.Median), f(j.Lo), f(j.Hi), f(j.Confidence)
	s.Ratio, s.Diff, s.P = f(j.Ratio), f(j.Diff), f(j.P)
	s.Verdict, s.WhyNoDiff = j.Verdict, j.WhyNoDiff
	return nil
}
