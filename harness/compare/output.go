package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"

	"reloadlab/harness/plots"
	"reloadlab/harness/results"
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
// charts) of a finished comparison in dir from its summary.json, without
// re-running anything; timelines.png, which needs the raw runs, is left as it
// is. It is for a change in how figures are drawn, never in what they show.
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
					if v := m.Value(s) * m.BenchScale; finite(v) {
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
	if sweep == "rate" {
		return "reload-every"
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
		return fmt.Sprintf("%s%s **%s** (p=%.3f)", s, r, st.Verdict, st.P)
	}
	return s + " ~"
}

func markdown(run *Run) string {
	var b strings.Builder
	b.WriteString("# Strategy comparison\n\n")
	fmt.Fprintf(&b, "Made by `%s` on %s (%s, Linux %s, %s, %d CPUs), commit `%s`, in %s.\n\n",
		run.Command, run.Started.Format("2006-01-02"), run.Machine.CPU, run.Machine.Kernel, run.Machine.GoVersion, run.Machine.NumCPU, run.Machine.Commit, run.Elapsed)
	fmt.Fprintf(&b, "%d rounds; each round runs every strategy once in a rotated order, plus `%s` a second time (the A/A pair, whose difference is the noise floor). Each run: `lab bench` for %s (warm-up, closed-model throughput, open-model latency at a fixed %d req/s — %s), %d keys, a write every %s with the `%s` pattern, no diagnosis phase.\n\n",
		run.Repeat, run.Baseline, run.RunDuration, run.Rate, run.RateSource, run.Keys, run.ReloadEvery, run.Pattern)
	b.WriteString("Cells: median [confidence interval] over the rounds; `~` = no difference from the baseline (Mann-Whitney U p ≥ 0.05, or within the A/A noise floor); **better**/**worse** with the ratio of medians and p. ")
	if run.Repeat < 6 {
		fmt.Fprintf(&b, "With %d rounds a 95%% interval for a median does not exist; the interval shown is [min, max], a %.1f%% interval.", run.Repeat, 100*MinMaxCoverage(run.Repeat))
	}
	b.WriteString("\n\n")
	for _, pt := range run.Points {
		if run.Sweep != "" {
			fmt.Fprintf(&b, "## %s = %s\n\n", sweepKey(run.Sweep), pt.Value)
		}
		b.WriteString("| metric | A/A noise floor |")
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
			fmt.Fprintf(&b, "| %s (%s, %s is better) | ±%.0f%% |", m.Title, m.Unit, m.Better, 100*mr.Noise.Relative)
			for _, s := range run.Strategies {
				fmt.Fprintf(&b, " %s |", cell(mr.Strategies[s]))
			}
			b.WriteString("\n")
		}
		b.WriteString("\nDifferences from the baseline that are real (p < 0.05 and beyond the A/A noise floor):\n\n")
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
				fmt.Fprintf(&b, "- %s: %s is %s than %s (%s vs %s %s%s, p=%.3f, noise floor ±%.0f%%)\n", m.Title, s, st.Verdict, run.Baseline,
					format(st.Median), format(mr.Strategies[run.Baseline].Median), m.Unit, ratio, st.P, 100*mr.Noise.Relative)
			}
		}
		if n == 0 {
			b.WriteString("- none\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("Figures: `bars-<metric>.png` (medians with their intervals), `timelines.png` (throughput and waiting goroutines of every strategy in the last round, reloads marked)")
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
		if run.Sweep == "rate" {
			xl = "interval between config writes (s, log scale)"
		}
		if err := plots.Lines(filepath.Join(dir, "sweep-"+m.Name+".png"), m.Title+" vs "+sweepKey(run.Sweep), xl, m.Unit, series, true); err != nil {
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
		var d float64
		if dur, err := parseDuration(v); err == nil {
			d = dur
		}
		return d
	}
	var n float64
	fmt.Sscan(v, &n)
	return n
}
