package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"golang.org/x/perf/benchfmt"

	"reloadlab/harness/analysis"
	"reloadlab/harness/machine"
	"reloadlab/harness/plots"
	"reloadlab/harness/results"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// benchMetric is one value in bench.txt.
type benchMetric struct {
	unit   string
	better string // "higher" or "lower"
	value  float64
}

// metrics returns the run's headline numbers as benchfmt values. Units
// ending in -ns are tidied to seconds by benchstat.
func metrics(s Summary) []benchMetric {
	r := s.Results
	ns := func(ms float64) float64 { return ms * 1e6 }
	out := []benchMetric{
		{"capacity-req/s", "higher", r.Throughput.CapacityRPS},
		{"qps-dip-%", "lower", 100 * r.Throughput.QPSDip.Value},
		{"steady-p50-latency-ns", "lower", ns(r.Latency.Steady.P50)},
		{"steady-p99-latency-ns", "lower", ns(r.Latency.Steady.P99)},
		{"steady-p99.9-latency-ns", "lower", ns(r.Latency.Steady.P999)},
		{"reload-p50-latency-ns", "lower", ns(r.Latency.Window.P50)},
		{"reload-p99-latency-ns", "lower", ns(r.Latency.Window.P99)},
		{"reload-p99.9-latency-ns", "lower", ns(r.Latency.Window.P999)},
		{"co-steady-p99-latency-ns", "lower", ns(r.Latency.SteadyCorrected.P99)},
		{"co-reload-p99-latency-ns", "lower", ns(r.Latency.WindowCorrected.P99)},
		{"torn-requests", "lower", float64(r.Torn.Requests)},
		{"apply-p50-ns", "lower", r.Reloads.ApplyUs.P50 * 1e3},
		{"apply-max-ns", "lower", r.Reloads.ApplyUs.Max * 1e3},
		{"detect-p50-ns", "lower", ns(r.Reloads.DetectionMs.P50)},
		{"detect-p99-ns", "lower", ns(r.Reloads.DetectionMs.P99)},
		{"reload-gc-pause-ns/s", "lower", ns(r.GC.Window.MsPerS)},
		{"reload-gc-pause-max-ns", "lower", ns(r.GC.Window.MaxMs)},
		{"steady-gc-pause-ns/s", "lower", ns(r.GC.Steady.MsPerS)},
		{"reload-blocked-peak-goroutines", "lower", r.Blocked.Window.Peak},
		{"reload-blocked-mean-goroutines", "lower", r.Blocked.Window.Mean},
		{"steady-blocked-mean-goroutines", "lower", r.Blocked.Steady.Mean},
		{"reload-mutex-wait-ns/s", "lower", ns(r.MutexWait.Window)},
		{"reload-sched-wait-p99-ns", "lower", r.SchedWait.Window.P99Us * 1e3},
		{"steady-sched-wait-p99-ns", "lower", r.SchedWait.Steady.P99Us * 1e3},
		{"traced-lock-blocked-goroutines", "lower", tracedBlocked(r.Traces)},
	}
	kept := out[:0]
	for _, m := range out {
		if !math.IsNaN(m.value) && !math.IsInf(m.value, 0) {
			kept = append(kept, m)
		}
	}
	return kept
}

// tracedBlocked is the mean number of lock-blocked goroutines per trace
// window that covered its reload (NaN without one).
func tracedBlocked(ts []analysis.TraceWindow) float64 {
	n, sum := 0, 0
	for _, t := range ts {
		if t.CoversSpan {
			n++
			sum += t.LockBlocked
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return float64(sum) / float64(n)
}

// writeBenchfmt writes bench.txt: machine and run configuration lines, unit
// metadata, and one result line named Reload/strategy=<name>, so that
// `benchstat -col /strategy results/*/bench.txt` compares strategies.
func writeBenchfmt(path string, s Summary) error {
	var buf bytes.Buffer
	buf.WriteString(machine.Read().ConfigLines())
	w := benchfmt.NewWriter(&buf)
	ms := metrics(s)
	for _, m := range ms {
		if err := w.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: m.unit, Key: "better"}, OrigUnit: m.unit, Value: m.better}); err != nil {
			return fmt.Errorf("bench: bench.txt: %w", err)
		}
	}
	res := &benchfmt.Result{Name: benchfmt.Name("Reload/strategy=" + s.Strategy), Iters: max(1, s.Results.Throughput.Requests)}
	for _, kv := range [][2]string{
		{"strategy", s.Strategy}, {"store", s.Store}, {"trigger", s.Trigger}, {"pattern", s.Pattern},
		{"keys", fmt.Sprint(s.Keys)}, {"reload-every", s.ReloadEvery},
	} {
		res.Config = append(res.Config, benchfmt.Config{Key: kv[0], Value: []byte(kv[1]), File: true})
	}
	for _, m := range ms {
		res.Values = append(res.Values, benchfmt.Value{Value: m.value, Unit: m.unit})
	}
	if err := w.Write(res); err != nil {
		return fmt.Errorf("bench: bench.txt: %w", err)
	}
	return results.WriteFile(path, buf.Bytes())
}

