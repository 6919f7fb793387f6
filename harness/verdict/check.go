package verdict

import (
	"fmt"
	"math"

	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/detect"
)

// Outcomes of a check.
const (
	Reproduced    = "reproduced"
	NotReproduced = "not reproduced"
	Flipped       = "FLIPPED"
	Vanished      = "VANISHED"
	WithinNoise   = "not checked (within noise)"
	NotMeasured   = "not checked (not in the re-run)"
)

// Result is one verdict checked against a re-run.
type Result struct {
	Verdict Verdict
	Outcome string
	Detail  string
}

// Check checks every verdict against a re-run's compare and detect results
// (either may be nil).
func Check(vs []Verdict, run *compare.Run, m *detect.Matrix) []Result {
	out := make([]Result, 0, len(vs))
	for _, v := range vs {
		var r Result
		switch v.Kind {
		case KindCompare:
			r = checkCompare(v, run)
		case KindDetectZero, KindDetectMiss, KindDetectStale:
			r = checkDetect(v, m)
		default:
			r = Result{Verdict: v, Outcome: NotMeasured, Detail: "unknown kind " + v.Kind}
		}
		if !v.Clear && r.Outcome != NotMeasured {
			r.Detail = r.Outcome + "; " + r.Detail
			r.Outcome = WithinNoise
		}
		out = append(out, r)
	}
	return out
}

func checkCompare(v Verdict, run *compare.Run) Result {
	r := Result{Verdict: v, Outcome: NotMeasured}
	if run == nil || len(run.Points) == 0 {
		r.Detail = "no compare re-run"
		return r
	}
	mr := run.Points[0].Metrics[v.Metric]
	if mr == nil || mr.Strategies[v.Strategy] == nil {
		r.Detail = "metric or strategy not in the re-run"
		return r
	}
	st := mr.Strategies[v.Strategy]
	base := mr.Strategies[run.Baseline]
	better := ""
	for _, mi := range run.Metrics {
		if mi.Name == v.Metric {
			better = mi.Better
		}
	}
	if r, ok := checkExactCount(v, run.Baseline, st, base); ok {
		return r
	}
	diff := st.Median - base.Median
	if math.IsNaN(diff) {
		r.Detail = "no values in the re-run"
		return r
	}
	dir := "no difference"
	switch {
	case diff == 0:
	case (diff > 0) == (better == "higher"):
		dir = "better"
	default:
		dir = "worse"
	}
	r.Detail = fmt.Sprintf("re-run: %s vs %s medians %.3g vs %.3g (%s, p=%.3f, verdict %q)", v.Strategy, run.Baseline, st.Median, base.Median, dir, st.P, st.Verdict)
	gone := vanished(v, st, base)
	// A verdict flips only when the re-run finds a real difference (its own
	// verdict, p < 0.05 beyond its A/A floor) the other way. Medians that
	// merely swap order inside the re-run's noise do not reproduce the
	// verdict, and do not refute it either.
	switch {
	case dir == v.Direction && st.Verdict == v.Direction:
		r.Outcome = Reproduced
	case dir != v.Direction && dir != "no difference" && st.Verdict == dir:
		r.Outcome = Flipped
	case gone:
		r.Outcome = Vanished
		r.Detail += "; the effect is within one A/A floor of none"
	default:
		r.Outcome = NotReproduced
	}
	return r
}

