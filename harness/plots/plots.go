package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size of every figure: 10 × 6 inches at the PNG default of 96 dpi.
const (
	Width  = 10 * vg.Inch
	Height = 6 * vg.Inch
)

// maxPoints bounds the points drawn per series.
const maxPoints = 20_000

// XY is one point.
type XY struct{ X, Y float64 }

// Phase is a named span of the time axis, in seconds.
type Phase struct {
	Name       string
	Start, End float64
}

// Timeline is what every time-axis figure shares.
type Timeline struct {
	Title   string
	Reloads []float64 // reload instants, seconds
	Phases  []Phase
}

// Series is a named set of points.
type Series struct {
	Name   string
	Points []XY
}

var (
	reloadColor = color.NRGBA{R: 220, G: 30, B: 30, A: 90}
	phaseColors = []color.Color{color.RGBA{R: 230, G: 236, B: 245, A: 255}, color.RGBA{R: 245, G: 240, B: 228, A: 255}}
	seriesColor = []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 255, G: 127, B: 14, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 148, G: 103, B: 189, A: 255},
		color.RGBA{R: 140, G: 86, B: 75, A: 255}, color.RGBA{R: 227, G: 119, B: 194, A: 255},
		color.RGBA{R: 127, G: 127, B: 127, A: 255}, color.RGBA{R: 188, G: 189, B: 34, A: 255},
		color.RGBA{R: 23, G: 190, B: 207, A: 255},
	}
)

func colorAt(i int) color.Color { return seriesColor[i%len(seriesColor)] }

// clean drops NaN/Inf points and, for a log axis, non-positive Y. It
// returns the points kept and how many were dropped.
func clean(pts []XY, logY bool) (plotter.XYs, int) {
	out := make(plotter.XYs, 0, len(pts))
	for _, p := range pts {
		if math.IsNaN(p.X) || math.IsInf(p.X, 0) || math.IsNaN(p.Y) || math.IsInf(p.Y, 0) || (logY && p.Y <= 0) {
			continue
		}
		out = append(out, plotter.XY{X: p.X, Y: p.Y})
	}
	return out, len(pts) - len(out)
}

// thin keeps every k-th point so at most n remain (deterministic).
func thin(xys plotter.XYs, n int) plotter.XYs {
	if len(xys) <= n {
		return xys
	}
	k := (len(xys) + n - 1) / n
	out := make(plotter.XYs, 0, n)
	for i := 0; i < len(xys); i += k {
		out = append(out, xys[i])
	}
	return out
}

// newPlot returns a plot with title and axis labels.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// fixLogAxes keeps a log axis drawable: a positive minimum, and a maximum
// above it (a single value would otherwise give an empty range).
func fixLogAxes(p *plot.Plot) {
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		if _, ok := ax.Scale.(plot.LogScale); !ok {
			continue
		}
		if !(ax.Min > 0) || math.IsInf(ax.Min, 0) {
			ax.Min = 1
		}
		if !(ax.Max > ax.Min) || math.IsInf(ax.Max, 0) {
			ax.Max = ax.Min * 10
		}
	}
}

// save writes p as a PNG atomically.
func save(p *plot.Plot, path string) error {
	fixLogAxes(p)
	wt, err := p.WriterTo(Width, Height, "png")
	if err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	return writeFile(path, buf.Bytes())
}

func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}

// timelineDecor draws the phase bands (behind the data) and the reload
// lines (in front). It implements plot.Plotter without a data range, so it
// never changes the axes.
type timelineDecor struct {
	tl    Timeline
	lines bool // draw reload lines (front layer) instead of phase bands
}

