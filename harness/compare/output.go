package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"

	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/mdtable"
	"github.com/reloadlab/reloadlab/harness/plots"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/stats"
)

// write writes every output of the comparison into the stage.
func write(stage *results.Stage, run *Run) error {
	if err := results.WriteJSON(stage.Path("summary.json"), run); err != nil {
		return err
	}
	if err := writeBench(stage.Path("bench.txt"), run); err != nil {
		return err
	}
	if err := results.WriteFile(stage.Path("summary.md"), []byte(markdown(run))); err != nil {
		return err
	}
	if err := writeTimelines(stage.Dir, run); err != nil {
		return err
	}
	return writePlots(stage.Dir, run)
}

// Replot redraws the bar charts (and, for a sweep, the sweep-*.png line
// charts) and rewrites summary.md of a finished comparison in dir from its
// summary.json, without re-running anything; timelines.png and bench.txt,
// which need the raw runs, are left as they are. It is for a change in how
// results are drawn or worded, never in what they measured.
func Replot(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return fmt.Errorf("compare: replot: %w", err)
	}
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return fmt.Errorf("compare: replot: %s: %w", filepath.Join(dir, "summary.json"), err)
	}
	if len(run.Points) == 0 || len(run.Strategies) == 0 {
		return fmt.Errorf("compare: replot: %s holds no comparison", filepath.Join(dir, "summary.json"))
	}
	for _, pt := range run.Points {
		for _, m := range metrics {
			if pt.Metrics[m.Name] == nil {
				return fmt.Errorf("compare: replot: %s lacks the metric %q (made by another version of the lab; run the comparison again)", filepath.Join(dir, "summary.json"), m.Name)
			}
		}
	}
	if err := results.WriteFile(filepath.Join(dir, "summary.md"), []byte(markdown(&run))); err != nil {
		return err
	}
	return writePlots(dir, &run)
}

// writeBench writes every run (not the A/A repeats) as one benchfmt result.
// Only configuration shared by all runs goes into file config lines, so
// `benchstat -col /strategy bench.txt` gives one table.
func writeBench(path string, run *Run) error {
	var buf bytes.Buffer
	buf.WriteString(run.Machine.ConfigLines())
	fmt.Fprintf(&buf, "pattern: %s\nrate: %d\nrepeat: %d\n", run.Pattern, run.Rate, run.Repeat)
	if run.Sweep != "keys" {
		fmt.Fprintf(&buf, "keys: %d\n", run.Keys)
	}
	if run.Sweep != "rate" {
		fmt.Fprintf(&buf, "reload-every: %s\n", run.ReloadEvery)
	}
	w := benchfmt.NewWriter(&buf)
	for _, m := range metrics {
		if err := w.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: m.BenchUnit, Key: "better"}, OrigUnit: m.BenchUnit, Value: m.Better}); err != nil {
			return fmt.Errorf("compare: bench.txt: %w", err)
		}
	}
	for _, pt := range run.Points {
		for _, name := range run.Strategies {
			for _, s := range pt.Runs[name] {
				n := "Reload/strategy=" + name
				if run.Sweep != "" {
					n = "Reload/" + sweepKey(run.Sweep) + "=" + pt.Value + "/strategy=" + name
				}
				res := &benchfmt.Result{Name: benchfmt.Name(n), Iters: max(1, s.Results.Throughput.Requests)}
				for _, m := range metrics {
					if v := m.value(s) * m.BenchScale; finite(v) {
						res.Values = append(res.Values, benchfmt.Value{Value: v, Unit: m.BenchUnit})
					}
				}
				if err := w.Write(res); err != nil {
					return fmt.Errorf("compare: bench.txt: %w", err)
				}
			}
		}
	}
	return results.WriteFile(path, buf.Bytes())
}

func sweepKey(sweep string) string {
	switch sweep {
	case "rate":
		return "reload-every"
	case "util":
		return "utilization"
	}
	return sweep
}

