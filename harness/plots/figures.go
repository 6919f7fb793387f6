package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

const timeAxis = "time since the throughput phase began (s)"

// Latency draws per-request latency over time on a log axis (ms): a light
// scatter of requests and the p50 and p99 of each bin as lines.
func Latency(path string, tl Timeline, requests, p50, p99 []XY) error {
	req, d1 := clean(requests, true)
	l50, d2 := clean(p50, true)
	l99, d3 := clean(p99, true)
	p := newPlot(title(tl.Title, d1+d2+d3, "non-positive points"), timeAxis, "latency (ms, log scale)")
	logY(p)
	sc := scatter(thin(req, maxPoints), color.NRGBA{R: 90, G: 90, B: 90, A: 70}, vg.Points(1))
	lp50, s50 := lines(thin(l50, maxPoints), colorAt(0), vg.Points(1.5))
	lp99, s99 := lines(thin(l99, maxPoints), colorAt(1), vg.Points(1.5))
	withTimeline(p, tl, append(append([]plot.Plotter{sc}, s50...), s99...)...)
	p.Legend.Add("request (sampled)", sc)
	p.Legend.Add("p50 per bin", lp50)
	p.Legend.Add("p99 per bin", lp99)
	noData(p, len(req)+len(l50)+len(l99))
	return save(p, path)
}

// Throughput draws completed requests per second per bin.
func Throughput(path string, tl Timeline, bins []XY) error {
	xys, d := clean(bins, false)
	p := newPlot(title(tl.Title, d, "NaN points"), timeAxis, "completed requests per second (req/s, 100 ms bins)")
	l, segs := lines(thin(xys, maxPoints), colorAt(0), vg.Points(1))
	withTimeline(p, tl, segs...)
	p.Legend.Add("completed req/s", l)
	p.Y.Min = 0
	noData(p, len(xys))
	return save(p, path)
}

// GCPauses draws each GC stop-the-world pause (µs); the y axis is
// logarithmic when the pauses span more than two decades.
func GCPauses(path string, tl Timeline, pauses []XY) error {
	xys, d := clean(pauses, true)
	p := newPlot(title(tl.Title, d, "non-positive pauses"), timeAxis, "pause (µs)")
	if spansDecades(xys) {
		logY(p)
		p.Y.Label.Text = "pause (µs, log scale)"
	} else {
		p.Y.Min = 0
	}
	sc := scatter(thin(xys, maxPoints), colorAt(3), vg.Points(2))
	withTimeline(p, tl, sc)
	p.Legend.Add(fmt.Sprintf("GC pause (%d)", len(xys)), sc)
	noData(p, len(xys))
	return save(p, path)
}

// Blocked draws waiting goroutines over time, one line per series.
func Blocked(path string, tl Timeline, series ...Series) error {
	p := newPlot(tl.Title, timeAxis, "goroutines")
	var lines []plot.Plotter
	n, dropped := 0, 0
	for i, s := range series {
		xys, d := clean(s.Points, false)
		dropped += d
		n += len(xys)
		lines = append(lines, line(thin(xys, maxPoints), colorAt(i), vg.Points(1)))
	}
	p.Title.Text = title(tl.Title, dropped, "NaN points")
	withTimeline(p, tl, lines...)
	for i, s := range series {
		p.Legend.Add(s.Name, lines[i].(*plotter.Line))
	}
	p.Y.Min = 0
	noData(p, n)
	return save(p, path)
}

// Bar is one bar with a confidence interval.
type Bar struct {
	Label         string
	Value, Lo, Hi float64
}

// Bars draws one bar per label with a whisker from Lo to Hi.
func Bars(path, titleText, unit string, bars []Bar) error {
	p := newPlot(titleText, "", unit)
	var vals plotter.Values
	var errs errPoints
	var names []string
	skipped := 0
	for i, b := range bars {
		if math.IsNaN(b.Value) || math.IsInf(b.Value, 0) {
			skipped++
			b.Value, b.Lo, b.Hi = 0, 0, 0
		}
		lo, hi := b.Lo, b.Hi
		if math.IsNaN(lo) || math.IsNaN(hi) {
			lo, hi = b.Value, b.Value
		}
		vals = append(vals, b.Value)
		errs.XYs = append(errs.XYs, plotter.XY{X: float64(i), Y: b.Value})
		errs.YErrors = append(errs.YErrors, struct{ Low, High float64 }{b.Value - lo, hi - b.Value})
		names = append(names, b.Label)
	}
	p.Title.Text = title(titleText, skipped, "bars without a value")
	if len(bars) == 0 {
		noData(p, 0)
		return save(p, path)
	}
	bc, err := plotter.NewBarChart(vals, vg.Points(30))
	if err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	bc.Color = colorAt(0)
	bc.LineStyle.Width = 0
	eb, err := plotter.NewYErrorBars(errs)
	if err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	eb.LineStyle.Width = vg.Points(1.2)
	p.Add(bc, eb)
	p.NominalX(names...)
	p.Legend.Add("median (whiskers: 95% CI)", bc)
	return save(p, path)
}