// Plot implements plot.Plotter.
func (d timelineDecor) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	inX := func(x float64) bool { return x >= plt.X.Min && x <= plt.X.Max }
	if !d.lines {
		for i, ph := range d.tl.Phases {
			lo, hi := math.Max(ph.Start, plt.X.Min), math.Min(ph.End, plt.X.Max)
			if hi <= lo {
				continue
			}
			x0, x1 := trX(lo), trX(hi)
			c.FillPolygon(phaseColors[i%len(phaseColors)], []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
			sty := draw.TextStyle{Color: color.Gray{Y: 90}, Font: plot.DefaultFont, Handler: plot.DefaultTextHandler}
			sty.Font.Size = vg.Points(9)
			c.FillText(sty, vg.Point{X: x0 + vg.Points(3), Y: c.Max.Y - vg.Points(11)}, ph.Name)
		}
		return
	}
	ls := draw.LineStyle{Color: reloadColor, Width: vg.Points(0.6)}
	for _, x := range d.tl.Reloads {
		if inX(x) {
			c.StrokeLine2(ls, trX(x), c.Min.Y, trX(x), c.Max.Y)
		}
	}
}

// withTimeline adds the timeline decorations around the data plotters and
// a legend entry for the reload lines.
func withTimeline(p *plot.Plot, tl Timeline, data ...plot.Plotter) {
	p.Add(timelineDecor{tl: tl})
	p.Add(data...)
	p.Add(timelineDecor{tl: tl, lines: true})
	if len(tl.Reloads) > 0 {
		l, _ := plotter.NewLine(plotter.XYs{})
		l.Color = reloadColor
		p.Legend.Add(fmt.Sprintf("reload (%d)", len(tl.Reloads)), l)
	}
}

// title appends a note about dropped points.
func title(t string, dropped int, why string) string {
	if dropped > 0 {
		return fmt.Sprintf("%s [%d %s dropped]", t, dropped, why)
	}
	return t
}

// noData marks an empty figure and gives it axes a log scale accepts.
func noData(p *plot.Plot, n int) {
	if n == 0 {
		p.Title.Text += " — no data"
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		if _, ok := p.Y.Scale.(plot.LogScale); ok {
			p.Y.Min, p.Y.Max = 1, 10
		}
		if _, ok := p.X.Scale.(plot.LogScale); ok {
			p.X.Min, p.X.Max = 1, 10
		}
	}
}

// segments splits xys where consecutive X values are more than five
// median steps apart, so a line does not bridge a gap in the data (the
// time between phases).
func segments(xys plotter.XYs) []plotter.XYs {
	if len(xys) < 3 {
		return []plotter.XYs{xys}
	}
	steps := make([]float64, 0, len(xys)-1)
	for i := 1; i < len(xys); i++ {
		steps = append(steps, xys[i].X-xys[i-1].X)
	}
	sorted := append([]float64(nil), steps...)
	sort.Float64s(sorted)
	gap := 5 * sorted[len(sorted)/2]
	var out []plotter.XYs
	start := 0
	for i, st := range steps {
		if gap > 0 && st > gap {
			out = append(out, xys[start:i+1])
			start = i + 1
		}
	}
	return append(out, xys[start:])
}

// lines draws xys as one line per contiguous segment; the first segment's
// line stands for all in the legend.
func lines(xys plotter.XYs, c color.Color, width vg.Length) (*plotter.Line, []plot.Plotter) {
	var ps []plot.Plotter
	var first *plotter.Line
	for _, seg := range segments(xys) {
		l := line(seg, c, width)
		if first == nil {
			first = l
		}
		ps = append(ps, l)
	}
	return first, ps
}

func line(xys plotter.XYs, c color.Color, width vg.Length) *plotter.Line {
	l, _ := plotter.NewLine(xys)
	l.Color = c
	l.Width = width
	return l
}

func scatter(xys plotter.XYs, c color.Color, radius vg.Length) *plotter.Scatter {
	s, _ := plotter.NewScatter(xys)
	s.GlyphStyle.Color = c
	s.GlyphStyle.Radius = radius
	s.GlyphStyle.Shape = draw.CircleGlyph{}
	return s
}

// spansDecades reports whether positive values span more than two decades.
func spansDecades(xys plotter.XYs) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range xys {
		if p.Y > 0 {
			lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
		}
	}
	return hi/lo > 100
}

func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
}