// writePlots draws the four figures.
func writePlots(dir string, s Summary, se analysis.Series, traces []analysis.TraceWindow) error {
	xy := func(ps []analysis.Point) []plots.XY {
		out := make([]plots.XY, len(ps))
		for i, p := range ps {
			out[i] = plots.XY{X: p.X, Y: p.Y}
		}
		return out
	}
	// inPhases keeps the samples of the throughput and latency phases: between
	// them the harness probes open-model rates up to saturation, and thousands
	// of goroutines waiting on idle connections there would flatten the
	// figure's scale without belonging to any measured phase.
	inPhases := func(ps []plots.XY) []plots.XY {
		if len(se.PhaseBounds) == 0 {
			return ps
		}
		var out []plots.XY
		for _, p := range ps {
			for _, b := range se.PhaseBounds {
				if p.X >= b.Start && p.X <= b.End {
					out = append(out, p)
					break
				}
			}
		}
		return out
	}
	tl := func(title string) plots.Timeline {
		t := plots.Timeline{Title: fmt.Sprintf("%s — %s (reloads marked)", s.Strategy, title), Reloads: se.Reloads, XLabel: "time since the throughput phase began (s)"}
		for _, p := range se.PhaseBounds {
			t.Phases = append(t.Phases, plots.Phase{Name: p.Name, Start: p.Start, End: p.End})
		}
		return t
	}
	if err := plots.Latency(filepath.Join(dir, "latency.png"), tl("request latency"), xy(se.Requests), xy(se.P50), xy(se.P99)); err != nil {
		return err
	}
	if err := plots.Throughput(filepath.Join(dir, "throughput.png"), tl("completed requests per 100 ms bin"), xy(se.Throughput)); err != nil {
		return err
	}
	if err := plots.GCPauses(filepath.Join(dir, "gc-pauses.png"), tl("GC stop-the-world pauses (runtime/metrics)"), inPhases(xy(se.GCPauses))); err != nil {
		return err
	}
	return plots.Blocked(filepath.Join(dir, "blocked-goroutines.png"), tl("waiting goroutines (runtime/metrics, 10 ms)"),
		plots.Series{Name: "/sched/goroutines/waiting", Points: inPhases(xy(se.Waiting))})
}

