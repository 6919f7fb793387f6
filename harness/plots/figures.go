package plots

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/reloadlab/reloadlab/harness/stats"
)

// categories gives a plot a categorical x axis: one slot per name at
// x = 0, 1, … and a horizontal grid only.
func categories(p *plot.Plot, names []string) {
	ticks := make(plot.ConstantTicks, len(names))
	for i, n := range names {
		ticks[i] = plot.Tick{Value: float64(i), Label: n}
	}
	p.X.Tick.Marker = ticks
	p.X.Tick.Length = 0
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	if len(names) == 0 {
		p.X.Min, p.X.Max = -0.5, 0.5
	}
	g := grid()
	g.Vertical.Color = nil
	p.Add(g)
}

// Bars draws one bar per label (its Value) with a whisker over its 95%
// confidence interval (Lo..Hi) and the value written above it; unit labels
// the y axis. A bar without a finite Value shows "no data"; one without
// finite bounds has no whisker (the note under the title says so). The x
// axis is labelled "strategy" unless XLabel says otherwise.
func Bars(path, title, unit string, bars []Bar, opts ...Option) error {
	o := applyOptions("strategy", opts)
	title = withDefault(title, "Comparison")
	p := newPlot(o.xLabel, withDefault(unit, "value"))
	var d drops
	var yr span
	yr.add(0)
	names := make([]string, len(bars))
	items := make([]barItem, len(bars))
	valued, noCI := 0, 0
	for i, b := range bars {
		names[i] = withDefault(b.Label, fmt.Sprintf("#%d", i+1))
		it := barItem{value: b.Value, lo: b.Lo, hi: b.Hi}
		if !finite(b.Value) {
			names[i] += "\n(no data)"
			it.none = true
			items[i] = it
			continue
		}
		valued++
		yr.add(b.Value)
		it.whisker = finite(b.Lo) && finite(b.Hi)
		if it.whisker {
			it.lo, it.hi = min(b.Lo, b.Hi), max(b.Lo, b.Hi)
			yr.add(it.lo)
			yr.add(it.hi)
		} else {
			noCI++
		}
		items[i] = it
	}
	if n := len(bars) - valued; n > 0 {
		d.other = append(d.other, fmt.Sprintf("%d bar%s without a finite value", n, plural(n)))
	}
	if noCI > 0 && noCI < valued {
		d.other = append(d.other, fmt.Sprintf("%d bar%s without a finite interval (no whisker)", noCI, plural(noCI)))
	}
	setLinear(&p.Y, yr, true, 0.12)
	if yr.lo < 0 {
		p.Y.Min -= (p.Y.Max - p.Y.Min) * 0.08
	}
	categories(p, names)
	p.Add(barPlotter(items))
	legend := []entry{{"value", []plot.Thumbnailer{swatch{fill: barColor}}}}
	if noCI < valued {
		legend = append(legend, entry{o.intervalLabel, []plot.Thumbnailer{vlineThumb{draw.LineStyle{Color: ink, Width: vg.Points(1.3)}}}})
	}
	if valued == 0 {
		title = noDataTitle(title)
		legend = nil
		if len(bars) == 0 {
			p.Add(message{text: "no data"})
		}
	}
	f := figure{header: header{title: title, notes: d.notes(), legend: legend}, plot: p}
	return render(path, Width, Height, f.draw)
}

var barColor = faded(palette[0], 210)

type barItem struct {
	value, lo, hi float64
	whisker, none bool
}

// barPlotter draws the bars, their whiskers and value labels.
type barPlotter []barItem

