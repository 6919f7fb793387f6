package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// requestColor is the colour of the per-request scatter.
var requestColor = color.RGBA{R: 60, G: 80, B: 115, A: 255}

// timelinePlot returns the plot of a time-axis figure: an x axis covering
// the data, the phases and the reloads; phase bands, grid and reload lines
// drawn under the data that the caller adds next.
func timelinePlot(tl Timeline, yLabel string, data ...[]XY) *plot.Plot {
	p := newPlot(withDefault(tl.XLabel, defaultTimeLabel), yLabel)
	var xs span
	for _, d := range data {
		xs.addX(d)
	}
	for _, ph := range tl.Phases {
		xs.add(ph.Start)
		xs.add(ph.End)
	}
	for _, r := range tl.Reloads {
		xs.add(r)
	}
	setLinear(&p.X, xs, false, 0)
	p.Add(bands{phases: tl.Phases}, grid(), reloadLines{tl.Reloads})
	return p
}

// timelineFigure finishes a time-axis figure: its title ("no data" when n
// is zero), the notes on dropped points and the legend with the reloads.
func timelineFigure(tl Timeline, defTitle string, p *plot.Plot, n int, legend []entry, d *drops) figure {
	title := withDefault(tl.Title, defTitle)
	if n == 0 {
		title = noDataTitle(title)
		p.Add(message{text: "no data"})
	}
	if len(tl.Reloads) > 0 {
		legend = append(legend, reloadEntry(tl.Reloads))
	}
	return figure{header: header{title: title, notes: d.notes(), legend: legend}, plot: p, phases: len(tl.Phases) > 0}
}

// Latency draws per-request latency over time on a log y axis in
// milliseconds: a light scatter of the requests (at most a few thousand
// drawn: one in k plus the slowest of every k, so no spike is lost) and
// the p50 and p99 of each bin as lines. Latencies ≤ 0 cannot sit on a log
// axis; they are dropped and the note under the title counts them.
func Latency(path string, tl Timeline, requests, p50, p99 []XY) error {
	var d drops
	req := positiveY(clean(requests, &d), &d)
	l50 := positiveY(clean(p50, &d), &d)
	l99 := positiveY(clean(p99, &d), &d)
	var yr span
	yr.addY(req)
	yr.addY(l50)
	yr.addY(l99)
	p := timelinePlot(tl, "latency (ms, log scale)", req, l50, l99)
	setLog(&p.Y, yr)

	var legend []entry
	if len(req) > 0 {
		shown, k := sample(req, maxScatterPoints)
		// Fewer points get bigger, opaquer dots: a handful of faint
		// specks would not show.
		alpha, radius := uint8(60), 1.1
		switch {
		case len(shown) <= 200:
			alpha, radius = 200, 2.2
		case len(shown) <= 2000:
			alpha, radius = 120, 1.6
		}
		p.Add(newScatter(shown, faded(requestColor, alpha), radius, draw.CircleGlyph{}))
		name := fmt.Sprintf("request (%d)", len(req))
		if k > 1 {
			name = fmt.Sprintf("request (%d of %d drawn: 1 in %d + slowest of each %d)", len(shown), len(req), k, k)
		}
		legend = append(legend, entry{name, []plot.Thumbnailer{dotThumb{draw.GlyphStyle{Color: faded(requestColor, 160), Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}}}})
	}
	for i, s := range []struct {
		name string
		pts  []XY
	}{{"p50 per bin", l50}, {"p99 per bin", l99}} {
		if len(s.pts) == 0 {
			continue
		}
		p.Add(lineSeries(minMax(s.pts, maxLinePoints), colorAt(i), 1.6, plotter.NoStep)...)
		legend = append(legend, entry{s.name, []plot.Thumbnailer{lineThumb{draw.LineStyle{Color: colorAt(i), Width: vg.Points(2)}}}})
	}
	f := timelineFigure(tl, "Request latency", p, len(req)+len(l50)+len(l99), legend, &d)
	return render(path, Width, Height, f.draw)
}

