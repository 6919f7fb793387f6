package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/reloadlab/reloadlab/harness/anchors"
	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/strategies"
)

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", `Run every preset (or -strategies) with identical parameters, -repeat times,
interleaved (each round runs every strategy once in a rotated order, plus the
baseline a second time as an A/A pair that sets the noise floor), and write
results/compare/{summary.md,summary.json,bench.txt,bars-*.png,timelines.png}.

Presets: `+strings.Join(strategies.Names(), ", ")+`
Anchors (external targets, only when listed in -strategies): `+strings.Join(anchors.Names(), ", "), stderr)
	var cfg compare.Config
	list := fs.String("strategies", "", "comma-separated presets and anchors (default: every preset, no anchor), e.g. atomic,robust,nginx,caddy")
	fs.StringVar(&cfg.Baseline, "baseline", compare.DefaultBaseline, "reference strategy, also run twice per round as the A/A pair")
	fs.IntVar(&cfg.Repeat, "repeat", 0, "rounds (default 6: Holm over eight strategies needs them; also with -quick)")
	fs.BoolVar(&cfg.Quick, "quick", false, "short runs (6s) for tests and CI")
	fs.DurationVar(&cfg.RunDuration, "run-duration", 0, "duration of each bench run (default 24s; 6s with -quick)")
	fs.DurationVar(&cfg.Work, "work", bench.DefaultWork, "CPU `time` each request spends computing in the target (0 for none)")
	targetCPUs := fs.String("target-cpus", "", "CPUs for the target, e.g. 1 or 0-1 (default: all but a quarter; with -load-cpus)")
	loadCPUs := fs.String("load-cpus", "", "CPUs for the load generator (default: a quarter; with -target-cpus); the same CPUs as the target's share them")
	fs.IntVar(&cfg.Keys, "keys", 0, "keys in the config (default 10000)")
	fs.DurationVar(&cfg.ReloadEvery, "reload-every", 0, "interval between config writes (default 500ms)")
	fs.StringVar(&cfg.Pattern, "pattern", "", "write pattern (default rename)")
	fs.IntVar(&cfg.Rate, "rate", 0, "open-model rate in req/s (default: probed once on the baseline: two thirds of the highest rate a short probe did not saturate)")
	fs.StringVar(&cfg.Sweep, "sweep", "", "repeat the comparison over keys (1k, 10k, 100k), rate (reload every 100ms, 500ms, 2s) or util (open-model rate at 25, 50, 75, 90% of each run's capacity)")
	replot := fs.String("replot", "", "redraw the bar and sweep charts of the finished comparison in `dir` from its summary.json, without running anything")
	fs.StringVar(&cfg.Out, "out", "", "output `dir` (default results/compare, or results/compare-sweep-<sweep>)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *replot != "" {
		if err := compare.Replot(*replot); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "redrew the charts in %s\n", *replot)
		return nil
	}
	if *list != "" {
		for _, s := range strings.Split(*list, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.Strategies = append(cfg.Strategies, s)
			}
		}
	}
	if cfg.Work == 0 {
		cfg.Work = -1 // an explicit 0: no work
	}
	var err error
	if cfg.TargetCPUs, cfg.LoadCPUs, err = cpuFlags(*targetCPUs, *loadCPUs); err != nil {
		return err
	}
	if _, err := compare.SweepValues(cfg.Sweep); err != nil {
		return err
	}
	cfg.Log = stderr
	cfg.CommandLine = "lab compare " + strings.Join(args, " ")
	run, err := compare.Compare(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "compared %d strategies × %d rounds in %s\n", len(run.Strategies), run.Repeat, run.Elapsed)
	return nil
}
