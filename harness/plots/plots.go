package plots

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"
)

// Geometry of every figure. Single-panel figures are Width × Height at DPI
// dots per inch, that is 1000 × 600 pixels; SmallMultiples keeps the width
// and grows with its rows.
const (
	DPI    = 100
	Width  = 10 * vg.Inch
	Height = 6 * vg.Inch
)

// Bounds on what one figure draws. Larger inputs are thinned
// deterministically (see minMax and sample), which keeps a figure small
// (tens of kilobytes) and quick to render whatever the input size.
const (
	maxLinePoints    = 4000 // per line series
	maxScatterPoints = 6000 // per scatter series
	maxGroupDots     = 1500 // per Distribution column
)

// XY is one point: X in seconds since the run's origin unless the figure
// says otherwise, Y in the figure's unit.
type XY struct{ X, Y float64 }

// Phase is a named span of a timeline, in seconds; it is drawn as a shaded
// band labelled with its name.
type Phase struct {
	Name       string
	Start, End float64
}

// Timeline is what every time-axis figure shares: its title, the reload
// instants (drawn as thin light-red vertical lines) and the phases (shaded
// bands).
type Timeline struct {
	Title   string
	Reloads []float64 // reload instants, seconds
	Phases  []Phase
	// XLabel replaces the default time-axis label, "time since run start (s)".
	XLabel string
}

// Series is a named set of points: one line of Blocked, Lines or Stacked
// (dots instead of a line in Stacked when Dots is set).
type Series struct {
	Name   string
	Points []XY
	Dots   bool
}

// Bar is one bar of Bars: Value with a confidence interval Lo..Hi (NaN
// bounds draw no whisker; a NaN Value draws "no data").
type Bar struct {
	Label         string
	Value, Lo, Hi float64
}

// Row is one strategy's row of SmallMultiples: its throughput (req/s per
// bin) and its lock waits (ms of waiting per second, per bin) over time,
// and its reload instants, all in seconds on the time axis the rows share.
type Row struct {
	Name                 string
	Throughput, LockWait []XY
	Reloads              []float64
}

// Group is one column of Distribution: a name and its values.
type Group struct {
	Name   string
	Values []float64
}

// Option adjusts a figure that takes options (Bars, Distribution).
type Option func(*options)

type options struct {
	xLabel        string
	intervalLabel string
}

// IntervalLabel names what Bars' whiskers show in the legend ("95%
// confidence interval" by default); use it when the interval has another
// coverage, such as [min, max] of a few rounds.
func IntervalLabel(label string) Option {
	return func(o *options) { o.intervalLabel = label }
}

// XLabel sets the label of a categorical x axis (Bars: "strategy" by
// default; Distribution: "group" by default).
func XLabel(label string) Option {
	return func(o *options) { o.xLabel = label }
}

