// Package plots draws reloadlab's figures as PNG files with gonum/plot. It
// takes plain data (seconds on the time axis, the plot's unit on the other)
// and knows nothing of the lab's other packages.
//
// # Figures
//
//	Latency        per-request latency over time, log scale (ms): a light
//	               scatter of sampled requests, p50 and p99 per bin as lines
//	Throughput     completed requests per second in 100 ms bins
//	GCPauses       each stop-the-world GC pause (µs), log scale when wide
//	Blocked        waiting goroutines over time, one line per series
//	Bars           one bar per label with a 95% confidence-interval whisker
//	SmallMultiples one row per strategy: throughput and blocked goroutines,
//	               all rows on the same time axis
//	Lines          a metric against a swept parameter, one line per series
//	Distribution   one box plot per group (e.g. detection latency per trigger)
//
// Every timeline marks the reload instants as thin red vertical lines and
// shades the phases. Large inputs are thinned deterministically (every
// k-th point), so a figure stays well under a megabyte and the same input
// always renders the same bytes. Values a log axis cannot show (zero,
// negative) and NaN or Inf are dropped, and the title says how many.
//
// Files are written atomically (path.tmp, then renamed).
package plots
