package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

const defaultTimeLabel = "time since run start (s)"

var (
	sans       = font.Font{Typeface: "Liberation", Variant: "Sans"}
	sansBold   = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
	sansItalic = font.Font{Typeface: "Liberation", Variant: "Sans", Style: xfont.StyleItalic}

	ink         = color.Gray{Y: 20}
	muted       = color.Gray{Y: 90}
	noteColor   = color.RGBA{R: 140, G: 50, B: 30, A: 255}
	gridColor   = color.Gray{Y: 225}
	reloadColor = color.NRGBA{R: 230, G: 40, B: 40, A: 110}
	phaseColors = []color.Color{
		color.RGBA{R: 228, G: 236, B: 247, A: 255},
		color.RGBA{R: 248, G: 240, B: 224, A: 255},
		color.RGBA{R: 230, G: 243, B: 230, A: 255},
	}
	palette = []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255},
		color.RGBA{R: 255, G: 127, B: 14, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255},
		color.RGBA{R: 148, G: 103, B: 189, A: 255},
		color.RGBA{R: 140, G: 86, B: 75, A: 255},
		color.RGBA{R: 227, G: 119, B: 194, A: 255},
		color.RGBA{R: 127, G: 127, B: 127, A: 255},
		color.RGBA{R: 188, G: 189, B: 34, A: 255},
		color.RGBA{R: 23, G: 190, B: 207, A: 255},
	}
	shapes = []draw.GlyphDrawer{
		draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{},
		draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{},
	}
)

func colorAt(i int) color.Color { return palette[i%len(palette)] }

// dashesAt tells apart series whose colours repeat: solid for the first
// round of the palette, dashed for the second, dotted for the third.
func dashesAt(i int) []vg.Length {
	switch (i / len(palette)) % 3 {
	case 1:
		return []vg.Length{vg.Points(5), vg.Points(2.5)}
	case 2:
		return []vg.Length{vg.Points(1.5), vg.Points(2)}
	}
	return nil
}

// faded returns c with alpha a (0..255).
func faded(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

func style(f font.Font, size float64, c color.Color) text.Style {
	return text.Style{Color: c, Font: font.From(f, vg.Points(size)), Handler: plot.DefaultTextHandler}
}

// newPlot returns a plot without title or legend (the figure's header
// draws them), sans-serif labels, linear ticks and a light grid.
func newPlot(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.TextStyle = style(sansBold, 10.5, ink)
	p.Title.TextStyle.XAlign = draw.XCenter
	p.Title.TextStyle.YAlign = draw.YTop
	p.Title.Padding = vg.Points(4)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, vg.Points(11))
		a.Label.TextStyle.Color = ink
		a.Tick.Label.Font = font.From(sans, vg.Points(9.5))
		a.Tick.Label.Color = ink
		a.Tick.Length = vg.Points(5)
		a.Tick.Marker = linearTicks{}
		a.Padding = vg.Points(3)
		a.Label.Padding = vg.Points(3)
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	return p
}

func grid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical = draw.LineStyle{Color: gridColor, Width: vg.Points(0.5)}
	g.Horizontal = draw.LineStyle{Color: gridColor, Width: vg.Points(0.5)}
	return g
}

func newLine(pts []XY, c color.Color, width float64) *plotter.Line {
	l, err := plotter.NewLine(toXYs(pts))
	if err != nil { // only for non-finite points, which clean removed
		l = &plotter.Line{}
	}
	l.Color = c
	l.Width = vg.Points(width)
	return l
}

func newScatter(pts []XY, c color.Color, radius float64, shape draw.GlyphDrawer) *plotter.Scatter {
	s, err := plotter.NewScatter(toXYs(pts))
	if err != nil {
		s = &plotter.Scatter{}
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(radius), Shape: shape}
	return s
}

// lineSeries draws pts as one line per gap-free segment; a segment of one
// point gets a dot, or it would not show at all.
func lineSeries(pts []XY, c color.Color, width float64, step plotter.StepKind) []plot.Plotter {
	var out []plot.Plotter
	for _, seg := range segments(pts) {
		if len(seg) == 1 {
			out = append(out, newScatter(seg, c, 2.5, draw.CircleGlyph{}))
			continue
		}
		l := newLine(seg, c, width)
		l.StepStyle = step
		out = append(out, l)
	}
	return out
}

func toXYs(pts []XY) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	for i, p := range pts {
		out[i] = plotter.XY{X: p.X, Y: p.Y}
	}
	return out
}

// lineThumb, dotThumb, vlineThumb and swatch are legend thumbnails drawn
// larger and opaquer than the data they stand for, so a faint scatter or a
// thin reload line still reads in the legend.
type lineThumb struct{ draw.LineStyle }

func (t lineThumb) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(t.LineStyle, c.Min.X, y, c.Max.X, y)
}

type dotThumb struct{ draw.GlyphStyle }

func (t dotThumb) Thumbnail(c *draw.Canvas) { c.DrawGlyph(t.GlyphStyle, c.Center()) }

type vlineThumb struct{ draw.LineStyle }

func (t vlineThumb) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(t.LineStyle, x, c.Min.Y, x, c.Max.Y)
}

