package calibrate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/harness/plots"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

// plan is plan.json.
type plan struct {
	Levels     []float64         `json:"levels_pct"`
	BurnMode   string            `json:"burn_mode"`
	Shots      int               `json:"shots_per_level"`
	Spacing    string            `json:"spacing"`
	Work       string            `json:"request_work"`
	Workers    int               `json:"closed_model_workers"`
	Keys       int               `json:"keys"`
	TargetCPUs []int             `json:"target_cpus"`
	LoadCPUs   []int             `json:"load_cpus"`
	Geometry   analysis.Geometry `json:"geometry"`
	Sample     string            `json:"qps_sample"`
	Command    string            `json:"command_line"`
	Started    time.Time         `json:"started"`
}

func writeOutputs(stage *results.Stage, s Summary, res *load.Result, shots []analysis.Shot, samples []telemetry.Sample, cfg Config, targetCPUs, loadCPUs []int) error {
	if err := writeRaw(stage.Path("raw"), res, shots, samples); err != nil {
		return err
	}
	if err := results.WriteJSON(stage.Path("summary.json"), s); err != nil {
		return err
	}
	p := plan{Levels: cfg.Levels, BurnMode: cfg.BurnMode, Shots: cfg.Shots, Spacing: cfg.Spacing.String(), Work: cfg.Work.String(), Workers: cfg.Workers, Keys: cfg.Keys,
		TargetCPUs: targetCPUs, LoadCPUs: loadCPUs, Geometry: s.Geometry, Sample: analysis.QPSSample.String(), Command: cfg.CommandLine, Started: s.Started}
	if err := results.WriteJSON(stage.Path("plan.json"), p); err != nil {
		return err
	}
	if err := results.WriteFile(stage.Path("summary.md"), []byte(Markdown(s))); err != nil {
		return err
	}
	return Plot(filepath.Join(stage.Dir, "calibration.png"), s)
}

// Render rewrites summary.md and calibration.png in dir from its
// summary.json, measuring nothing: for a change in how the results are
// worded or drawn.
func Render(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return fmt.Errorf("calibrate: render: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("calibrate: render: %s: %w", filepath.Join(dir, "summary.json"), err)
	}
	if len(s.Levels) == 0 {
		return fmt.Errorf("calibrate: render: %s holds no levels", filepath.Join(dir, "summary.json"))
	}
	s.Verdict = verdictLine(s) // the words follow from the figures
	if err := results.WriteJSON(filepath.Join(dir, "summary.json"), s); err != nil {
		return err
	}
	if err := results.WriteFile(filepath.Join(dir, "summary.md"), []byte(Markdown(s))); err != nil {
		return err
	}
	return Plot(filepath.Join(dir, "calibration.png"), s)
}

// Plot draws calibration.png from a summary.
func Plot(path string, s Summary) error {
	var pts []plots.CalPoint
	for _, l := range s.Levels {
		pts = append(pts, plots.CalPoint{X: l.InjectedPct, Y: l.MeasuredPP.Value, Lo: l.MeasuredPP.Lo, Hi: l.MeasuredPP.Hi, Label: levelName(l.InjectedPct)})
	}
	title := fmt.Sprintf("Calibration: injected reload cost vs the QPS dip the lab measures (%d shots per level; A/A floor ±%.2f pp)", s.ShotsPerLevel, float64(s.AAFloorPP))
	var line *plots.FitLine
	if s.Fit.Slope.Valid() {
		line = &plots.FitLine{Slope: s.Fit.Slope.Value, Intercept: s.Fit.Intercept.Value,
			Label: fmt.Sprintf("least squares: %.3f × injected %+.3f pp", s.Fit.Slope.Value, s.Fit.Intercept.Value)}
	}
	return plots.Calibration(path, title, "injected cost (pp of a 1 s QPS sample)", "measured QPS dip (pp, 95% interval)", pts, float64(s.AAFloorPP), line)
}

