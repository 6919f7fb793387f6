package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/machine"
	"github.com/reloadlab/reloadlab/harness/plots"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/targets/telemetry"
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
	dip := r.Throughput.ReloadDip()
	lost, pred := math.NaN(), math.NaN()
	if k := r.Throughput.Kind(analysis.KindReload); k != nil {
		lost, pred = k.LostMs.Value, float64(float64(k.PredictedWithGCPP))
	}
	out := []benchMetric{
		{"capacity-req/s", "higher", r.Throughput.CapacityRPS},
		{"reload-lost-ns", "lower", ns(lost)},
		{"qps-dip-pp", "lower", dip.Value},
		{"predicted-dip-pp", "lower", pred},
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
		{"reload-mutex-wait-ns/s", "lower", ns(r.MutexWait.Window)},
		{"steady-mutex-wait-ns/s", "lower", ns(r.MutexWait.Steady)},
		{"reload-in-lock-share", "lower", s.Goroutines.ShareDuringReload.Value},
		{"reload-waiting-mean-goroutines", "lower", r.Blocked.Window.Mean},
		{"reload-sched-wait-p99-ns", "lower", r.SchedWait.Window.P99Us * 1e3},
		{"steady-sched-wait-p99-ns", "lower", r.SchedWait.Steady.P99Us * 1e3},
		{"traced-lock-blocked-goroutines", "lower", tracedBlocked(r.Traces)},
	}
	out = append(out,
		benchMetric{"reload-window-failed-requests", "lower", float64(s.Errors.WindowFailed)},
		benchMetric{"reload-window-conn-resets", "lower", float64(s.Errors.WindowConnectionResets)},
	)
	if es := s.External; es != nil {
		out = append(out, benchMetric{"change-to-first-new-p50-ns", "lower", quantile(es.FirstNewMs, es.FirstNewMs.P50) * 1e6},
			benchMetric{"change-to-first-new-p99-ns", "lower", quantile(es.FirstNewMs, es.FirstNewMs.P99) * 1e6},
			benchMetric{"change-to-last-old-p50-ns", "lower", quantile(es.LastOldMs, es.LastOldMs.P50) * 1e6},
			benchMetric{"change-to-last-old-max-ns", "lower", quantile(es.LastOldMs, es.LastOldMs.Max) * 1e6})
	}
	kept := out[:0]
	for _, m := range out {
		if s.External != nil && internalUnits[m.unit] {
			continue // the lab's own target's telemetry: not available
		}
		if !math.IsNaN(m.value) && !math.IsInf(m.value, 0) {
			kept = append(kept, m)
		}
	}
	return kept
}

// internalUnits are bench.txt units only the lab's own target reports.
var internalUnits = map[string]bool{
	"predicted-dip-pp": true, "torn-requests": true, "apply-p50-ns": true, "apply-max-ns": true, "detect-p50-ns": true, "detect-p99-ns": true,
	"reload-gc-pause-ns/s": true, "reload-gc-pause-max-ns": true, "steady-gc-pause-ns/s": true, "reload-mutex-wait-ns/s": true,
	"steady-mutex-wait-ns/s": true, "reload-in-lock-share": true, "reload-waiting-mean-goroutines": true,
	"reload-sched-wait-p99-ns": true, "steady-sched-wait-p99-ns": true, "traced-lock-blocked-goroutines": true,
}