// Throughput draws completed requests per second, one value per 100 ms bin,
// as a line (broken where the data has a hole, such as between phases).
func Throughput(path string, tl Timeline, bins []XY) error {
	var d drops
	pts := clean(bins, &d)
	p := timelinePlot(tl, "throughput (completed req/s, 100 ms bins)", pts)
	var yr span
	yr.addY(pts)
	setLinear(&p.Y, yr, true, 0.05)
	var legend []entry
	if len(pts) > 0 {
		p.Add(lineSeries(minMax(pts, maxLinePoints), colorAt(0), 1.2, plotter.NoStep)...)
		legend = append(legend, entry{"completed req/s", []plot.Thumbnailer{lineThumb{draw.LineStyle{Color: colorAt(0), Width: vg.Points(2)}}}})
	}
	f := timelineFigure(tl, "Throughput", p, len(pts), legend, &d)
	return render(path, Width, Height, f.draw)
}

// GCPauses draws each stop-the-world GC pause as a point at its time, in
// microseconds; the y axis is logarithmic when the pauses span more than
// two decades (pauses ≤ 0 are then dropped, and counted in the note).
func GCPauses(path string, tl Timeline, pauses []XY) error {
	var d drops
	pts := clean(pauses, &d)
	yLabel := "stop-the-world pause (µs)"
	logY := positiveSpan(ys(pts)).wide()
	if logY {
		pts = positiveY(pts, &d)
		yLabel = "stop-the-world pause (µs, log scale)"
	}
	p := timelinePlot(tl, yLabel, pts)
	var yr span
	yr.addY(pts)
	if logY {
		setLog(&p.Y, yr)
	} else {
		setLinear(&p.Y, yr, true, 0.05)
	}
	var legend []entry
	if len(pts) > 0 {
		shown, k := sample(pts, maxScatterPoints)
		c := colorAt(3)
		p.Add(newScatter(shown, faded(c, 200), 2.4, draw.CircleGlyph{}))
		name := fmt.Sprintf("GC pause (%d, max %s µs)", len(pts), formatSig(yr.hi))
		if k > 1 {
			name = fmt.Sprintf("GC pause (%d of %d drawn, max %s µs)", len(shown), len(pts), formatSig(yr.hi))
		}
		legend = append(legend, entry{name, []plot.Thumbnailer{dotThumb{draw.GlyphStyle{Color: c, Radius: vg.Points(2.6), Shape: draw.CircleGlyph{}}}}})
	}
	f := timelineFigure(tl, "GC stop-the-world pauses", p, len(pts), legend, &d)
	return render(path, Width, Height, f.draw)
}

// Blocked draws goroutine counts over time (waiting goroutines, and any
// other named series such as lock-blocked goroutines from traces), one
// step line per series: a count holds until the next sample.
func Blocked(path string, tl Timeline, series ...Series) error {
	var d drops
	cleaned := make([][]XY, len(series))
	var yr span
	n := 0
	for i, s := range series {
		cleaned[i] = clean(s.Points, &d)
		yr.addY(cleaned[i])
		n += len(cleaned[i])
	}
	p := timelinePlot(tl, "goroutines (count)", cleaned...)
	setLinear(&p.Y, yr, true, 0.05)
	var legend []entry
	for i, s := range series {
		c := colorAt(i)
		lines := lineSeries(minMax(cleaned[i], maxLinePoints), c, 1.2, plotter.PostStep)
		for _, l := range lines {
			if l, ok := l.(*plotter.Line); ok {
				l.Dashes = dashesAt(i)
			}
		}
		p.Add(lines...)
		name := withDefault(s.Name, fmt.Sprintf("series %d", i+1))
		if len(cleaned[i]) == 0 {
			name += " (no data)"
		}
		legend = append(legend, entry{name, []plot.Thumbnailer{lineThumb{draw.LineStyle{Color: c, Width: vg.Points(2), Dashes: dashesAt(i)}}}})
	}
	f := timelineFigure(tl, "Blocked goroutines", p, n, legend, &d)
	return render(path, Width, Height, f.draw)
}

// Panel is one panel of Stacked: its title and y label, and its series.
type Panel struct {
	Title  string
	YLabel string
	Series []Series
}