// Markdown is summary.md.
func Markdown(s Summary) string {
	var b strings.Builder
	b.WriteString("# Calibration of the QPS-dip estimator\n\n")
	fmt.Fprintf(&b, "**Verdict:** %s.\n\n", s.Verdict)
	fmt.Fprintf(&b, "Made by `%s` on %s (%s, %d CPUs, %s), in %s. The target (%s of CPU work per request, %d target CPU(s)%s) ran the closed model at saturation (%.0f req/s); every %s the harness asked it for a sham reload that spends exactly the injected CPU time (`POST /debug/burn`, mode %s), levels in shuffled blocks, %d shots per level. Each shot's cost is estimated as a reload's is: its window [start − %s, end + %s) against adjacent steady time of the same length; the dip is lost throughput ÷ a 1 s QPS sample.\n\n",
		s.Command, s.Started.Format("2006-01-02"), s.Machine.CPU, s.Machine.NumCPU, s.Machine.GoVersion, s.Elapsed, s.Work, s.TargetCPUs, map[bool]string{true: ", sharing CPUs with the load generator", false: ""}[s.SharedCPUs],
		s.CapacityRPS, s.Spacing, burnModeText(s.BurnMode), s.ShotsPerLevel, s.Geometry.Lead, s.Geometry.Tail)
	b.WriteString("| injected (pp) | injected CPU per shot | shots (dropped) | measured dip (pp) [95% CI] | lost per shot (ms) | per-shot SD (ms) | burn CPU the target accounted | interval excludes 0 | holds the injected value |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, l := range s.Levels {
		fmt.Fprintf(&b, "| %s | %.1f ms | %d (%d) | %s | %s | %.1f | %.2f ms | %s | %s |\n", levelName(l.InjectedPct), l.InjectedMs, l.N, l.Dropped,
			est(l.MeasuredPP, 3), est(l.LostMs, 2), float64(l.SDMs), l.CPUMs, yes(l.Excludes0), yes(l.Covers))
	}
	fmt.Fprintf(&b, "\n- **aa_floor_pp = %s**: the half-width of the zero-cost level's interval — with %d shots, noise alone moves the estimate this far from 0.\n", num(float64(s.AAFloorPP)), s.ShotsPerLevel)
	if stats.Finite(float64(s.ResolutionPP)) {
		fmt.Fprintf(&b, "- **resolution_pp = %s**: the smallest injected effect whose interval excludes 0.\n", num(float64(s.ResolutionPP)))
	} else {
		b.WriteString("- **resolution_pp = n/a**: no injected level's interval excludes 0.\n")
	}
	fmt.Fprintf(&b, "- Fit over %d shots: measured = %s × injected + %s pp.\n", s.Fit.N, est(s.Fit.Slope, 3), est(s.Fit.Intercept, 3))
	if stats.Finite(float64(s.ShotsFor03)) {
		fmt.Fprintf(&b, "- At the zero level's per-shot noise, an interval of ±0.3 pp needs about %.0f shots (one every %s: %s of load per strategy).\n",
			float64(s.ShotsFor03), s.Spacing, shotTime(float64(s.ShotsFor03), s.Spacing))
	}
	if t := s.Tracing; t != nil {
		fmt.Fprintf(&b, "- **Tracing cost**: with the flight recorder on (runtime/trace in flight-recorder mode, as `make bench`'s diagnosis phase runs it), the same target completed %.0f req/s against %.0f with it off (medians over %d blocks of %.0f ms each, the first %.0f ms after each switch not counted, in ABBA order): it costs **%s%%** of capacity (mean over %d pairs, 95%% interval).\n",
			float64(t.OnRPS), float64(t.OffRPS), 2*t.Pairs, t.BlockMs, t.SettleMs, t.CostPct.Format(1, 1, ""), t.Pairs)
	}
	b.WriteString("\nFigure: `calibration.png` (measured against injected, with intervals, the identity line and the A/A floor band). Raw shots, samples and the attack are under `raw/` (not committed).\n")
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "\nWarning: %s\n", w)
	}
	return b.String()
}

func burnModeText(m string) string {
	switch m {
	case "loop":
		return "`loop`: a loop calibrated at start, no thread lock"
	case "":
		return "unrecorded"
	}
	return "`clock`: spinning on a locked OS thread until its CPU clock has advanced, as the reload pipeline's accounting locks its thread"
}

func shotTime(n float64, spacing string) string {
	d, err := time.ParseDuration(spacing)
	if err != nil {
		return "?"
	}
	return (time.Duration(n) * d).Round(time.Second).String()
}

func est(e stats.Estimate, prec int) string { return e.Format(1, prec, "") }

func num(v float64) string {
	if !stats.Finite(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f pp", v)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