// errPoints feeds plotter.NewYErrorBars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// Row is one strategy's timelines for SmallMultiples.
type Row struct {
	Name                string
	Throughput, Blocked []XY
	Reloads             []float64
}

// SmallMultiples draws one row per strategy (throughput, blocked
// goroutines), every panel on the same time axis.
func SmallMultiples(path, titleText string, rows []Row) error {
	if len(rows) == 0 {
		p := newPlot(titleText, timeAxis, "")
		noData(p, 0)
		return save(p, path)
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	grid := make([][]*plot.Plot, len(rows))
	for i, r := range rows {
		tp, _ := clean(r.Throughput, false)
		bl, _ := clean(r.Blocked, false)
		for _, s := range []plotter.XYs{tp, bl} {
			for _, q := range s {
				xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
			}
		}
		tl := Timeline{Reloads: r.Reloads}
		a := newPlot(r.Name+": throughput", "", "req/s")
		withTimeline(a, tl, line(thin(tp, maxPoints/4), colorAt(0), vg.Points(0.8)))
		a.Y.Min = 0
		b := newPlot(r.Name+": waiting goroutines", "", "goroutines")
		withTimeline(b, tl, line(thin(bl, maxPoints/4), colorAt(1), vg.Points(0.8)))
		b.Y.Min = 0
		for _, q := range []*plot.Plot{a, b} {
			q.Legend = plot.NewLegend()
			q.Title.TextStyle.Font.Size = vg.Points(10)
		}
		if i == len(rows)-1 {
			a.X.Label.Text, b.X.Label.Text = timeAxis, timeAxis
		}
		grid[i] = []*plot.Plot{a, b}
	}
	if math.IsInf(xmin, 0) {
		xmin, xmax = 0, 1
	}
	for _, row := range grid {
		for _, q := range row {
			q.X.Min, q.X.Max = xmin, xmax
		}
	}
	h := max(vg.Length(len(rows))*2.2*vg.Inch, Height)
	img := vgimg.New(12*vg.Inch, h+0.5*vg.Inch)
	dc := draw.New(img)
	header := draw.Crop(dc, 0, 0, h, 0)
	sty := draw.TextStyle{Color: color.Black, Font: plot.DefaultFont, Handler: plot.DefaultTextHandler, XAlign: draw.XCenter}
	sty.Font.Size = vg.Points(13)
	header.FillText(sty, vg.Point{X: dc.Center().X, Y: header.Min.Y + vg.Points(10)}, titleText)
	body := draw.Crop(dc, 0, 0, 0, -0.5*vg.Inch)
	t := draw.Tiles{Rows: len(rows), Cols: 2, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := plot.Align(grid, t, body)
	for i := range grid {
		for j := range grid[i] {
			grid[i][j].Draw(canvases[i][j])
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	return writeFile(path, buf.Bytes())
}

// Lines draws a metric against a swept parameter, one line per series.
func Lines(path, titleText, xLabel, yLabel string, series []Series, logX bool) error {
	p := newPlot(titleText, xLabel, yLabel)
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	n, dropped := 0, 0
	for i, s := range series {
		xys, d := clean(s.Points, false)
		if logX {
			kept := xys[:0]
			for _, q := range xys {
				if q.X > 0 {
					kept = append(kept, q)
				}
			}
			d += len(xys) - len(kept)
			xys = kept
		}
		dropped += d
		n += len(xys)
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("plots: %s: %w", path, err)
		}
		l.Color, pts.Color = colorAt(i), colorAt(i)
		p.Add(l, pts)
		p.Legend.Add(s.Name, l, pts)
	}
	p.Title.Text = title(titleText, dropped, "points off the axes")
	noData(p, n)
	return save(p, path)
}

// Group is one column of a Distribution.
type Group struct {
	Name   string
	Values []float64
}

// Distribution draws one box plot per group (median, quartiles, whiskers,
// outliers); groups without values are named with "no data". The y axis is
// logarithmic when the values span more than two decades.
func Distribution(path, titleText, yLabel string, groups []Group) error {
	p := newPlot(titleText, "", yLabel)
	var all plotter.XYs
	clean := make([]plotter.Values, len(groups))
	for i, g := range groups {
		for _, v := range g.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				clean[i] = append(clean[i], v)
				all = append(all, plotter.XY{Y: v})
			}
		}
	}
	log := spansDecades(all)
	if log {
		logY(p)
		p.Y.Label.Text = yLabel + " (log scale)"
	}
	names := make([]string, len(groups))
	n := 0
	for i, g := range groups {
		vals := clean[i]
		if log {
			kept := vals[:0]
			for _, v := range vals {
				if v > 0 {
					kept = append(kept, v)
				}
			}
			vals = kept
		}
		names[i] = g.Name
		if len(vals) == 0 {
			names[i] = g.Name + "\n(no data)"
			continue
		}
		n += len(vals)
		bp, err := plotter.NewBoxPlot(vg.Points(24), float64(i), vals)
		if err != nil {
			return fmt.Errorf("plots: %s: %w", path, err)
		}
		bp.FillColor = colorAt(i)
		p.Add(bp)
	}
	if len(groups) > 0 {
		p.NominalX(names...)
	}
	noData(p, n)
	return save(p, path)
}