type swatch struct {
	fill   color.Color
	border draw.LineStyle
}

func (t swatch) Thumbnail(c *draw.Canvas) {
	pts := rect(c.Min.X+vg.Points(3), c.Min.Y, c.Max.X-vg.Points(3), c.Max.Y)
	if t.fill != nil {
		c.FillPolygon(t.fill, pts)
	}
	if t.border.Color != nil && t.border.Width > 0 {
		c.StrokeLines(t.border, append(pts, pts[0]))
	}
}

func rect(x0, y0, x1, y1 vg.Length) []vg.Point {
	return []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

func reloadThumb() plot.Thumbnailer {
	return vlineThumb{draw.LineStyle{Color: faded(reloadColor, 200), Width: vg.Points(1.5)}}
}

func reloadEntry(reloads []float64) entry {
	n := 0
	for _, r := range reloads {
		if finite(r) {
			n++
		}
	}
	return entry{fmt.Sprintf("reload (%d)", n), []plot.Thumbnailer{reloadThumb()}}
}

// bands shades the phases behind the data and names each one in a tab
// just above the data area (the figure leaves room for it), unless
// noTabs is set (the lower panels of a stack).
type bands struct {
	phases []Phase
	noTabs bool
}

// Plot implements plot.Plotter.
func (b bands) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	sty := style(sansItalic, 9, muted)
	sty.YAlign = draw.YBottom
	for i, ph := range b.phases {
		if !finite(ph.Start) || !finite(ph.End) {
			continue
		}
		lo, hi := math.Max(math.Min(ph.Start, ph.End), plt.X.Min), math.Min(math.Max(ph.Start, ph.End), plt.X.Max)
		if hi <= lo {
			continue
		}
		x0, x1 := trX(lo), trX(hi)
		fill := phaseColors[i%len(phaseColors)]
		c.FillPolygon(fill, rect(x0, c.Min.Y, x1, c.Max.Y))
		if b.noTabs {
			continue
		}
		tab := vg.Points(13)
		c.FillPolygon(fill, rect(x0, c.Max.Y, x1, c.Max.Y+tab))
		name := ph.Name
		if name == "" {
			name = fmt.Sprintf("phase %d", i+1)
		}
		c.FillText(sty, vg.Point{X: x0 + vg.Points(3), Y: c.Max.Y + vg.Points(2.5)}, name)
	}
}

// reloadLines draws each reload instant as a thin light-red vertical line.
type reloadLines struct{ at []float64 }

// Plot implements plot.Plotter.
func (r reloadLines) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	ls := draw.LineStyle{Color: reloadColor, Width: vg.Points(0.6)}
	for _, x := range r.at {
		if finite(x) && x >= plt.X.Min && x <= plt.X.Max {
			c.StrokeLine2(ls, trX(x), c.Min.Y, trX(x), c.Max.Y)
		}
	}
}

// message writes a line of text in the middle of the data area, or at
// data coordinates (x, y) when at is set.
type message struct {
	text string
	at   bool
	x, y float64
	size float64
}

// Plot implements plot.Plotter.
func (m message) Plot(c draw.Canvas, plt *plot.Plot) {
	size := m.size
	if size == 0 {
		size = 16
	}
	sty := style(sansItalic, size, muted)
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
	pt := c.Center()
	if m.at {
		trX, trY := plt.Transforms(&c)
		pt = vg.Point{X: trX(m.x), Y: trY(m.y)}
	}
	c.FillText(sty, pt, m.text)
}

// entry is one legend item.
type entry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// header is the top of a figure: the title (wrapped to the width), notes
// on what could not be drawn, and a one-row (wrapping) legend. Drawing the
// legend here rather than inside the data area keeps it off the data.
type header struct {
	title  string
	notes  []string
	legend []entry // drawn when it has two entries or more
}

var (
	titleStyle  = style(sansBold, 14, ink)
	noteStyle   = style(sansItalic, 9.5, noteColor)
	legendStyle = style(sans, 10, ink)
)

const (
	thumbW   = 22 // points
	thumbGap = 4
	entryGap = 16
)

// layout returns the header's title and note lines and its legend rows,
// laid out for width.
func (h header) layout(width vg.Length) (titles, notes []string, rows [][]entry) {
	titles = wrap(h.title, titleStyle, width)
	for _, n := range h.notes {
		notes = append(notes, wrap(n, noteStyle, width)...)
	}
	if len(h.legend) < 2 {
		return titles, notes, nil
	}
	var row []entry
	var used vg.Length
	for _, e := range h.legend {
		w := entryWidth(e)
		if len(row) > 0 && used+w > width {
			rows = append(rows, row)
			row, used = nil, 0
		}
		row = append(row, e)
		used += w
	}
	return titles, notes, append(rows, row)
}

func entryWidth(e entry) vg.Length {
	return vg.Points(thumbW+thumbGap+entryGap) + legendStyle.Width(e.name)
}

func lineHeight(s text.Style) vg.Length { return s.FontExtents().Height }