// Stacked draws panels one above the other on one shared time axis, each
// with the timeline's phases and reload lines. A series draws as a step
// line (a rate or count holds until the next bin), dashed from the second
// series of a panel on, or as dots when its Dots flag is set (sparse
// observations). The figure grows by 2 inches per panel.
func Stacked(path string, tl Timeline, panels []Panel) error {
	title := withDefault(tl.Title, "Timeline")
	var d drops
	cleaned := make([][][]XY, len(panels))
	var xs span
	n := 0
	for i, pn := range panels {
		cleaned[i] = make([][]XY, len(pn.Series))
		for j, s := range pn.Series {
			cleaned[i][j] = clean(s.Points, &d)
			xs.addX(cleaned[i][j])
			n += len(cleaned[i][j])
		}
	}
	for _, ph := range tl.Phases {
		xs.add(ph.Start)
		xs.add(ph.End)
	}
	for _, r := range tl.Reloads {
		xs.add(r)
	}
	if n == 0 {
		title = noDataTitle(title)
	}
	hdr := header{title: title, notes: d.notes()}
	k := 0
	for _, pn := range panels {
		for j, s := range pn.Series {
			c := colorAt(k)
			name := withDefault(s.Name, fmt.Sprintf("series %d", k+1))
			if s.Dots {
				hdr.legend = append(hdr.legend, entry{name, []plot.Thumbnailer{dotThumb{draw.GlyphStyle{Color: c, Radius: vg.Points(2.6), Shape: draw.CircleGlyph{}}}}})
			} else {
				hdr.legend = append(hdr.legend, entry{name, []plot.Thumbnailer{lineThumb{draw.LineStyle{Color: c, Width: vg.Points(2), Dashes: dashesAt(j)}}}})
			}
			k++
		}
	}
	if len(tl.Reloads) > 0 {
		hdr.legend = append(hdr.legend, reloadEntry(tl.Reloads))
	}
	hh := hdr.height(Width - marginL - marginR)
	rowH := 2 * vg.Inch
	h := max(Height, hh+vg.Length(max(1, len(panels)))*rowH+marginB+vg.Points(16))
	h = vg.Length(math.Ceil(float64(h/vg.Inch)*DPI)) * vg.Inch / DPI

	plts := make([][]*plot.Plot, 0, len(panels))
	k = 0
	for i, pn := range panels {
		p := newPlot("", pn.YLabel)
		p.Title.Text = pn.Title
		if i == 0 && len(tl.Phases) > 0 {
			p.Title.Padding = vg.Points(16) // room for the phase tabs under the title
		}
		setLinear(&p.X, xs, false, 0)
		var yr span
		for _, pts := range cleaned[i] {
			yr.addY(pts)
		}
		setLinear(&p.Y, yr, true, 0.05)
		p.Add(bands{phases: tl.Phases, noTabs: i > 0}, grid(), reloadLines{tl.Reloads})
		empty := true
		for j, pts := range cleaned[i] {
			c := colorAt(k)
			k++
			if len(pts) == 0 {
				continue
			}
			empty = false
			if pn.Series[j].Dots {
				shown, _ := sample(pts, maxScatterPoints)
				p.Add(newScatter(shown, faded(c, 210), 2.4, draw.CircleGlyph{}))
				continue
			}
			lines := lineSeries(minMax(pts, maxLinePoints), c, 1.2, plotter.PostStep)
			for _, l := range lines {
				if l, ok := l.(*plotter.Line); ok {
					l.Dashes = dashesAt(j)
				}
			}
			p.Add(lines...)
		}
		if empty {
			p.Add(message{text: "no data", size: 11})
		}
		if i < len(panels)-1 {
			p.X.Tick.Marker = blankLabels{linearTicks{}}
		} else {
			p.X.Label.Text = withDefault(tl.XLabel, defaultTimeLabel)
		}
		plts = append(plts, []*plot.Plot{p})
	}
	return render(path, Width, h, func(c draw.Canvas) {
		c = draw.Crop(c, marginL, -marginR, marginB, 0)
		used := hdr.draw(c)
		body := draw.Crop(c, 0, 0, 0, -used-vg.Points(12))
		if len(plts) == 0 {
			return
		}
		tiles := draw.Tiles{Rows: len(plts), Cols: 1, PadY: vg.Points(14)}
		labels := make([]string, len(plts))
		for i := range plts {
			labels[i] = plts[i][0].Y.Label.Text
			plts[i][0].Y.Label.Text = ""
		}
		canvases := plot.Align(plts, tiles, body)
		for i := range plts {
			plts[i][0].Y.Label.Text = labels[i]
			drawPlot(plts[i][0], canvases[i][0])
		}
	})
}
