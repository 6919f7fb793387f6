package plots

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// setLinear gives axis a a linear scale over s (or 0..1 when s is empty),
// starting at zero when fromZero and the values are not negative, with
// headroom (a fraction of the range) added above.
func setLinear(a *plot.Axis, s span, fromZero bool, headroom float64) {
	lo, hi := 0.0, 1.0
	if s.ok {
		lo, hi = s.lo, s.hi
	}
	if fromZero && lo >= 0 {
		lo = 0
	}
	if fromZero && hi <= 0 && lo < 0 {
		hi = 0
	}
	if hi == lo {
		if d := math.Abs(hi) / 2; d > 0 {
			lo, hi = lo-d, hi+d
		} else {
			lo, hi = lo-0.5, hi+0.5
		}
		if fromZero && s.ok && s.lo >= 0 {
			lo = 0
		}
	}
	hi += (hi - lo) * headroom
	a.Scale = plot.LinearScale{}
	a.Tick.Marker = linearTicks{}
	a.Min, a.Max = lo, hi
}

// setLog gives axis a a log scale from the decade at or below s.lo to the
// decade at or above s.hi (1..10 when s is empty). s must hold positive
// values only.
func setLog(a *plot.Axis, s span) {
	lo, hi := 1.0, 10.0
	if s.ok && s.lo > 0 {
		lo = math.Pow10(int(math.Floor(math.Log10(s.lo) + 1e-9)))
		hi = math.Pow10(int(math.Ceil(math.Log10(s.hi) - 1e-9)))
		if hi <= lo {
			lo, hi = lo/10, hi*10
		}
	}
	a.Scale = plot.LogScale{}
	a.Tick.Marker = logTicks{}
	a.Min, a.Max = lo, hi
}

// linearTicks puts about six labelled ticks on a linear axis at steps of
// 1, 2, 2.5 or 5 × 10^k, with unlabelled minor ticks between them.
type linearTicks struct{}

// Ticks implements plot.Ticker.
func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return nil
	}
	raw := (hi - lo) / 6
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	step, div := 10*mag, 5.0
	for _, m := range []struct{ mult, div float64 }{{1, 5}, {2, 4}, {2.5, 5}, {5, 5}} {
		if m.mult*mag >= raw*(1-1e-9) {
			step, div = m.mult*mag, m.div
			break
		}
	}
	minor := step / div
	decimals := 0 // as many as the step has: 0.25 → 2, 25 → 0
	if _, frac, ok := strings.Cut(strconv.FormatFloat(step, 'g', 6, 64), "."); ok && !strings.Contains(frac, "e") {
		decimals = len(frac)
	} else if step < 1 {
		decimals = -int(math.Floor(math.Log10(step) + 1e-9))
	}
	sci := math.Max(math.Abs(lo), math.Abs(hi)) >= 1e7
	var ticks []plot.Tick
	first := math.Ceil(lo/minor - 1e-9)
	for i := first; i*minor <= hi+minor*1e-9 && len(ticks) < 200; i++ {
		v := i * minor
		t := plot.Tick{Value: v}
		if q := v / step; math.Abs(q-math.Round(q)) < 1e-6 {
			v = math.Round(q) * step
			t.Value = v
			if sci {
				t.Label = formatSci(v)
			} else {
				t.Label = trimNegZero(strconv.FormatFloat(v, 'f', decimals, 64))
			}
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// logTicks labels every power of ten of a log axis and, on an axis that
// spans at most two decades, 2× and 5× too; the other integer multiples
// are minor ticks (left out on an axis spanning more than six decades).
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) || !finite(hi) {
		return nil
	}
	decades := math.Log10(hi / lo)
	kmin := int(math.Floor(math.Log10(lo) - 1e-9))
	kmax := int(math.Ceil(math.Log10(hi) + 1e-9))
	var ticks []plot.Tick
	for k := kmin; k <= kmax; k++ {
		base := math.Pow10(k)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (decades <= 2+1e-9 && (m == 2 || m == 5)) {
				t.Label = formatNum(v)
			} else if decades > 6 {
				continue
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// blankLabels keeps a ticker's ticks and drops their labels (the time axis
// of the upper rows of SmallMultiples). Every tick is then minor, so the
// labelled ones keep a zero-width space to stay major (long, and gridded).
type blankLabels struct{ plot.Ticker }

// Ticks implements plot.Ticker.
func (b blankLabels) Ticks(lo, hi float64) []plot.Tick {
	ticks := b.Ticker.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = " "
		}
	}
	return ticks
}

// formatNum formats a tick or annotation value without float noise:
// 0.001 … 999999 in plain notation, beyond in short scientific (1e7).
func formatNum(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e6 || a < 1e-3 {
		return formatSci(v)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func formatSci(v float64) string {
	if v == 0 {
		return "0"
	}
	s := strconv.FormatFloat(v, 'e', 3, 64)
	mant, exp, _ := strings.Cut(s, "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	exp = strings.TrimPrefix(exp, "+")
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(strings.TrimPrefix(exp, "-"), "0")
	if exp == "" {
		exp = "0"
	}
	if neg {
		exp = "-" + exp
	}
	return mant + "e" + exp
}

// formatSig formats v with about three significant digits and no trailing
// zeros (12345, 123, 12.3, 2, 0.0123) for value labels.
func formatSig(v float64) string {
	if v == 0 || !finite(v) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	a := math.Abs(v)
	if a >= 1e7 || a < 1e-4 {
		return formatSci(v)
	}
	decimals := max(0, 2-int(math.Floor(math.Log10(a)+1e-9)))
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return trimNegZero(s)
}

func trimNegZero(s string) string {
	if strings.HasPrefix(s, "-") && strings.Trim(s, "-0.") == "" {
		return s[1:]
	}
	return s
}