// Plot implements plot.Plotter.
func (bp barPlotter) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	half := (trX(1) - trX(0)) * 0.3
	capW := half * 0.45
	ws := draw.LineStyle{Color: ink, Width: vg.Points(1.3)}
	lab := style(sans, 9.5, ink)
	lab.XAlign = draw.XCenter
	for i, b := range bp {
		x := trX(float64(i))
		if b.none {
			message{text: "no data", at: true, x: float64(i), y: (plt.Y.Min + plt.Y.Max) / 2, size: 11}.Plot(c, plt)
			continue
		}
		y0, y1 := trY(0), trY(b.value)
		c.FillPolygon(barColor, rect(x-half, min(y0, y1), x+half, max(y0, y1)))
		top, bottom := b.value, b.value
		if b.whisker {
			lo, hi := trY(b.lo), trY(b.hi)
			c.StrokeLine2(ws, x, lo, x, hi)
			c.StrokeLine2(ws, x-capW, lo, x+capW, lo)
			c.StrokeLine2(ws, x-capW, hi, x+capW, hi)
			top, bottom = max(top, b.hi), min(bottom, b.lo)
		}
		if b.value >= 0 {
			lab.YAlign = draw.YBottom
			c.FillText(lab, vg.Point{X: x, Y: trY(top) + vg.Points(3)}, formatSig(b.value))
		} else {
			lab.YAlign = draw.YTop
			c.FillText(lab, vg.Point{X: x, Y: trY(bottom) - vg.Points(3)}, formatSig(b.value))
		}
	}
}

// Lines draws a metric against a swept parameter, one line with markers
// per series (e.g. apply duration against the number of keys, one line per
// strategy), the points of each series joined in x order. logX puts x on a
// log scale (points with x ≤ 0 are dropped and counted in the note). The y
// axis turns logarithmic by itself when every value is positive and they
// span more than two decades, so that a flat fast series stays visible
// next to a steep slow one.
func Lines(path, title, xLabel, yLabel string, series []Series, logX bool) error {
	title = withDefault(title, "Sweep")
	var d drops
	cleaned := make([][]XY, len(series))
	var xs, yr span
	var all []float64
	n := 0
	for i, s := range series {
		pts := clean(s.Points, &d)
		if logX {
			kept := pts[:0:0]
			for _, q := range pts {
				if q.X > 0 {
					kept = append(kept, q)
				} else {
					d.nonPosX++
				}
			}
			pts = kept
		}
		cleaned[i] = pts
		xs.addX(pts)
		yr.addY(pts)
		all = append(all, ys(pts)...)
		n += len(pts)
	}
	logY := yr.ok && yr.lo > 0 && positiveSpan(all).wide()
	xLabel, yLabel = withDefault(xLabel, "parameter"), withDefault(yLabel, "value")
	if logX && !strings.Contains(strings.ToLower(xLabel), "log") {
		xLabel += " [log scale]"
	}
	if logY && !strings.Contains(strings.ToLower(yLabel), "log") {
		yLabel += " [log scale]"
	}
	p := newPlot(xLabel, yLabel)
	if logX {
		setLog(&p.X, xs)
	} else {
		setLinear(&p.X, xs, false, 0)
	}
	if logY {
		setLog(&p.Y, yr)
	} else {
		setLinear(&p.Y, yr, true, 0.05)
	}
	p.Add(grid())
	var legend []entry
	for i, pts := range cleaned {
		c, shape := colorAt(i), shapes[i%len(shapes)]
		if len(pts) > 1 {
			l := newLine(minMax(pts, maxLinePoints), c, 1.6)
			l.Dashes = dashesAt(i)
			p.Add(l)
		}
		if len(pts) <= 200 {
			p.Add(newScatter(pts, c, 3, shape))
		}
		name := withDefault(series[i].Name, fmt.Sprintf("series %d", i+1))
		if len(pts) == 0 {
			name += " (no data)"
		}
		legend = append(legend, entry{name, []plot.Thumbnailer{
			lineThumb{draw.LineStyle{Color: c, Width: vg.Points(1.6), Dashes: dashesAt(i)}},
			dotThumb{draw.GlyphStyle{Color: c, Radius: vg.Points(3), Shape: shape}},
		}})
	}
	if n == 0 {
		title = noDataTitle(title)
		p.Add(message{text: "no data"})
	}
	f := figure{header: header{title: title, notes: d.notes(), legend: legend}, plot: p}
	return render(path, Width, Height, f.draw)
}

