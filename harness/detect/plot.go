package detect

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// plotFloorMS is the smallest latency drawn: the axis is logarithmic, and
// a column can serve a version within microseconds of the write.
const plotFloorMS = 0.1

// WriteLatencyPlot writes latency.png: one box plot per column of its
// detection latencies (last write finished → last version served), all
// file systems and patterns pooled, on a logarithmic axis. Missed trials
// have no latency and are not drawn; the count under each name says how
// many trials were detected out of how many had a change to detect.
func WriteLatencyPlot(path string, m *Matrix) error {
	var groups []plotGroup
	for _, col := range m.Columns {
		g := plotGroup{}
		changes := 0
		for _, c := range m.Cells {
			if c.Column != col.Name || !c.Changes {
				continue
			}
			changes += c.Trials
			for _, v := range c.LatencyMS {
				g.Values = append(g.Values, max(v, plotFloorMS))
			}
		}
		g.Name = fmt.Sprintf("%s\n%d/%d", col.Name, len(g.Values), changes)
		groups = append(groups, g)
	}
	return distribution(path, "Detection latency: last write finished → last version served (all file systems and patterns)", "ms (log scale)", groups)
}

// plotGroup is one box of a distribution plot (the shape of the lab's
// plots.Group).
type plotGroup struct {
	Name   string
	Values []float64
}

// distribution draws one box plot per group on a logarithmic y axis (the
// signature of the lab's plots.Distribution). Empty groups keep their name
// and draw nothing.
func distribution(path, title, yLabel string, groups []plotGroup) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var names []string
	drawn := 0
	for i, g := range groups {
		names = append(names, g.Name)
		if len(g.Values) == 0 {
			continue
		}
		box, err := plotter.NewBoxPlot(vg.Points(28), float64(i), plotter.Values(g.Values))
		if err != nil {
			return fmt.Errorf("detect: plot %s: %w", g.Name, err)
		}
		p.Add(box)
		drawn++
	}
	if drawn == 0 {
		// An empty log axis cannot be drawn; show the range of a normal
		// detection instead of failing.
		p.Y.Min, p.Y.Max = 1, 1000
	}
	p.NominalX(names...)
	p.Add(plotter.NewGrid())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	tmp := path + ".tmp.png"
	if err := p.Save(vg.Length(max(6, len(groups)))*vg.Inch*1.1, 5*vg.Inch, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("detect: save %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("detect: %w", err)
	}
	return nil
}
