package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"reloadlab/harness/bench"
	"reloadlab/harness/writepattern"
	"reloadlab/strategies"
	"reloadlab/strategies/store"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", `Run one reload strategy under HTTP load while its config changes, and write
plan.json, attack.bin, reloads.jsonl, metrics.jsonl, trace-reload-N.out,
cpu/heap/block/mutex/goroutine.pprof, summary.json, summary.md, bench.txt and
latency/throughput/gc-pauses/blocked-goroutines.png into -out.

Phases (fractions of -duration): warmup 1/12, throughput 1/3 (closed model),
latency 1/3 (open model at -rate), diagnosis 1/4 (flight recorder, block and
mutex profiling, CPU profile; never used for headline numbers).

Presets: `+strings.Join(strategies.Names(), ", ")+`
Write patterns: `+strings.Join(writepattern.Names(), ", "), stderr)
	var cfg bench.Config
	fs.StringVar(&cfg.Strategy, "strategy", "atomic", "preset `name`")
	fs.StringVar(&cfg.Store, "store", "", "override the preset's store ("+strings.Join(store.Names(), ", ")+")")
	fs.StringVar(&cfg.Trigger, "trigger", "", "override the preset's trigger (fsnotify, dirwatch, poll, pollhash, signal, robust)")
	fs.IntVar(&cfg.Keys, "keys", bench.DefaultKeys, "keys in the generated config")
	fs.IntVar(&cfg.KeysPerRequest, "keys-per-request", bench.DefaultKeysPerRequest, "keys each request reads")
	fs.DurationVar(&cfg.ReloadEvery, "reload-every", bench.DefaultReloadEvery, "interval between config writes")
	fs.StringVar(&cfg.Pattern, "pattern", bench.DefaultPattern, "write `pattern` used to change the config")
	fs.IntVar(&cfg.Rate, "rate", 0, "open-model rate in req/s (0: half the capacity measured in the throughput phase)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "total duration of all phases (0: 60s, or 6s with -quick)")
	fs.BoolVar(&cfg.Quick, "quick", false, "run the same phases in a few seconds (for tests)")
	fs.IntVar(&cfg.Workers, "workers", bench.DefaultWorkers, "closed-model workers")
	fs.IntVar(&cfg.Captures, "captures", bench.DefaultCaptures, "reloads captured by the flight recorder in the diagnosis phase")
	fs.StringVar(&cfg.Out, "out", "", "output `dir` (default results/<strategy>)")
	targetArgs := fs.String("target-args", "", "extra flags for the target, space separated (e.g. \"-poll-interval=100ms -debounce=50ms\")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.TargetFlags = strings.Fields(*targetArgs)
	cfg.Log = stderr
	cfg.CommandLine = "lab bench " + strings.Join(args, " ")
	start := time.Now()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\nresults in %s (%.0fs)\n", rep.Summary.Verdict, rep.Dir, time.Since(start).Seconds())
	return nil
}