// Distribution draws one column per group (e.g. detection latency per
// trigger): every value as a jittered dot, a box from the first to the
// third quartile, whiskers to the furthest values within 1.5 × IQR of the
// box, and the median as a thick line with its value and the count
// written beside it. The y axis is logarithmic when the values span more
// than two decades (values ≤ 0 are then dropped and counted in the note).
// A group without values is shown by name with "no data". The x axis is
// labelled "group" unless XLabel says otherwise.
func Distribution(path, title, yLabel string, groups []Group, opts ...Option) error {
	o := applyOptions("group", opts)
	title = withDefault(title, "Distribution")
	var d drops
	vals := make([][]float64, len(groups))
	var every []float64
	for i, g := range groups {
		for _, v := range g.Values {
			if !finite(v) {
				d.nonFinite++
				continue
			}
			vals[i] = append(vals[i], v)
		}
		every = append(every, vals[i]...)
	}
	logY := positiveSpan(every).wide()
	var yr span
	names := make([]string, len(groups))
	n := 0
	for i, g := range groups {
		if logY {
			kept := vals[i][:0:0]
			for _, v := range vals[i] {
				if v > 0 {
					kept = append(kept, v)
				} else {
					d.nonPositive++
				}
			}
			vals[i] = kept
		}
		for _, v := range vals[i] {
			yr.add(v)
		}
		n += len(vals[i])
		names[i] = withDefault(g.Name, fmt.Sprintf("#%d", i+1))
		if len(vals[i]) == 0 {
			names[i] += "\n(no data)"
		}
	}
	yLabel = withDefault(yLabel, "value")
	if logY && !strings.Contains(strings.ToLower(yLabel), "log") {
		yLabel += " [log scale]"
	}
	p := newPlot(o.xLabel, yLabel)
	if logY {
		setLog(&p.Y, yr)
	} else {
		setLinear(&p.Y, yr, false, 0)
		if yr.ok {
			pad := (p.Y.Max - p.Y.Min) * 0.05
			p.Y.Min, p.Y.Max = p.Y.Min-pad, p.Y.Max+pad
		}
	}
	categories(p, names)
	p.Add(distPlotter(vals))
	var legend []entry
	if n > 0 {
		legend = []entry{
			{"one value (jittered sideways)", []plot.Thumbnailer{dotThumb{draw.GlyphStyle{Color: faded(palette[0], 160), Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}}}},
			{"quartiles (box), furthest values within 1.5 × IQR (whiskers)", []plot.Thumbnailer{swatch{border: draw.LineStyle{Color: ink, Width: vg.Points(1)}}}},
			{"median (value, n)", []plot.Thumbnailer{lineThumb{draw.LineStyle{Color: ink, Width: vg.Points(2.5)}}}},
		}
	} else {
		title = noDataTitle(title)
		if len(groups) == 0 {
			p.Add(message{text: "no data"})
		}
	}
	f := figure{header: header{title: title, notes: d.notes(), legend: legend}, plot: p}
	return render(path, Width, Height, f.draw)
}

// distPlotter draws the columns of Distribution.
type distPlotter [][]float64