// summaryMarkdown is summary.md: one screen saying what the figures say.
func summaryMarkdown(s Summary, timings []phaseTiming, diag *diagnosis) string {
	r := s.Results
	var b strings.Builder
	fmt.Fprintf(&b, "# bench: %s\n\n", s.Strategy)
	fmt.Fprintf(&b, "**Verdict:** %s\n\n", s.Verdict)
	fmt.Fprintf(&b, "Store `%s`, trigger `%s`, write pattern `%s`, %d keys, a write every %s, %d keys read per request (consistent view: %v). Made by `%s`.\n\n",
		s.Store, s.Trigger, s.Pattern, s.Keys, s.ReloadEvery, s.KeysPerRequest, s.ConsistentView, s.Made)
	b.WriteString("| | reload windows | steady | |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| throughput (closed model) | %.0f req/s | %.0f req/s | QPS dip %s |\n", r.Throughput.WindowRPS, r.Throughput.SteadyRPS, pct(r.Throughput.QPSDip))
	fmt.Fprintf(&b, "| latency p50 / p99 / p99.9 (open model, %d req/s) | %.2f / %.2f / %.2f ms | %.2f / %.2f / %.2f ms | |\n",
		r.Latency.RateRPS, r.Latency.Window.P50, r.Latency.Window.P99, r.Latency.Window.P999, r.Latency.Steady.P50, r.Latency.Steady.P99, r.Latency.Steady.P999)
	fmt.Fprintf(&b, "| p99 corrected for coordinated omission | %.2f ms | %.2f ms | |\n", r.Latency.WindowCorrected.P99, r.Latency.SteadyCorrected.P99)
	fmt.Fprintf(&b, "| GC stop-the-world pauses | %d, %.2f ms/s, max %.3f ms | %d, %.2f ms/s, max %.3f ms | |\n",
		r.GC.Window.Count, r.GC.Window.MsPerS, r.GC.Window.MaxMs, r.GC.Steady.Count, r.GC.Steady.MsPerS, r.GC.Steady.MaxMs)
	fmt.Fprintf(&b, "| waiting goroutines peak / mean | %.0f / %.1f | %.0f / %.1f | |\n", r.Blocked.Window.Peak, r.Blocked.Window.Mean, r.Blocked.Steady.Peak, r.Blocked.Steady.Mean)
	fmt.Fprintf(&b, "| mutex wait (runtime/metrics) | %.3f ms/s | %.3f ms/s | |\n", r.MutexWait.Window, r.MutexWait.Steady)
	fmt.Fprintf(&b, "| runnable wait for a CPU p50 / p99 / max (/sched/latencies) | %.0f / %.0f / %.0f µs | %.0f / %.0f / %.0f µs | |\n",
		r.SchedWait.Window.P50Us, r.SchedWait.Window.P99Us, r.SchedWait.Window.MaxUs, r.SchedWait.Steady.P50Us, r.SchedWait.Steady.P99Us, r.SchedWait.Steady.MaxUs)
	fmt.Fprintf(&b, "| torn requests | %d | %d | target counter: %d (%s) |\n\n", r.Torn.InWindow, r.Torn.Steady, s.TargetTorn, s.TornCheck)
	fmt.Fprintf(&b, "Reloads in the measured phases: %d written, %d applied, %d rejected, %d never applied. Detection (write finished → applied) p50 %.1f ms, p99 %.1f ms; apply p50 %.1f µs, max %.1f µs.\n\n",
		r.Reloads.Written, r.Reloads.Applied, r.Reloads.Rejected, r.Reloads.NotApplied, r.Reloads.DetectionMs.P50, r.Reloads.DetectionMs.P99, r.Reloads.ApplyUs.P50, r.Reloads.ApplyUs.Max)
	if len(r.Traces) > 0 {
		b.WriteString("Trace windows ([apply − 100 ms, apply + 400 ms], diagnosis phase, tracing on):\n\n| file | version | goroutines blocked on a sync mutex | lock frames | stop-the-world ranges (total, max) |\n|---|---|---|---|---|\n")
		for _, t := range r.Traces {
			cov := ""
			if !t.CoversSpan {
				cov = " (capture does not cover the whole window)"
			}
			fmt.Fprintf(&b, "| `%s`%s | %d | %d (%d events) | %s | %d (%.3f ms, %.3f ms) |\n", t.File, cov, t.Version, t.LockBlocked, t.LockBlocks,
				strings.Join(t.Frames, ", "), t.STWCount, t.STWTotal.Seconds()*1e3, t.STWMax.Seconds()*1e3)
		}
		b.WriteString("\n")
	}
	b.WriteString("Figures: `throughput.png` (completed req/s per 100 ms bin), `latency.png` (per-request latency, log scale, p50/p99 per 250 ms bin), `gc-pauses.png` (each GC pause), `blocked-goroutines.png` (waiting goroutines); reloads are the vertical lines. Open `trace-reload-N.out` with `go tool trace`, the profiles with `go tool pprof`, `attack.bin` with `go tool vegeta report`, and compare runs with `go tool benchstat -col /strategy -table \"\" results/*/bench.txt`.\n\n")
	b.WriteString("Notes:\n\n")
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("- Headline numbers come from the throughput and latency phases; the diagnosis phase (flight recorder, block and mutex profiling, CPU profile) only feeds the traces and profiles, because tracing costs about 20% on this request path.\n")
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "- Warning: %s\n", w)
	}
	b.WriteString("\nPhases: ")
	for i, t := range timings {
		if i > 0 {
			b.WriteString(", ")
		}
		model := "closed"
		if t.Open {
			model = fmt.Sprintf("open %d req/s", t.Rate)
		}
		fmt.Fprintf(&b, "%s %.1f s (%s, reloads %s, %d requests)", t.Name, t.Ended.Sub(t.Began).Seconds(), model, t.Reloads, t.Recs)
	}
	b.WriteString(".\n")
	return b.String()
}

func pct(e analysis.Estimate) string {
	if math.IsNaN(e.Value) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%% (95%% CI %.2f…%.2f%%)", 100*e.Value, 100*e.Lo, 100*e.Hi)
}