// height is the vertical room the header takes at width.
func (h header) height(width vg.Length) vg.Length {
	titles, notes, rows := h.layout(width)
	y := vg.Points(6)
	y += vg.Length(len(titles)) * lineHeight(titleStyle)
	y += vg.Length(len(notes)) * lineHeight(noteStyle)
	if len(rows) > 0 {
		y += vg.Points(4) + vg.Length(len(rows))*(lineHeight(legendStyle)+vg.Points(3))
	}
	return y + vg.Points(6)
}

// draw draws the header at the top of c and returns the height it took.
func (h header) draw(c draw.Canvas) vg.Length {
	width := c.Max.X - c.Min.X
	titles, notes, rows := h.layout(width)
	cx := (c.Min.X + c.Max.X) / 2
	y := c.Max.Y - vg.Points(6)
	for _, lines := range []struct {
		text []string
		sty  text.Style
	}{{titles, titleStyle}, {notes, noteStyle}} {
		sty := lines.sty
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		for _, l := range lines.text {
			c.FillText(sty, vg.Point{X: cx, Y: y}, l)
			y -= lineHeight(sty)
		}
	}
	if len(rows) > 0 {
		y -= vg.Points(4)
		sty := legendStyle
		sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
		lh := lineHeight(sty)
		for _, row := range rows {
			var w vg.Length
			for _, e := range row {
				w += entryWidth(e)
			}
			w -= vg.Points(entryGap)
			x := cx - w/2
			mid := y - lh/2
			for _, e := range row {
				icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
					Min: vg.Point{X: x, Y: mid - lh*0.38},
					Max: vg.Point{X: x + vg.Points(thumbW), Y: mid + lh*0.38},
				}}
				for _, t := range e.thumbs {
					t.Thumbnail(&icon)
				}
				c.FillText(sty, vg.Point{X: x + vg.Points(thumbW+thumbGap), Y: mid}, e.name)
				x += entryWidth(e)
			}
			y -= lh + vg.Points(3)
		}
	}
	return c.Max.Y - y + vg.Points(6)
}

// wrap breaks s into lines no wider than width, at spaces (and at the
// newlines s has).
func wrap(s string, sty text.Style, width vg.Length) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			continue
		}
		line := words[0]
		for _, w := range words[1:] {
			if sty.Width(line+" "+w) > width {
				out = append(out, line)
				line = w
				continue
			}
			line += " " + w
		}
		out = append(out, line)
	}
	return out
}

// figure is a single-panel figure: a header over one plot.
type figure struct {
	header
	plot   *plot.Plot
	phases bool // leave room above the data area for the phase tabs
}

// margins around everything a figure draws.
var (
	marginL = vg.Points(8)
	marginR = vg.Points(16)
	marginB = vg.Points(6)
)

func (f figure) draw(c draw.Canvas) {
	c = draw.Crop(c, marginL, -marginR, marginB, 0)
	used := f.header.draw(c)
	c = draw.Crop(c, 0, 0, 0, -used)
	if f.phases {
		c = draw.Crop(c, 0, 0, 0, -vg.Points(12))
	}
	drawPlot(f.plot, c)
}

// drawPlot draws p in c, writing the y-axis label itself: gonum/plot
// reserves room above the data area for a long vertical label (its glyph
// box is computed as if unrotated), which would leave a wide empty band
// under the header.
func drawPlot(p *plot.Plot, c draw.Canvas) {
	label := p.Y.Label.Text
	if label == "" {
		p.Draw(c)
		return
	}
	sty := p.Y.Label.TextStyle
	sty.Rotation = math.Pi / 2
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
	inner := draw.Crop(c, lineHeight(sty)+vg.Points(2), 0, 0, 0)
	p.Y.Label.Text = ""
	defer func() { p.Y.Label.Text = label }()
	dc := p.DataCanvas(inner)
	c.FillText(sty, vg.Point{X: c.Min.X, Y: (dc.Min.Y + dc.Max.Y) / 2}, label)
	p.Draw(inner)
}

// render draws a w × h figure with fn and writes it to path as a PNG.
// gonum/plot panics on some inputs; a panic becomes an error rather than
// taking the lab down with it.
func render(path string, w, h vg.Length, fn func(draw.Canvas)) (err error) {
	if path == "" {
		return errors.New("plots: empty output path")
	}
	// Fail before the (slow) rendering if the file cannot be written.
	if st, err := os.Stat(filepath.Dir(path)); err != nil {
		return fmt.Errorf("plots: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("plots: %s: %s is not a directory", path, filepath.Dir(path))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: %s: rendering failed: %v", path, r)
		}
	}()
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	fn(draw.New(img))
	// BestSpeed: a figure is a few hundred kilobytes at most either way
	// (flat colours compress well), and the default level takes twice as
	// long, which the race-enabled tests feel.
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img.Image()); err != nil {
		return fmt.Errorf("plots: %s: encoding PNG: %w", path, err)
	}
	return writeAtomic(path, buf.Bytes())
}

// writeAtomic writes data to path+".tmp" and renames it over path, so a
// reader never sees half a figure.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}

// withDefault returns s, or def when s is blank.
func withDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// noDataTitle marks a figure that has nothing to draw.
func noDataTitle(t string) string { return t + " — no data" }