// Plot implements plot.Plotter.
func (dp distPlotter) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	unit := trX(1) - trX(0)
	half, jitter, capW := unit*0.22, unit*0.2, unit*0.08
	box := draw.LineStyle{Color: ink, Width: vg.Points(1)}
	med := draw.LineStyle{Color: ink, Width: vg.Points(2.5)}
	lab := style(sans, 9, ink)
	lab.YAlign = draw.YCenter
	for i, vs := range dp {
		x := trX(float64(i))
		if len(vs) == 0 {
			mid := (plt.Y.Min + plt.Y.Max) / 2
			if _, ok := plt.Y.Scale.(plot.LogScale); ok {
				mid = math.Sqrt(plt.Y.Min * plt.Y.Max)
			}
			message{text: "no data", at: true, x: float64(i), y: mid, size: 11}.Plot(c, plt)
			continue
		}
		// Dots: at most maxGroupDots, every k-th in input order, spread
		// sideways by a fixed low-discrepancy sequence (deterministic).
		k := (len(vs) + maxGroupDots - 1) / maxGroupDots
		dot := draw.GlyphStyle{Color: faded(colorAt(i), 150), Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}
		if len(vs)/k > 300 {
			dot.Color, dot.Radius = faded(colorAt(i), 80), vg.Points(1.5)
		}
		for j := 0; j < len(vs); j += k {
			off := math.Mod(float64(j/k+1)*0.6180339887498949, 1) - 0.5
			c.DrawGlyph(dot, vg.Point{X: x + vg.Length(2*off)*jitter, Y: trY(vs[j])})
		}
		sorted := slices.Clone(vs)
		slices.Sort(sorted)
		q1, q2, q3 := stats.QuantileSorted(sorted, 0.25), stats.QuantileSorted(sorted, 0.5), stats.QuantileSorted(sorted, 0.75)
		iqr := q3 - q1
		lo, hi := q1, q3
		for _, v := range sorted {
			if v >= q1-1.5*iqr {
				lo = v
				break
			}
		}
		for j := len(sorted) - 1; j >= 0; j-- {
			if sorted[j] <= q3+1.5*iqr {
				hi = sorted[j]
				break
			}
		}
		y1, y3 := trY(q1), trY(q3)
		pts := rect(x-half, y1, x+half, y3)
		c.StrokeLines(box, append(pts, pts[0]))
		c.StrokeLines(box, []vg.Point{{X: x, Y: y3}, {X: x, Y: trY(hi)}}, []vg.Point{{X: x, Y: y1}, {X: x, Y: trY(lo)}})
		c.StrokeLine2(box, x-capW, trY(hi), x+capW, trY(hi))
		c.StrokeLine2(box, x-capW, trY(lo), x+capW, trY(lo))
		ym := trY(q2)
		c.StrokeLine2(med, x-half, ym, x+half, ym)
		label := fmt.Sprintf("%s (n=%d)", formatSig(q2), len(vs))
		if lx := x + half + vg.Points(3); lx+lab.Width(label) <= c.Max.X {
			lab.XAlign = draw.XLeft
			c.FillText(lab, vg.Point{X: lx, Y: ym}, label)
		} else {
			lab.XAlign = draw.XRight
			c.FillText(lab, vg.Point{X: x - half - vg.Points(3), Y: ym}, label)
		}
	}
}

