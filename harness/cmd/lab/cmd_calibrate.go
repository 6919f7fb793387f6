package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/calibrate"
)

func runCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calibrate", `Inject sham reloads of known CPU cost into a saturated target (POST
/debug/burn), interleaved with zero-cost controls, and measure them with the
lab's QPS-dip estimator: what it recovers (calibration.png), its A/A noise
floor and the smallest effect it resolves. Writes results/calibrate/
{summary.json,summary.md,calibration.png,plan.json} (raw/ is git-ignored).`, stderr)
	var cfg calibrate.Config
	levels := fs.String("levels", joinFloats(calibrate.DefaultLevels), "injected costs, percent of the target's capacity over a 1 s QPS sample (must include 0)")
	fs.IntVar(&cfg.Shots, "shots", 0, "shots per level (default 100; 6 with -quick)")
	fs.DurationVar(&cfg.Spacing, "spacing", calibrate.DefaultSpacing, "time between shots")
	fs.DurationVar(&cfg.Work, "work", bench.DefaultWork, "CPU `time` each request spends computing in the target (0 for none)")
	fs.BoolVar(&cfg.Quick, "quick", false, "a few shots per level (for tests)")
	fs.StringVar(&cfg.BurnMode, "burn-mode", "clock", "how the target spends a sham's CPU: clock (a locked thread's CPU clock, as the reload pipeline's accounting) or loop (a calibrated loop, no thread lock)")
	targetCPUs := fs.String("target-cpus", "", "CPUs for the target (default: all but a quarter; with -load-cpus)")
	loadCPUs := fs.String("load-cpus", "", "CPUs for the load generator (default: a quarter; with -target-cpus)")
	fs.StringVar(&cfg.Out, "out", calibrate.DefaultOut, "output `dir`")
	render := fs.Bool("render", false, "measure nothing: rewrite summary.md and calibration.png in -out from its summary.json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *render {
		if err := calibrate.Render(cfg.Out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rewrote %s/summary.md and calibration.png\n", cfg.Out)
		return nil
	}
	for _, f := range strings.Split(*levels, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return fmt.Errorf("calibrate: -levels: %q is not a number", f)
		}
		cfg.Levels = append(cfg.Levels, v)
	}
	if cfg.Work == 0 {
		cfg.Work = -1
	}
	var err error
	if cfg.TargetCPUs, cfg.LoadCPUs, err = cpuFlags(*targetCPUs, *loadCPUs); err != nil {
		return err
	}
	cfg.Log = stderr
	cfg.CommandLine = "lab calibrate " + strings.Join(args, " ")
	start := time.Now()
	s, err := calibrate.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\nresults in %s (%.0fs)\n", s.Verdict, cfg.Out, time.Since(start).Seconds())
	return nil
}

func joinFloats(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}
