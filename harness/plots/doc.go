// Package plots draws reloadlab's figures as PNG files with gonum/plot.
//
// It takes plain data (XY points, reload instants, phases, bars, groups)
// and knows nothing of the lab's other packages. Every figure is 1000 ×
// 600 pixels (10 × 6 in at 100 dpi) except SmallMultiples, which grows
// with its rows.
//
// # Reading any figure
//
// The title is at the top. Under it, in dark red italics, a note says
// what could not be drawn: NaN or infinite values, and values ≤ 0 that a
// log axis cannot show; they are dropped, never clamped, so nothing on the
// figure is invented. Then comes the legend, on one or more rows, above
// the data and never over it (only when there are two entries or more).
// Both axes name their quantity and unit, and say "log scale" when they
// are logarithmic. A figure with nothing to draw says "no data" in its
// title and in its data area.
//
// On the time-axis figures (Latency, Throughput, GCPauses, Blocked,
// SmallMultiples) x is seconds since the run's origin (Timeline.XLabel
// can say otherwise). Each reload is a thin light-red vertical line, so
// that whatever happens right after a reload lines up under it; the legend
// counts the reloads. Each phase is a lightly shaded band named in a tab
// above the data area; the gap between two bands is time when no phase
// ran, and lines break across such gaps rather than bridge them.
//
// # The figures
//
// Latency: one dot per request (ms, log y) and a line for the p50 and the
// p99 of each bin. The p50 line is the typical request; the p99 line and
// the dots above it are the tail, and a reload that hurts shows as a
// column of high dots and a p99 spike on its red line. Past a few
// thousand requests, the dots drawn are one request in k plus the slowest
// of each run of k (the legend gives k), so the cloud stays honest about
// its shape and every spike survives.
//
// Throughput: completed requests per second in 100 ms bins. A dip right
// after each red line is the cost of a reload in capacity.
//
// GCPauses: one dot per stop-the-world GC pause (µs), log y when the
// pauses span more than two decades. The legend gives the count and the
// longest pause. Pauses clustered on the red lines mean the reload makes
// garbage (a rebuilt map, a parsed file).
//
// Blocked: goroutine counts over time as step lines (a count holds until
// the next sample): the runtime's waiting goroutines and, when given,
// other series such as lock-blocked goroutines from traces. Spikes on the
// red lines are readers queued behind a reload.
//
// Bars: one bar per label (a metric per strategy) with its value written
// on top and a whisker over its interval (a 95% confidence interval unless
// IntervalLabel names another, such as [min, max] of five rounds). Two bars whose
// whiskers overlap are not shown to differ.
//
// SmallMultiples: one row per strategy, completed req/s on the left and
// waiting goroutines on the right. All panels share the time axis and each
// column shares its y scale, so rows compare at a glance: read down a
// column.
//
// Lines: a metric against a swept parameter (apply duration against the
// number of keys), one line with markers per series. With logX, equal
// ratios are equal distances; the y axis turns logarithmic by itself when
// all values are positive and span more than two decades, so that a slope
// of one decade per decade of x is linear growth.
//
// Distribution: one column per group (detection latency per trigger).
// Each value is a dot, jittered sideways only to separate them; the box
// spans the first to the third quartile, the whiskers reach the furthest
// values within 1.5 × IQR of the box, and the thick line is the median,
// with its value and the count written beside it. The y axis is
// logarithmic when the values span more than two decades. A group without
// values is named with "no data".
//
// # Size and determinism
//
// Large inputs are thinned deterministically before drawing: lines keep
// the lowest and the highest point of each run of consecutive points
// (spikes and dips survive), scatters keep one point in k plus the highest
// of each run of k, and a Distribution column draws at most 1,500 dots
// (its statistics use every value). A figure is a few hundred kilobytes
// at most and renders in well under a second even from 500,000 points;
// the same input always gives the same bytes.
//
// Files are written atomically: to path+".tmp", then renamed over path.
// Errors start with "plots:".
package plots