// SmallMultiples draws one row per strategy and two columns (completed
// req/s; time goroutines spent waiting on sync locks, from the runtime's
// /sync/mutex/wait/total, in ms per second), every panel on the same time axis and each
// column on the same y scale, so rows compare at a glance; each panel
// marks its row's reloads. The figure is 1000 px wide and grows by 200 px
// per row (at least 600 px).
func SmallMultiples(path, title string, rows []Row) error {
	title = withDefault(title, "Strategies side by side")
	var d drops
	tp := make([][]XY, len(rows))
	bl := make([][]XY, len(rows))
	var xs, ytp, ybl span
	n := 0
	for i, r := range rows {
		tp[i], bl[i] = clean(r.Throughput, &d), clean(r.LockWait, &d)
		xs.addX(tp[i])
		xs.addX(bl[i])
		for _, x := range r.Reloads {
			xs.add(x)
		}
		ytp.addY(tp[i])
		ybl.addY(bl[i])
		n += len(tp[i]) + len(bl[i])
	}
	if len(rows) == 0 {
		p := newPlot(defaultTimeLabel, "req/s")
		setLinear(&p.X, xs, false, 0)
		setLinear(&p.Y, ytp, true, 0)
		p.Add(grid(), message{text: "no data"})
		f := figure{header: header{title: noDataTitle(title)}, plot: p}
		return render(path, Width, Height, f.draw)
	}
	if n == 0 {
		title = noDataTitle(title)
	}
	hdr := header{title: title, notes: d.notes(), legend: []entry{
		{"completed req/s (per bin)", []plot.Thumbnailer{lineThumb{draw.LineStyle{Color: colorAt(0), Width: vg.Points(2)}}}},
		{"lock wait (ms per s, /sync/mutex/wait/total)", []plot.Thumbnailer{lineThumb{draw.LineStyle{Color: colorAt(1), Width: vg.Points(2)}}}},
	}}
	for _, r := range rows {
		if len(r.Reloads) > 0 {
			hdr.legend = append(hdr.legend, entry{"reload", []plot.Thumbnailer{reloadThumb()}})
			break
		}
	}
	hh := hdr.height(Width - marginL - marginR)
	rowH := 2 * vg.Inch
	h := max(Height, hh+vg.Length(len(rows))*rowH+marginB+vg.Points(4))
	h = vg.Length(math.Ceil(float64(h/vg.Inch)*DPI)) * vg.Inch / DPI

	panels := make([][]*plot.Plot, len(rows))
	for i, r := range rows {
		name := withDefault(r.Name, fmt.Sprintf("row %d", i+1))
		reloads := 0
		for _, x := range r.Reloads {
			if finite(x) {
				reloads++
			}
		}
		suffix := fmt.Sprintf(" (%d reload%s)", reloads, plural(reloads))
		makePanel := func(what, yLabel string, pts []XY, yr span, c int, step plotter.StepKind) *plot.Plot {
			p := newPlot("", yLabel)
			p.Title.Text = name + " — " + what + suffix
			setLinear(&p.X, xs, false, 0)
			setLinear(&p.Y, yr, true, 0.05)
			p.Add(grid(), reloadLines{r.Reloads})
			p.Add(lineSeries(minMax(pts, maxLinePoints/2), colorAt(c), 1, step)...)
			if len(pts) == 0 {
				p.Add(message{text: "no data", size: 11})
			}
			if i < len(rows)-1 {
				p.X.Tick.Marker = blankLabels{linearTicks{}}
			} else {
				p.X.Label.Text = defaultTimeLabel
			}
			return p
		}
		panels[i] = []*plot.Plot{
			makePanel("completed req/s", "req/s", tp[i], ytp, 0, plotter.NoStep),
			makePanel("lock wait", "ms/s", bl[i], ybl, 1, plotter.PostStep),
		}
	}
	return render(path, Width, h, func(c draw.Canvas) {
		c = draw.Crop(c, marginL, -marginR, marginB, 0)
		used := hdr.draw(c)
		body := draw.Crop(c, 0, 0, 0, -used)
		tiles := draw.Tiles{Rows: len(rows), Cols: 2, PadX: vg.Points(22), PadY: vg.Points(6)}
		// Align without the y labels, which drawPlot draws itself.
		labels := make([][]string, len(panels))
		for i := range panels {
			for _, p := range panels[i] {
				labels[i] = append(labels[i], p.Y.Label.Text)
				p.Y.Label.Text = ""
			}
		}
		canvases := plot.Align(panels, tiles, body)
		for i := range panels {
			for j, p := range panels[i] {
				p.Y.Label.Text = labels[i][j]
				drawPlot(p, canvases[i][j])
			}
		}
	})
}

// CalPoint is one level of a calibration: the injected value X, the
// measured Y with its interval Lo..Hi, and a label.
type CalPoint struct {
	X, Y, Lo, Hi float64
	Label        string
}

// FitLine is a fitted straight line y = Intercept + Slope·x.
type FitLine struct {
	Slope, Intercept float64
	Label            string
}