// quantile returns v, or NaN when q holds no values.
func quantile(q analysis.Quantiles, v float64) float64 {
	if q.N == 0 {
		return math.NaN()
	}
	return v
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
	cfg := [][2]string{
		{"strategy", s.Strategy}, {"store", s.Store}, {"trigger", s.Trigger}, {"pattern", s.Pattern},
		{"keys", fmt.Sprint(s.Keys)}, {"reload-every", s.ReloadEvery},
	}
	if s.External != nil { // no keys: the external target's own config
		cfg = slices.DeleteFunc(cfg, func(kv [2]string) bool { return kv[0] == "keys" })
	}
	for _, kv := range cfg {
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
func writePlots(dir string, s Summary, se analysis.Series, goroutines []GoroutineSample, samples []telemetry.Sample, timings []phaseTiming, applies []int64) error {
	xy := func(ps []analysis.Point) []plots.XY {
		out := make([]plots.XY, len(ps))
		for i, p := range ps {
			out[i] = plots.XY{X: p.X, Y: p.Y}
		}
		return out
	}
	// inPhases keeps the samples of the measured phases: between them the
	// harness probes open-model rates up to saturation, and thousands of
	// goroutines waiting on idle connections there would flatten the
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
	var inLock []plots.XY
	for _, g := range goroutines {
		inLock = append(inLock, plots.XY{X: g.At.Sub(se.Origin).Seconds(), Y: float64(g.InLock)})
	}
	// This figure spans every measured phase, the diagnosis and goroutines
	// phases included: the goroutine profiles are taken in the last.
	all := tl("goroutines blocked on locks")
	all.Phases, all.Reloads = nil, nil
	if len(timings) > 0 {
		for _, a := range applies {
			if a >= timings[0].Began.UnixNano() && a <= timings[len(timings)-1].Ended.UnixNano() {
				all.Reloads = append(all.Reloads, float64(a-se.Origin.UnixNano())/1e9)
			}
		}
	}
	var lockWait []plots.XY
	o := se.Origin.UnixNano()
	for _, t := range timings {
		if t.Name == "warmup" {
			continue
		}
		all.Phases = append(all.Phases, plots.Phase{Name: t.Name, Start: t.Began.Sub(se.Origin).Seconds(), End: t.Ended.Sub(se.Origin).Seconds()})
		lockWait = append(lockWait, xy(analysis.MutexWaitBins(samples, o, t.Began.UnixNano(), t.Ended.UnixNano()))...)
	}
	return plots.Stacked(filepath.Join(dir, "blocked-goroutines.png"), all, []plots.Panel{
		{Title: "time goroutines spent waiting on sync locks (runtime/metrics /sync/mutex/wait/total, per 100 ms bin)", YLabel: "lock wait (ms per s)",
			Series: []plots.Series{{Name: "lock wait, ms per second", Points: lockWait}}},
		{Title: "goroutines in sync.(*RWMutex)/(*Mutex) lock calls, per goroutine profile (goroutines phase)", YLabel: "goroutines",
			Series: []plots.Series{{Name: "in a lock (goroutine profile)", Points: inLock, Dots: true}}},
		{Title: "secondary: all waiting goroutines (/sched/goroutines/waiting; idle keep-alive connections included)", YLabel: "goroutines",
			Series: []plots.Series{{Name: "waiting goroutines (secondary)", Points: inPhases(xy(se.Waiting))}}},
	})
}

// writeExternalPlots draws the figures an external target's run has data
// for: throughput and latency (changes marked).
func writeExternalPlots(dir string, s Summary, se analysis.Series) error {
	xy := func(ps []analysis.Point) []plots.XY {
		out := make([]plots.XY, len(ps))
		for i, p := range ps {
			out[i] = plots.XY{X: p.X, Y: p.Y}
		}
		return out
	}
	tl := func(title string) plots.Timeline {
		t := plots.Timeline{Title: fmt.Sprintf("%s (external) — %s (changes marked)", s.Strategy, title), Reloads: se.Reloads, XLabel: "time since the throughput phase began (s)"}
		for _, p := range se.PhaseBounds {
			t.Phases = append(t.Phases, plots.Phase{Name: p.Name, Start: p.Start, End: p.End})
		}
		return t
	}
	if err := plots.Latency(filepath.Join(dir, "latency.png"), tl("request latency"), xy(se.Requests), xy(se.P50), xy(se.P99)); err != nil {
		return err
	}
	return plots.Throughput(filepath.Join(dir, "throughput.png"), tl("completed requests per 100 ms bin"), xy(se.Throughput))
}

// summaryMarkdown is summary.md: one screen saying what the figures say.
func summaryMarkdown(s Summary, timings []phaseTiming, diag *diagnosis) string {
	r := s.Results
	var b strings.Builder
	fmt.Fprintf(&b, "# bench: %s\n\n", s.Strategy)
	fmt.Fprintf(&b, "**Verdict:** %s\n\n", s.Verdict)
	cpus := fmt.Sprintf("the target on CPUs %v (GOMAXPROCS %d), the load generator on CPUs %v", s.TargetCPUs, s.GOMAXPROCS, s.LoadCPUs)
	if s.SharedCPUs {
		cpus += " — **shared**"
	}
	fmt.Fprintf(&b, "Store `%s`, trigger `%s`, write pattern `%s`, %d keys, a write every %s, %d keys read per request (consistent view: %v), %s of CPU work per request; %s. Made by `%s`.\n\n",
		s.Store, s.Trigger, s.Pattern, s.Keys, s.ReloadEvery, s.KeysPerRequest, s.ConsistentView, s.RequestWork, cpus, s.Made)
	tp := r.Throughput
	fmt.Fprintf(&b, "## What a reload costs (closed model at saturation: capacity %.0f req/s)\n\n", tp.CapacityRPS)
	if len(tp.Kinds) > 0 {
		b.WriteString("| shot | n (dropped, unmatched) | lost throughput per shot | QPS dip (share of a 1 s QPS sample) | target's CPU per shot (read / parse / apply) | GC CPU, window − control | predicted dip (CPU; + GC) |\n|---|---|---|---|---|---|---|\n")
		for _, k := range tp.Kinds {
			name := k.Kind
			if k.Kind == analysis.KindBurn {
				name = fmt.Sprintf("burn %s", k.Injected)
			}
			fmt.Fprintf(&b, "| %s | %d (%d, %d) | %s ms | %s pp | %.3f ms (%.3f / %.3f / %.3f) | %s ms | %.2f; %.2f pp |\n",
				name, k.N, k.Dropped, k.Unmatched, est(k.LostMs, 2), est(k.DipPP, 2), k.CPU.Total, k.CPU.Read, k.CPU.Parse, k.CPU.Apply, est(k.GCMs, 2), float64(float64(k.PredictedPP)), float64(float64(k.PredictedWithGCPP)))
		}
		b.WriteString("\nShots: `reload` writes a new version; `identical` rewrites the serving content (the pipeline notices, reads and hashes it, and drops it); `reject` writes a version that parses to its last line and fails validation there (a duplicate key). The dip is lost throughput per shot ÷ the 1 s QPS sample that holds it (with one shot every T, a whole test loses lost ÷ T).\n\n")
	}
	if len(tp.Stages) > 0 {
		b.WriteString("| stage | lost throughput per reload (from controls) | from | the target's CPU per reload |\n|---|---|---|---|\n")
		for _, st := range tp.Stages {
			fmt.Fprintf(&b, "| %s | %s ms | %s | %s ms |\n", st.Name, est(st.FromControls, 2), st.How, num(float64(st.CPUMs), 3))
		}
		b.WriteString("\n")
	}
	b.WriteString("## Around reloads vs steady time\n\n| | reload windows | steady (their controls) |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| latency p50 / p99 / p99.9 (open model, %d req/s = %.0f%% of capacity) | %.2f / %.2f / %.2f ms | %.2f / %.2f / %.2f ms |\n",
		r.Latency.RateRPS, 100*r.Latency.Utilization, r.Latency.Window.P50, r.Latency.Window.P99, r.Latency.Window.P999, r.Latency.Steady.P50, r.Latency.Steady.P99, r.Latency.Steady.P999)
	fmt.Fprintf(&b, "| p99 corrected for coordinated omission | %.2f ms | %.2f ms |\n", r.Latency.WindowCorrected.P99, r.Latency.SteadyCorrected.P99)
	fmt.Fprintf(&b, "| GC stop-the-world pauses | %d, %.2f ms/s, max %.3f ms | %d, %.2f ms/s, max %.3f ms |\n",
		r.GC.Window.Count, r.GC.Window.MsPerS, r.GC.Window.MaxMs, r.GC.Steady.Count, r.GC.Steady.MsPerS, r.GC.Steady.MaxMs)
	fmt.Fprintf(&b, "| lock wait (runtime/metrics /sync/mutex/wait/total) | %.3f ms/s | %.3f ms/s |\n", r.MutexWait.Window, r.MutexWait.Steady)
	fmt.Fprintf(&b, "| runnable wait for a CPU p50 / p99 / max (/sched/latencies) | %.0f / %.0f / %.0f µs | %.0f / %.0f / %.0f µs |\n",
		r.SchedWait.Window.P50Us, r.SchedWait.Window.P99Us, r.SchedWait.Window.MaxUs, r.SchedWait.Steady.P50Us, r.SchedWait.Steady.P99Us, r.SchedWait.Steady.MaxUs)
	fmt.Fprintf(&b, "| secondary: all waiting goroutines, mean (idle connections included) | %.1f | %.1f |\n", r.Blocked.Window.Mean, r.Blocked.Steady.Mean)
	fmt.Fprintf(&b, "| torn requests | %d | %d (target counter, all phases: %d, %s) |\n\n", r.Torn.InWindow, r.Torn.Steady, s.TargetTorn, s.TornCheck)
	fmt.Fprintf(&b, "Reloads in the measured phases: %d written, %d applied, %d rejected, %d never applied; controls %v. Detection (write finished → applied) p50 %.1f ms, p99 %.1f ms; apply p50 %.1f µs, max %.1f µs.\n\n",
		r.Reloads.Written, r.Reloads.Applied, r.Reloads.Rejected, r.Reloads.NotApplied, r.Reloads.Controls, r.Reloads.DetectionMs.P50, r.Reloads.DetectionMs.P99, r.Reloads.ApplyUs.P50, r.Reloads.ApplyUs.Max)
	errorTable(&b, s.Errors)
	if g := s.Goroutines; g.Profiles > 0 {
		fmt.Fprintf(&b, "Goroutine profiles (goroutines phase): %d taken, %d during a reload (%d during a parse inside the store's lock); share of goroutines in a lock: %s during reloads, %s otherwise; peak %d goroutines (%.0f%%).\n\n",
			g.Profiles, g.DuringReload, g.DuringParse, pctEst(g.ShareDuringReload), pctEst(g.ShareSteady), g.MaxInLock, 100*g.MaxShare)
	}
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
	b.WriteString("Figures: `throughput.png` (completed req/s per 100 ms bin), `latency.png` (per-request latency, log scale, p50/p99 per 250 ms bin), `gc-pauses.png` (each GC pause), `blocked-goroutines.png` (time spent waiting on sync locks per bin; goroutines in a lock call per goroutine profile; all waiting goroutines as a secondary panel); reloads are the vertical lines. Open `trace-reload-N.out` with `go tool trace`, the profiles with `go tool pprof`, `attack.bin` with `go tool vegeta report`, and compare runs with `go tool benchstat -col /strategy -table \"\" results/*/bench.txt`.\n\n")
	b.WriteString("Notes:\n\n")
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("- Headline numbers come from the throughput and latency phases; the diagnosis phase (flight recorder, block and mutex profiling, CPU profile) and the goroutines phase (goroutine profiles back to back) only feed the traces and profiles, because tracing and profiling cost CPU on this request path.\n")
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "- Warning: %s\n", w)
	}
	b.WriteString(phasesLine(timings, true))
	b.WriteString(".\n")
	return b.String()
}

// est formats an estimate as "v [lo, hi]" with prec decimals ("n/a" when it
// could not be made).
func est(e stats.Estimate, prec int) string { return e.Format(1, prec, "") }

func pctEst(e stats.Estimate) string { return e.Format(100, 0, "%") }

func num(v float64, prec int) string {
	if !stats.Finite(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// phasesLine is summary.md's "Phases:" sentence (without its final
// period): each phase's length, load model and requests, and with shots
// the kinds of write it dealt.
func phasesLine(timings []phaseTiming, shots bool) string {
	var b strings.Builder
	b.WriteString("\nPhases: ")
	for i, t := range timings {
		if i > 0 {
			b.WriteString(", ")
		}
		model := "closed"
		if t.Open {
			model = fmt.Sprintf("open %d req/s", t.Rate)
		}
		if shots {
			model += ", shots " + strings.Join(t.Mix, "/")
		}
		fmt.Fprintf(&b, "%s %.1f s (%s, %d requests)", t.Name, t.Ended.Sub(t.Began).Seconds(), model, t.Recs)
	}
	return b.String()
}
