package detectmd

import (
	"fmt"

	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/plots"
)

// plotFloorMS is the smallest latency drawn: the axis is logarithmic when
// the latencies span decades, and a column can serve a version within
// microseconds of the write (latencies clamped at 0 would vanish).
const plotFloorMS = 0.01

// WriteLatencyPlot writes latency.png with plots.Distribution: one box plot
// per column of its detection latencies (last write finished → last
// version served), all file systems and patterns pooled. Missed trials have
// no latency and are not drawn; the count under each name says how many
// trials were detected out of how many had a change to detect.
func WriteLatencyPlot(path string, m *detect.Matrix) error {
	var groups []plots.Group
	for _, col := range m.Columns {
		var g plots.Group
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
	if err := plots.Distribution(path, "Detection latency: last write finished → last version served (all file systems and patterns)", "ms", groups); err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	return nil
}