// Calibration draws measured against injected values in two panels side
// by side — every level, and a zoom on the levels up to a tenth of the
// largest — each with the identity line y = x, the fitted line when given,
// every point with its interval as a whisker, and, around y = 0, a band of
// ± floor (the A/A noise floor: a measured value inside it cannot be told
// from nothing).
func Calibration(path, title, xLabel, yLabel string, pts []CalPoint, floor float64, fit *FitLine) error {
	title = withDefault(title, "Calibration")
	var d drops
	var ok []CalPoint
	for _, p := range pts {
		if finite(p.X) && finite(p.Y) {
			ok = append(ok, p)
		} else {
			d.nonFinite++
		}
	}
	hdr := header{title: title, notes: d.notes(), legend: []entry{
		{"measured (95% interval)", []plot.Thumbnailer{dotThumb{draw.GlyphStyle{Color: colorAt(0), Radius: vg.Points(3), Shape: draw.CircleGlyph{}}}}},
		{"identity: measured = injected", []plot.Thumbnailer{lineThumb{draw.LineStyle{Color: ink, Width: vg.Points(1), Dashes: dashesAt(1)}}}},
	}}
	if finite(floor) && floor > 0 {
		hdr.legend = append(hdr.legend, entry{fmt.Sprintf("A/A floor ±%s", formatSig(floor)), []plot.Thumbnailer{swatch{fill: faded(colorAt(2), 60)}}})
	}
	if fit != nil {
		hdr.legend = append(hdr.legend, entry{withDefault(fit.Label, "fit"), []plot.Thumbnailer{lineThumb{draw.LineStyle{Color: colorAt(1), Width: vg.Points(1.4)}}}})
	}
	if len(ok) == 0 {
		hdr.title = noDataTitle(title)
	}
	xmax := 0.0
	for _, p := range ok {
		xmax = math.Max(xmax, p.X)
	}
	panel := func(limit float64, name string) *plot.Plot {
		p := newPlot(withDefault(xLabel, "injected"), withDefault(yLabel, "measured"))
		p.Title.Text = name
		var sel []CalPoint
		var xs, yr span
		xs.add(0)
		yr.add(0)
		for _, q := range ok {
			if q.X <= limit*1.0001 {
				sel = append(sel, q)
				xs.add(q.X)
				yr.add(q.Y)
				if finite(q.Lo) && finite(q.Hi) {
					yr.add(q.Lo)
					yr.add(q.Hi)
				}
			}
		}
		if xs.hi <= 0 {
			xs.add(1)
		}
		yr.add(xs.hi)
		if finite(floor) {
			yr.add(floor)
			yr.add(-floor)
		}
		setLinear(&p.X, xs, false, 0.05)
		setLinear(&p.Y, yr, false, 0.08)
		p.Add(grid())
		if finite(floor) && floor > 0 {
			band, err := plotter.NewPolygon(plotter.XYs{{X: p.X.Min, Y: -floor}, {X: p.X.Max, Y: -floor}, {X: p.X.Max, Y: floor}, {X: p.X.Min, Y: floor}})
			if err == nil {
				band.Color = faded(colorAt(2), 60)
				band.LineStyle.Width = 0
				p.Add(band)
			}
		}
		id := newLine([]XY{{p.X.Min, p.X.Min}, {p.X.Max, p.X.Max}}, ink, 1)
		id.Dashes = dashesAt(1)
		p.Add(id)
		if fit != nil {
			p.Add(newLine([]XY{{p.X.Min, fit.Intercept + fit.Slope*p.X.Min}, {p.X.Max, fit.Intercept + fit.Slope*p.X.Max}}, colorAt(1), 1.4))
		}
		for _, q := range sel {
			if finite(q.Lo) && finite(q.Hi) {
				w := newLine([]XY{{q.X, q.Lo}, {q.X, q.Hi}}, colorAt(0), 1.6)
				p.Add(w)
			}
		}
		var xy []XY
		for _, q := range sel {
			xy = append(xy, XY{q.X, q.Y})
		}
		if len(xy) > 0 {
			p.Add(newScatter(xy, colorAt(0), 3, draw.CircleGlyph{}))
		} else {
			p.Add(message{text: "no data", size: 11})
		}
		return p
	}
	full := panel(math.Max(xmax, 1e-9), "every level")
	zoomLimit := xmax / 10
	zoom := panel(zoomLimit, fmt.Sprintf("zoom: levels up to %s", formatSig(zoomLimit)))
	plts := [][]*plot.Plot{{full, zoom}}
	hh := hdr.height(Width - marginL - marginR)
	h := max(Height, hh+3*vg.Inch+marginB)
	return render(path, Width, h, func(c draw.Canvas) {
		c = draw.Crop(c, marginL, -marginR, marginB, 0)
		used := hdr.draw(c)
		body := draw.Crop(c, 0, 0, 0, -used-vg.Points(6))
		labels := []string{full.Y.Label.Text, zoom.Y.Label.Text}
		full.Y.Label.Text, zoom.Y.Label.Text = "", ""
		canvases := plot.Align(plts, draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(26)}, body)
		full.Y.Label.Text, zoom.Y.Label.Text = labels[0], labels[1]
		drawPlot(full, canvases[0][0])
		drawPlot(zoom, canvases[0][1])
	})
}
