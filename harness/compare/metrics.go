package compare

import (
	"math"

	"github.com/reloadlab/reloadlab/harness/bench"
)

// Metric is one compared figure.
type Metric struct {
	Name   string // identifier, used in file names and bench.txt units
	Title  string // human name
	Unit   string // unit shown in tables and plots
	Better string // "higher" or "lower"
	Value  func(s bench.Summary) float64
	// BenchUnit and BenchScale give the metric's bench.txt unit: value ×
	// BenchScale in BenchUnit (units ending in -ns are tidied to seconds by
	// benchstat).
	BenchUnit  string
	BenchScale float64
}

// Metrics are the figures compared run by run (median over rounds), in
// report order. The QPS dip is not among them: it is estimated from every
// round's reloads pooled (DipComparison), which resolves far smaller
// differences than a median of per-run estimates.
var metrics = []Metric{
	{"capacity", "capacity (closed model)", "req/s", "higher", func(s bench.Summary) float64 { return s.Results.Throughput.CapacityRPS }, "capacity-req/s", 1},
	{"steady-p50", "latency p50, steady", "ms", "lower", func(s bench.Summary) float64 { return s.Results.Latency.Steady.P50 }, "steady-p50-latency-ns", 1e6},
	{"reload-p50", "latency p50, reload windows", "ms", "lower", func(s bench.Summary) float64 { return s.Results.Latency.Window.P50 }, "reload-p50-latency-ns", 1e6},
	{"steady-p99", "latency p99, steady", "ms", "lower", func(s bench.Summary) float64 { return s.Results.Latency.Steady.P99 }, "steady-p99-latency-ns", 1e6},
	{"reload-p99", "latency p99, reload windows", "ms", "lower", func(s bench.Summary) float64 { return s.Results.Latency.Window.P99 }, "reload-p99-latency-ns", 1e6},
	{"steady-p99.9", "latency p99.9, steady", "ms", "lower", func(s bench.Summary) float64 { return s.Results.Latency.Steady.P999 }, "steady-p99.9-latency-ns", 1e6},
	{"reload-p99.9", "latency p99.9, reload windows", "ms", "lower", func(s bench.Summary) float64 { return s.Results.Latency.Window.P999 }, "reload-p99.9-latency-ns", 1e6},
	{"co-reload-p99", "CO-corrected p99, reload windows", "ms", "lower", func(s bench.Summary) float64 { return s.Results.Latency.WindowCorrected.P99 }, "co-reload-p99-latency-ns", 1e6},
	{"torn", "torn requests", "requests", "lower", func(s bench.Summary) float64 { return float64(s.Results.Torn.Requests) }, "torn-requests", 1},
	{"apply", "apply duration p50", "µs", "lower", func(s bench.Summary) float64 { return s.Results.Reloads.ApplyUs.P50 }, "apply-p50-ns", 1e3},
	{"detect", "detection latency p50", "ms", "lower", func(s bench.Summary) float64 { return s.Results.Reloads.DetectionMs.P50 }, "detect-p50-ns", 1e6},
	{"gc-pause-window", "GC pause time in reload windows", "ms/s", "lower", func(s bench.Summary) float64 { return s.Results.GC.Window.MsPerS }, "reload-gc-pause-ns/s", 1e6},
	{"gc-pause-max-window", "longest GC pause in reload windows", "ms", "lower", func(s bench.Summary) float64 { return s.Results.GC.Window.MaxMs }, "reload-gc-pause-max-ns", 1e6},
	{"sched-wait-p99-window", "runnable wait for a CPU, p99 in reload windows", "µs", "lower", func(s bench.Summary) float64 { return s.Results.SchedWait.Window.P99Us }, "reload-sched-wait-p99-ns", 1e3},
	{"mutex-wait-window", "lock wait in reload windows (/sync/mutex/wait/total)", "ms/s", "lower", func(s bench.Summary) float64 { return s.Results.MutexWait.Window }, "reload-mutex-wait-ns/s", 1e6},
}

// internalMetrics are the metrics only the lab's own target reports (its
// reload events, runtime/metrics, torn-request check): for an external
// target's runs they are NaN — not available — never zero.
var internalMetrics = map[string]bool{
	"torn": true, "apply": true, "detect": true, "gc-pause-window": true, "gc-pause-max-window": true,
	"sched-wait-p99-window": true, "mutex-wait-window": true,
}

// value returns m's value for run s: NaN for a metric an external target
// cannot report.
func (m Metric) value(s bench.Summary) float64 {
	if s.External != nil && internalMetrics[m.Name] {
		return math.NaN()
	}
	return m.Value(s)
}

// Metrics returns the compared metrics.
func Metrics() []Metric { return append([]Metric(nil), metrics...) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
