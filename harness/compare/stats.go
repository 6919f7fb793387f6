package compare

import (
	"encoding/json"
	"math"

	"github.com/reloadlab/reloadlab/harness/stats"
)

// Alpha is the family-wise significance level: each metric's comparisons
// against the baseline are one family, adjusted with Holm's method.
const Alpha = 0.05

// Stat is one strategy's figures for one metric.
type Stat struct {
	Values     []float64 `json:"values"`      // one per repeat
	Median     float64   `json:"median"`      // stats.Quantile's median
	Lo         float64   `json:"ci_lo"`       // confidence interval of the median
	Hi         float64   `json:"ci_hi"`       //
	Confidence float64   `json:"confidence"`  // of [Lo, Hi]
	Ratio      float64   `json:"ratio"`       // median ÷ baseline median (NaN if the baseline median is 0)
	Diff       float64   `json:"diff"`        // median − baseline median
	P          float64   `json:"p"`           // Mann-Whitney U vs the baseline
	PHolm      float64   `json:"p_holm"`      // P adjusted across the metric's family (Holm)
	Verdict    string    `json:"verdict"`     // "baseline", "better", "worse", "no difference"
	WhyNoDiff  string    `json:"why_no_diff"` // "p ≥ 0.05 (Holm)" or "within the A/A noise floor"
}

// summarize returns the median and its confidence interval (stats.MedianCI:
// 95% where one exists, otherwise [min, max] with its own coverage).
func summarize(values []float64) Stat {
	e, cov := stats.MedianCI(values)
	return Stat{Values: values, Median: e.Value, Lo: e.Lo, Hi: e.Hi, Confidence: cov}
}

// MinMaxCoverage is the confidence with which [min, max] of n independent
// values covers their median (stats.MinMaxCoverage).
func MinMaxCoverage(n int) float64 { return stats.MinMaxCoverage(n) }

// NoiseFloor is what the A/A pair says about one metric.
type NoiseFloor struct {
	// Log is the largest |ln(A/A′)| over rounds (stats.LogRatioFloor):
	// a strategy's ratio to the baseline counts only beyond it, on either
	// side.
	Log stats.Num `json:"log"`
	// Relative is e^Log − 1, the floor as a percentage above a ratio of 1
	// (the floor below 1 is 1 − e^−Log).
	Relative stats.Num    `json:"relative"`
	Absolute float64      `json:"absolute"` // largest |A−A′|, for a baseline median of 0
	Pairs    [][2]float64 `json:"pairs"`
}

func noiseFloor(a, aa []float64) NoiseFloor {
	nf := NoiseFloor{}
	for i := range a {
		if i >= len(aa) || !finite(a[i]) || !finite(aa[i]) {
			continue
		}
		nf.Pairs = append(nf.Pairs, [2]float64{a[i], aa[i]})
		nf.Absolute = math.Max(nf.Absolute, math.Abs(a[i]-aa[i]))
	}
	log, n := stats.LogRatioFloor(nf.Pairs)
	if n == 0 {
		log = 0
		if nf.Absolute > 0 {
			log = math.Inf(1) // values of opposite sign or zero: only absolute differences tell
		}
	}
	nf.Log = stats.Num(log)
	nf.Relative = stats.Num(math.Exp(log) - 1)
	return nf
}

// compareTo fills the comparison fields of st against the baseline, but
// not the verdict (that needs the family's Holm adjustment).
func compareTo(st *Stat, base Stat) {
	st.Diff = st.Median - base.Median
	st.Ratio = math.NaN()
	if base.Median != 0 {
		st.Ratio = st.Median / base.Median
	}
	st.P = stats.MannWhitney(st.Values, base.Values)
}

// judge sets st's verdict from its Holm-adjusted p and the noise floor: a
// difference is real when PHolm < Alpha and the ratio lies beyond the A/A
// floor on the log scale (for a baseline median of 0, the absolute
// difference beyond the largest A/A difference).
func judge(st *Stat, nf NoiseFloor, better string) {
	var beyond bool
	if finite(float64(nf.Log)) && finite(st.Ratio) && st.Ratio > 0 {
		beyond = stats.BeyondLogFloor(st.Ratio, float64(nf.Log))
	} else {
		beyond = math.Abs(st.Diff) > nf.Absolute
	}
	switch {
	case !finite(st.PHolm) || st.PHolm >= Alpha:
		st.Verdict, st.WhyNoDiff = "no difference", "p ≥ 0.05 (Holm)"
	case !beyond:
		st.Verdict, st.WhyNoDiff = "no difference", "within the A/A noise floor"
	case (st.Diff > 0) == (better == "higher"):
		st.Verdict, st.WhyNoDiff = "better", ""
	default:
		st.Verdict, st.WhyNoDiff = "worse", ""
	}
}

// judgeFamily compares every strategy with the baseline, adjusts the
// family's p-values with Holm's method and sets the verdicts.
func judgeFamily(sts map[string]*Stat, names []string, baseline string, nf NoiseFloor, better string) {
	base := sts[baseline]
	var others []string
	var ps []float64
	for _, n := range names {
		st := sts[n]
		if n == baseline {
			st.Verdict, st.Ratio, st.Diff, st.P, st.PHolm = "baseline", 1, 0, 1, 1
			continue
		}
		compareTo(st, *base)
		others = append(others, n)
		ps = append(ps, st.P)
	}
	adj := stats.Holm(ps)
	for i, n := range others {
		sts[n].PHolm = adj[i]
		judge(sts[n], nf, better)
	}
}

// num is a float64 that encodes NaN and ±Inf as JSON null.
type num = stats.Num

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
		PHolm      num    `json:"p_holm"`
		Verdict    string `json:"verdict"`
		WhyNoDiff  string `json:"why_no_diff,omitempty"`
	}{vals, num(s.Median), num(s.Lo), num(s.Hi), num(s.Confidence), num(s.Ratio), num(s.Diff), num(s.P), num(s.PHolm), s.Verdict, s.WhyNoDiff})
}

// UnmarshalJSON decodes null fields as NaN.
func (s *Stat) UnmarshalJSON(data []byte) error {
	var j struct {
		Values     []num  `json:"values"`
		Median     num    `json:"median"`
		Lo         num    `json:"ci_lo"`
		Hi         num    `json:"ci_hi"`
		Confidence num    `json:"confidence"`
		Ratio      num    `json:"ratio"`
		Diff       num    `json:"diff"`
		P          num    `json:"p"`
		PHolm      *num   `json:"p_holm"`
		Verdict    string `json:"verdict"`
		WhyNoDiff  string `json:"why_no_diff"`
	}
	j.Median, j.Lo, j.Hi, j.Confidence, j.Ratio, j.Diff, j.P = num(math.NaN()), num(math.NaN()), num(math.NaN()), num(math.NaN()), num(math.NaN()), num(math.NaN()), num(math.NaN())
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	s.Values = make([]float64, len(j.Values))
	for i, v := range j.Values {
		s.Values[i] = float64(v)
	}
	s.Median, s.Lo, s.Hi, s.Confidence = float64(j.Median), float64(j.Lo), float64(j.Hi), float64(j.Confidence)
	s.Ratio, s.Diff, s.P = float64(j.Ratio), float64(j.Diff), float64(j.P)
	s.PHolm = math.NaN()
	if j.PHolm != nil {
		s.PHolm = float64(*j.PHolm)
	}
	s.Verdict, s.WhyNoDiff = j.Verdict, j.WhyNoDiff
	return nil
}