func applyOptions(def string, opts []Option) options {
	o := options{xLabel: def, intervalLabel: "95% confidence interval"}
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// drops counts the points a figure could not draw, for the note under its
// title.
type drops struct {
	nonFinite   int // NaN or ±Inf in X or Y
	nonPositive int // Y ≤ 0 on a log y axis
	nonPosX     int // X ≤ 0 on a log x axis
	other       []string
}

// notes returns one line saying what was dropped, or nothing.
func (d *drops) notes() []string {
	var parts []string
	if d.nonFinite > 0 {
		parts = append(parts, fmt.Sprintf("%d NaN/Inf value%s dropped", d.nonFinite, plural(d.nonFinite)))
	}
	if d.nonPositive > 0 {
		parts = append(parts, fmt.Sprintf("%d value%s ≤ 0 dropped (log y axis)", d.nonPositive, plural(d.nonPositive)))
	}
	if d.nonPosX > 0 {
		parts = append(parts, fmt.Sprintf("%d point%s with x ≤ 0 dropped (log x axis)", d.nonPosX, plural(d.nonPosX)))
	}
	parts = append(parts, d.other...)
	if len(parts) == 0 {
		return nil
	}
	return []string{"note: " + strings.Join(parts, "; ")}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// clean returns the finite points of pts sorted by X (a stable sort, so
// equal X keep their order), counting what it drops in d. It never
// modifies pts.
func clean(pts []XY, d *drops) []XY {
	out := make([]XY, 0, len(pts))
	for _, p := range pts {
		if !finite(p.X) || !finite(p.Y) {
			d.nonFinite++
			continue
		}
		out = append(out, p)
	}
	if !slices.IsSortedFunc(out, cmpX) {
		slices.SortStableFunc(out, cmpX)
	}
	return out
}

func cmpX(a, b XY) int {
	switch {
	case a.X < b.X:
		return -1
	case a.X > b.X:
		return 1
	}
	return 0
}

// positiveY keeps the points with Y > 0 (for a log y axis), counting the
// others in d.
func positiveY(pts []XY, d *drops) []XY {
	out := pts[:0:0]
	for _, p := range pts {
		if p.Y > 0 {
			out = append(out, p)
		} else {
			d.nonPositive++
		}
	}
	return out
}

// minMax thins a line to at most limit points: the points are cut into
// limit/2 runs of consecutive points, and each run keeps its lowest and its
// highest point, in their order. Unlike keeping every k-th point, spikes
// and dips (a throughput drop at a reload) survive.
func minMax(pts []XY, limit int) []XY {
	if len(pts) <= limit || limit < 2 {
		return pts
	}
	runs := limit / 2
	out := make([]XY, 0, limit)
	for r := range runs {
		lo, hi := r*len(pts)/runs, (r+1)*len(pts)/runs
		if lo >= hi {
			continue
		}
		imin, imax := lo, lo
		for i := lo + 1; i < hi; i++ {
			if pts[i].Y < pts[imin].Y {
				imin = i
			}
			if pts[i].Y > pts[imax].Y {
				imax = i
			}
		}
		switch {
		case imin == imax:
			out = append(out, pts[imin])
		case imin < imax:
			out = append(out, pts[imin], pts[imax])
		default:
			out = append(out, pts[imax], pts[imin])
		}
	}
	return out
}

// sample thins a scatter to at most about limit points: the points are cut
// into runs of k consecutive points and each run keeps its first point and
// its highest one. The highest points are what a latency scatter is read
// for, so they are never thinned away; k is returned (1 when nothing was
// thinned).
func sample(pts []XY, limit int) ([]XY, int) {
	if len(pts) <= limit || limit < 2 {
		return pts, 1
	}
	k := (2*len(pts) + limit - 1) / limit
	out := make([]XY, 0, 2*(len(pts)/k+1))
	for start := 0; start < len(pts); start += k {
		end := min(start+k, len(pts))
		imax := start
		for i := start + 1; i < end; i++ {
			if pts[i].Y > pts[imax].Y {
				imax = i
			}
		}
		out = append(out, pts[start])
		if imax != start {
			out = append(out, pts[imax])
		}
	}
	return out, k
}

// segments splits pts (sorted by X) where consecutive X are more than three
// median steps apart, so that a line does not bridge a hole in the data
// (the pause between two phases).
func segments(pts []XY) [][]XY {
	if len(pts) < 3 {
		if len(pts) == 0 {
			return nil
		}
		return [][]XY{pts}
	}
	steps := make([]float64, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		steps = append(steps, pts[i].X-pts[i-1].X)
	}
	sorted := slices.Clone(steps)
	slices.Sort(sorted)
	gap := 3 * sorted[len(sorted)/2]
	var out [][]XY
	start := 0
	for i, st := range steps {
		if gap > 0 && st > gap {
			out = append(out, pts[start:i+1])
			start = i + 1
		}
	}
	return append(out, pts[start:])
}

// span is a range of values seen so far.
type span struct {
	lo, hi float64
	ok     bool
}

func (s *span) add(v float64) {
	if !finite(v) {
		return
	}
	if !s.ok {
		s.lo, s.hi, s.ok = v, v, true
		return
	}
	s.lo, s.hi = math.Min(s.lo, v), math.Max(s.hi, v)
}

func (s *span) addX(pts []XY) {
	for _, p := range pts {
		s.add(p.X)
	}
}

func (s *span) addY(pts []XY) {
	for _, p := range pts {
		s.add(p.Y)
	}
}

// positiveSpan returns the range of the positive values among vs.
func positiveSpan(vs []float64) span {
	var s span
	for _, v := range vs {
		if v > 0 {
			s.add(v)
		}
	}
	return s
}

// wide reports whether a positive range spans more than two decades.
func (s span) wide() bool { return s.ok && s.lo > 0 && s.hi/s.lo > 100 }

func ys(pts []XY) []float64 {
	out := make([]float64, len(pts))
	for i, p := range pts {
		out[i] = p.Y
	}
	return out
}