func checkDetect(v Verdict, m *detect.Matrix) Result {
	r := Result{Verdict: v, Outcome: NotMeasured}
	if m == nil {
		r.Detail = "no detect re-run"
		return r
	}
	switch v.Kind {
	case KindDetectMiss:
		c := m.Cell(v.FS, v.Pattern, v.Column)
		if c == nil || c.Trials == 0 {
			r.Detail = "cell not in the reduced matrix"
			return r
		}
		r.Detail = fmt.Sprintf("re-run: %d/%d missed in silence", c.Silent(), c.Trials)
		switch {
		case c.Silent() == c.Trials:
			r.Outcome = Reproduced
		case c.Missed == 0:
			r.Outcome = Flipped
		default:
			r.Outcome = NotReproduced
		}
	case KindDetectStale:
		c := m.Cell(v.FS, v.Pattern, v.Column)
		if c == nil || c.Trials == 0 {
			r.Detail = "cell not in the re-run"
			return r
		}
		r.Detail = fmt.Sprintf("re-run: stale reported in %d/%d", c.StaleReported, c.Trials)
		switch {
		case c.StaleReported == c.Trials:
			r.Outcome = Reproduced
		case c.StaleReported == 0:
			r.Outcome = Flipped
		default:
			r.Outcome = NotReproduced
		}
	case KindDetectZero:
		cells, bad := 0, 0
		for _, c := range m.Cells {
			if c.Column != v.Column || c.Trials == 0 {
				continue
			}
			cells++
			n := c.Torn
			if v.What == "missed" {
				if !c.Changes {
					continue
				}
				n = c.Silent()
			}
			bad += n
		}
		if cells == 0 {
			r.Detail = "column not in the reduced matrix"
			return r
		}
		r.Detail = fmt.Sprintf("re-run: %d %s over %d cells", bad, v.What, cells)
		if bad == 0 {
			r.Outcome = Reproduced
		} else {
			r.Outcome = Flipped
		}
	}
	return r
}

// isExactCount reports whether a compare metric counts events its oracle
// observes without false positives. Torn requests are one: the target counts
// a request as torn only when it read two versions, which never happens by
// chance, so a single torn request proves that a store tears.
func isExactCount(metric string) bool { return metric == "torn" }

// checkExactCount checks a "worse than a baseline of zero" verdict on an
// exact count by existence rather than by a rank test, which a short re-run
// with a few events per run cannot power: the verdict is reproduced when the
// baseline stays at zero in every re-run and the strategy counts at least one
// event. It reports false (and the caller's rank test applies) for any other
// verdict or when the baseline itself counted events.
func checkExactCount(v Verdict, baseline string, st, base *compare.Stat) (Result, bool) {
	if !isExactCount(v.Metric) || v.Direction != "worse" || v.Ratio != 0 {
		return Result{}, false
	}
	var sum, baseSum float64
	for _, x := range st.Values {
		if !math.IsNaN(x) {
			sum += x
		}
	}
	for _, x := range base.Values {
		if !math.IsNaN(x) {
			baseSum += x
		}
	}
	if baseSum != 0 {
		return Result{}, false
	}
	r := Result{Verdict: v, Detail: fmt.Sprintf("re-run: %s counted %.0f over %d runs, %s 0 over %d (an exact count: one event proves it)", v.Strategy, sum, len(st.Values), baseline, len(base.Values))}
	if sum > 0 {
		r.Outcome = Reproduced
	} else {
		r.Outcome = NotReproduced
	}
	return r, true
}

// vanished reports whether a clear compare verdict's effect is gone from a
// re-run: the whole 95% interval of the strategy's median in the re-run,
// set against the baseline's median, lies within one A/A noise floor of
// the original comparison (in log ratio when the verdict was judged on
// ratios, else in the metric's unit), or on the other side of none. A
// verdict is clear only when its effect exceeds two floors, so a re-run
// whose interval excludes even one floor has not merely wobbled: the
// effect is not there. A re-run too short to see the effect (an interval
// that still reaches it) does not count as vanished, only as not
// reproduced.
func vanished(v Verdict, st, base *compare.Stat) bool {
	if !v.Clear || st == nil || base == nil {
		return false
	}
	var lo, hi, floor float64
	switch {
	case v.NoiseLog > 0 && st.Lo > 0 && st.Hi > 0 && base.Median > 0:
		lo, hi, floor = math.Log(st.Lo/base.Median), math.Log(st.Hi/base.Median), v.NoiseLog
	case v.NoiseAbs > 0:
		lo, hi, floor = st.Lo-base.Median, st.Hi-base.Median, v.NoiseAbs
	default:
		return false // no floor recorded (an older verdicts.json)
	}
	if v.Sign == 0 || math.IsNaN(lo) || math.IsNaN(hi) {
		return false
	}
	// The interval's reach in the verdict's direction: how large an effect
	// the re-run still allows.
	reach := hi
	if v.Sign < 0 {
		reach = -lo
	}
	return reach < floor
}
