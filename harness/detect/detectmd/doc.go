// Package detectmd writes the detect lab's readable output from a
// detect.Matrix: matrix.md (WriteMarkdown, WriteMarkdownFile) and
// latency.png (WriteLatencyPlot). It judges nothing: every number and
// every why line comes from the matrix, so "lab detect -render" can redraw
// both from a stored matrix.json.
//
// matrix.md holds the machine and command, the definitions, a summary per
// column, one grid per file system (columns across, patterns down; a cell
// reads "missed/trials missed · p50 · p99" for patterns that change the
// content, "missed" counting the silent misses and "· N stale reported"
// the trials in which the column said it could not follow, and "no reload"
// for those that must not cause one, with "⚠" marking a problem) with a
// why line under it for every problem cell and, for the deployment shapes,
// the row's why line (what the writer did) with every column's part under
// it, and the combinations not run on that file system; then the
// patterns, the model checks, the witness events, the wasted and rejected
// reads, then the overflow, article-loop, watch-limit, instance-limit and
// idle-cost experiments. Every table is built with package mdtable.
//
// latency.png is plots.Distribution: one box per column of its detection
// latencies, all file systems and patterns pooled, logarithmic axis when
// the latencies span decades, latencies under 0.01 ms drawn at 0.01 ms.
package detectmd