// format renders v with three significant figures.
func format(v float64) string {
	switch {
	case !finite(v):
		return "–"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// cell renders one strategy's stat for a table.
func cell(st *Stat) string {
	if st == nil || !finite(st.Median) {
		return "–"
	}
	s := fmt.Sprintf("%s [%s, %s]", format(st.Median), format(st.Lo), format(st.Hi))
	switch st.Verdict {
	case "baseline":
		return s + " (base)"
	case "better", "worse":
		r := ""
		if finite(st.Ratio) {
			r = fmt.Sprintf(" ×%.2f", st.Ratio)
		}
		return fmt.Sprintf("%s%s **%s** (p=%.3f, Holm %.3f)", s, r, st.Verdict, st.P, st.PHolm)
	}
	return s + " ~"
}

// floorCell renders a noise floor as the ratios it allows: +up% / −down%.
func floorCell(nf NoiseFloor) string {
	if !finite(float64(nf.Log)) {
		return fmt.Sprintf("±%s (absolute)", format(nf.Absolute))
	}
	up, down := stats.FloorPercent(float64(nf.Log))
	return fmt.Sprintf("+%.0f%% / −%.0f%%", up, down)
}

// estCell renders an estimate as "v [lo, hi]".
func estCell(e stats.Estimate) string {
	if !finite(e.Value) {
		return "–"
	}
	if !e.Valid() {
		return format(e.Value)
	}
	return fmt.Sprintf("%s [%s, %s]", format(e.Value), format(e.Lo), format(e.Hi))
}

// dipTable renders the pooled QPS dip of every strategy.
func dipTable(b *strings.Builder, run *Run, dc, open *DipComparison) {
	if dc == nil {
		return
	}
	fmt.Fprintf(b, "### QPS dip: every round's reloads pooled\n\n")
	fmt.Fprintf(b, "Each reload's window is compared with adjacent steady time of the same length in the closed-model phase (package analysis); lost throughput per reload is averaged over every round's reloads, with a 95%% interval that adds the variation between runs to the variation between reloads (stats.TwoLevelMean). The dip is that loss as a share of one %.0f ms QPS sample (the second that holds the reload). A/A: `%s` against its own repeat differs by %s pp; the **A/A floor** (half-width of that difference's interval: the smallest difference between two strategies this comparison resolves) is **±%.2f pp**; the widest single strategy's interval is ±%.2f pp. Differences from the baseline: normal approximation of the pooled difference (the same two-level variance), Holm-adjusted across the strategies.\n\n",
		dc.SampleMs, run.Baseline, estCell(dc.AADiff), float64(dc.AAFloorPP), float64(dc.WidestPP))
	b.WriteString("| strategy | reloads (dropped) | lost per reload (ms) | QPS dip (pp) | predicted from the target's CPU (pp; + GC) | vs baseline (pp) | verdict | dip in the open-model phase, below capacity (pp) |\n|---|---|---|---|---|---|---|---|\n")
	names := append(append([]string(nil), run.Strategies...), aaName(run.Baseline))
	for _, name := range names {
		ds := dc.Strategies[name]
		if ds == nil {
			continue
		}
		r := ds.Reload
		vs, verdict := "–", ds.Verdict
		switch {
		case name == aaName(run.Baseline):
			vs, verdict = estCell(dc.AADiff), "A/A"
		case ds.Verdict != "baseline":
			vs = fmt.Sprintf("%s, p=%.3f (Holm %.3f)", estCell(ds.Diff), float64(ds.P), float64(ds.PHolm))
		}
		if verdict == "better" || verdict == "worse" {
			verdict = "**" + verdict + "**"
		}
		od := "–"
		if open != nil && open.Strategies[name] != nil {
			od = estCell(open.Strategies[name].Reload.DipPP)
		}
		fmt.Fprintf(b, "| %s | %d (%d) | %s | %s | %s; %s | %s | %s | %s |\n", name, r.N, r.Dropped, estCell(r.LostMs), estCell(r.DipPP),
			format(float64(r.PredictedPP)), format(float64(r.PredictedWithGCPP)), vs, verdict, od)
	}
	b.WriteString("\n### Where the dip comes from (per reload, ms of throughput; the target's own CPU accounting in parentheses)\n\n")
	b.WriteString("Controls in the same rounds: `identical` rewrites (noticed, read, hashed, dropped), `reject` parses (parsed to the last line, rejected); stages are differences between kinds. CPU: the pipeline's per-thread CPU clock per stage; GC: the runtime's GC CPU in windows minus controls.\n\n")
	b.WriteString(mdtable.Header(mdtable.With("stage", run.Strategies)...))
	stageNames := []string{"notice + read + hash", "parse + validate", "apply / swap", "garbage collection"}
	for i, sn := range stageNames {
		cells := []string{sn}
		for _, name := range run.Strategies {
			ds := dc.Strategies[name]
			if ds == nil || i >= len(ds.Stages) {
				cells = append(cells, "–")
				continue
			}
			st := ds.Stages[i]
			cells = append(cells, fmt.Sprintf("%s (%s)", estCell(st.FromControls), format(float64(st.CPUMs))))
		}
		b.WriteString(mdtable.Row(cells...))
	}
	cells := []string{"whole reload"}
	for _, name := range run.Strategies {
		if ds := dc.Strategies[name]; ds != nil && ds.External {
			cells = append(cells, fmt.Sprintf("%s (–)", estCell(ds.Reload.LostMs)))
		} else if ds != nil {
			cells = append(cells, fmt.Sprintf("%s (%s)", estCell(ds.Reload.LostMs), format(ds.Reload.CPU.Total)))
		} else {
			cells = append(cells, "–")
		}
	}
	b.WriteString(mdtable.Row(cells...))
	b.WriteString("\n")
}

func markdown(run *Run) string {
	var b strings.Builder
	b.WriteString("# Strategy comparison\n\n")
	fmt.Fprintf(&b, "Made by `%s` on %s (%s, Linux %s, %s, %d CPUs), commit `%s`, in %s.\n\n",
		run.Command, run.Started.Format("2006-01-02"), run.Machine.CPU, run.Machine.Kernel, run.Machine.GoVersion, run.Machine.NumCPU, run.Machine.Commit, run.Elapsed)
	cpus := fmt.Sprintf("target on CPUs %v, load generator on CPUs %v", run.TargetCPUs, run.LoadCPUs)
	if run.SharedCPUs {
		cpus += " (**shared**: the two processes compete for the same CPUs; every figure mixes their costs)"
	}
	fmt.Fprintf(&b, "%d rounds; each round runs every strategy once in a rotated order, plus `%s` a second time (the A/A pair, whose difference is the noise floor). Each run: `lab bench` for %s (warm-up %.0f%%, closed-model throughput %.0f%% with reloads and their controls, open-model latency %.0f%% at a fixed %d req/s = %.0f%% of the baseline's capacity — %s), %d keys, a write every %s with the `%s` pattern, %s of CPU work per request, %s, no diagnosis phase.\n\n",
		run.Repeat, run.Baseline, run.RunDuration, 100*run.Fractions.Warmup, 100*run.Fractions.Throughput, 100*run.Fractions.Latency, run.Rate, 100*run.Utilization, run.RateSource, run.Keys, run.ReloadEvery, run.Pattern, run.RequestWork, cpus)
	var anchors []string
	for _, s := range run.Strategies {
		if bench.IsAnchor(s) {
			anchors = append(anchors, "`"+s+"`")
		}
	}
	if len(anchors) > 0 {
		fmt.Fprintf(&b, "%s: external targets (package anchors), started pinned to the target's CPUs and changed with their own reload every %s instead of a config write; they get no controls and no diagnosis. Their reload windows are the harness's own, [change issued − 10 ms, first new-version response + 40 ms] (a probe separate from the load reads the version header), and the metrics only the lab's own target reports (reload events, runtime/metrics, torn requests, CPU accounting) are – for them: not available, never zero.\n\n",
			strings.Join(anchors, ", "), run.ReloadEvery)
	}
	for _, pt := range run.Points {
		if run.Sweep != "" {
			fmt.Fprintf(&b, "## %s = %s\n\n", sweepKey(run.Sweep), pt.Value)
		}
		dipTable(&b, run, pt.Dip, pt.OpenDip)
		clientTable(&b, run, pt.Clients)
		b.WriteString("### Every other metric: median over rounds\n\n")
		b.WriteString("Cells: median [confidence interval] over the rounds; `~` = no difference from the baseline; **better**/**worse** with the ratio of medians, the Mann-Whitney U p and its Holm-adjusted value. ")
		if run.Repeat < 6 {
			fmt.Fprintf(&b, "With %d rounds a 95%% interval for a median does not exist; the interval shown is [min, max], a %.1f%% interval. ", run.Repeat, 100*MinMaxCoverage(run.Repeat))
		}
		b.WriteString("\n\n| metric | A/A noise floor |")
		for _, s := range run.Strategies {
			fmt.Fprintf(&b, " %s |", s)
		}
		b.WriteString("\n|---|---|")
		for range run.Strategies {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, m := range metrics {
			mr := pt.Metrics[m.Name]
			fmt.Fprintf(&b, "| %s (%s, %s is better) | %s |", m.Title, m.Unit, m.Better, floorCell(mr.Noise))
			for _, s := range run.Strategies {
				fmt.Fprintf(&b, " %s |", cell(mr.Strategies[s]))
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "\nA difference is real when its Holm-adjusted p < %.2f — each metric's %d comparisons against `%s` are one family, so a raw p must clear a stricter bar — *and* the ratio of medians lies beyond the A/A noise floor on the log scale (the largest |ln(A/A′)| of the rounds, shown as the ratios it allows above and below 1; symmetric, so a lower-is-better metric can improve past a floor above 100%%). Real differences:\n\n", Alpha, len(run.Strategies)-1, run.Baseline)
		n := 0
		for _, m := range metrics {
			mr := pt.Metrics[m.Name]
			for _, s := range run.Strategies {
				st := mr.Strategies[s]
				if st.Verdict != "better" && st.Verdict != "worse" {
					continue
				}
				n++
				ratio := ""
				if finite(st.Ratio) {
					ratio = fmt.Sprintf(", ×%.2f", st.Ratio)
				}
				fmt.Fprintf(&b, "- %s: %s is %s than %s (%s vs %s %s%s, p=%.3f, Holm %.3f, noise floor %s)\n", m.Title, s, st.Verdict, run.Baseline,
					format(st.Median), format(mr.Strategies[run.Baseline].Median), m.Unit, ratio, st.P, st.PHolm, floorCell(mr.Noise))
			}
		}
		if pt.Dip != nil {
			for _, s := range run.Strategies {
				if ds := pt.Dip.Strategies[s]; ds != nil && (ds.Verdict == "better" || ds.Verdict == "worse") {
					n++
					fmt.Fprintf(&b, "- QPS dip: %s is %s than %s (%s pp vs %s pp, difference %s, Holm p %.3f)\n", s, ds.Verdict, run.Baseline,
						format(ds.Reload.DipPP.Value), format(pt.Dip.Strategies[run.Baseline].Reload.DipPP.Value), estCell(ds.Diff), float64(ds.PHolm))
				}
			}
		}
		if n == 0 {
			b.WriteString("- none\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("Figures: `bars-<metric>.png` (medians with their intervals; `bars-qps-dip.png`: the pooled dips with theirs), `timelines.png` (throughput and lock waits of every strategy in the last round, reloads marked)")
	if run.Sweep != "" {
		b.WriteString(", `sweep-<metric>.png` (each metric against the swept value)")
	}
	b.WriteString(". Raw data: `bench.txt` (`go tool benchstat -col /strategy results/compare/bench.txt`), `summary.json`, and every run's own directory under `raw/` (not committed).\n")
	if len(run.Warnings) > 0 {
		b.WriteString("\nWarnings:\n\n")
		sort.Strings(run.Warnings)
		for _, w := range run.Warnings {
			fmt.Fprintf(&b, "- %s\n", w)
		}
	}
	return b.String()
}

func writePlots(dir string, run *Run) error {
	if len(run.Points) == 0 {
		return nil
	}
	pt := run.Points[0]
	if pt.Dip != nil {
		var bars []plots.Bar
		for _, s := range append(append([]string(nil), run.Strategies...), aaName(run.Baseline)) {
			if ds := pt.Dip.Strategies[s]; ds != nil {
				bars = append(bars, plots.Bar{Label: s, Value: ds.Reload.DipPP.Value, Lo: ds.Reload.DipPP.Lo, Hi: ds.Reload.DipPP.Hi})
			}
		}
		title := fmt.Sprintf("QPS dip per reload, share of a 1 s QPS sample (lower is better; every reload of %d rounds pooled; A/A floor ±%.2f pp)", run.Repeat, float64(pt.Dip.AAFloorPP))
		if err := plots.Bars(filepath.Join(dir, "bars-qps-dip.png"), title, "pp", bars, plots.IntervalLabel("95% interval (between runs and between reloads)")); err != nil {
			return err
		}
	}
	for _, m := range metrics {
		var bars []plots.Bar
		coverage := 0.0
		for _, s := range run.Strategies {
			st := pt.Metrics[m.Name].Strategies[s]
			bars = append(bars, plots.Bar{Label: s, Value: st.Median, Lo: st.Lo, Hi: st.Hi})
			coverage = max(coverage, st.Confidence)
		}
		interval := "median's confidence interval"
		if coverage > 0 {
			interval = fmt.Sprintf("%.1f%% interval of the median", 100*coverage)
		}
		title := fmt.Sprintf("%s (%s is better; %d rounds)", m.Title, m.Better, run.Repeat)
		if run.Sweep != "" {
			title += fmt.Sprintf(", %s = %s", sweepKey(run.Sweep), pt.Value)
		}
		if err := plots.Bars(filepath.Join(dir, "bars-"+m.Name+".png"), title, m.Unit, bars, plots.IntervalLabel(interval)); err != nil {
			return err
		}
	}
	if run.Sweep == "" {
		return nil
	}
	if err := sweepDipPlot(dir, run); err != nil {
		return err
	}
	for _, m := range metrics {
		var series []plots.Series
		for _, s := range run.Strategies {
			se := plots.Series{Name: s}
			for _, pt := range run.Points {
				x := sweepX(run.Sweep, pt.Value)
				se.Points = append(se.Points, plots.XY{X: x, Y: pt.Metrics[m.Name].Strategies[s].Median})
			}
			series = append(series, se)
		}
		xl := "keys in the config (log scale)"
		switch run.Sweep {
		case "rate":
			xl = "interval between config writes (s, log scale)"
		case "util":
			xl = "open-model utilization (offered rate ÷ capacity)"
		}
		if err := plots.Lines(filepath.Join(dir, "sweep-"+m.Name+".png"), m.Title+" vs "+sweepKey(run.Sweep), xl, m.Unit, series, run.Sweep != "util"); err != nil {
			return err
		}
	}
	return nil
}

// writeTimelines draws timelines.png from the last round's raw series.
func writeTimelines(dir string, run *Run) error {
	var rows []plots.Row
	for _, tl := range run.timelines {
		row := plots.Row{Name: tl.name, Reloads: tl.series.Reloads}
		for _, p := range tl.series.Throughput {
			row.Throughput = append(row.Throughput, plots.XY{X: p.X, Y: p.Y})
		}
		for _, p := range tl.series.MutexWait {
			row.LockWait = append(row.LockWait, plots.XY{X: p.X, Y: p.Y})
		}
		rows = append(rows, row)
	}
	return plots.SmallMultiples(filepath.Join(dir, "timelines.png"), "Every strategy, last round: completed req/s and time spent waiting on sync locks (reloads marked)", rows)
}

func sweepX(sweep, v string) float64 {
	if sweep == "rate" {
		if dur, err := parseDuration(v); err == nil {
			return dur
		}
		return math.NaN()
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return math.NaN() // not plotted
	}
	return n
}

// sweepDipPlot draws sweep-qps-dip.png: each strategy's pooled dip against
// the swept value; for a utilization sweep the open-model phase's dip at
// each utilization, and the closed model's (saturation) at 1.
func sweepDipPlot(dir string, run *Run) error {
	var series []plots.Series
	for _, s := range run.Strategies {
		se := plots.Series{Name: s}
		var sat []float64
		for _, pt := range run.Points {
			x := sweepX(run.Sweep, pt.Value)
			src := pt.Dip
			if run.Sweep == "util" {
				src = pt.OpenDip
				if d := pt.Dip; d != nil && d.Strategies[s] != nil {
					sat = append(sat, d.Strategies[s].Reload.DipPP.Value)
				}
			}
			if src != nil && src.Strategies[s] != nil {
				se.Points = append(se.Points, plots.XY{X: x, Y: src.Strategies[s].Reload.DipPP.Value})
			}
		}
		if len(sat) > 0 {
			se.Points = append(se.Points, plots.XY{X: 1, Y: stats.Mean(sat)})
		}
		series = append(series, se)
	}
	xl, title := "keys in the config (log scale)", "QPS dip per reload vs keys (pp of a 1 s QPS sample, every reload pooled)"
	switch run.Sweep {
	case "rate":
		xl, title = "interval between config writes (s, log scale)", "QPS dip per reload vs the write interval (pp of a 1 s QPS sample)"
	case "util":
		xl, title = "utilization: open-model rate ÷ capacity (1 = closed model at saturation)", "QPS dip per reload vs utilization (pp of a 1 s QPS sample, every reload pooled)"
	}
	return plots.Lines(filepath.Join(dir, "sweep-qps-dip.png"), title, xl, "pp", series, run.Sweep != "util")
}
