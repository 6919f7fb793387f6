package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/store"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", `Run one reload strategy under HTTP load while its config changes, and write
plan.json, attack.bin, reloads.jsonl, metrics.jsonl, trace-reload-N.out,
cpu/heap/block/mutex/goroutine.pprof, summary.json, summary.md, bench.txt and
latency/throughput/gc-pauses/blocked-goroutines.png into -out.

Phases (fractions of -duration): warmup 1/12; throughput 1/3 (closed model at
saturation; the QPS dip and its decomposition: reloads and their controls in
-mix, one every -reload-every); latency 1/3 (open model at -rate, or
-utilization × the capacity, or probed: two thirds of the highest rate a short
probe did not saturate); diagnosis 1/6 (flight recorder, block and mutex
profiling, CPU profile) and goroutines 1/12 (closed model, goroutine profiles
back to back); the last two are never used for headline numbers.

Presets: `+strings.Join(strategies.Names(), ", ")+`
Write patterns: `+strings.Join(writepattern.Names(), ", "), stderr)
	var cfg bench.Config
	fs.StringVar(&cfg.Strategy, "strategy", "atomic", "preset `name`")
	fs.StringVar(&cfg.Store, "store", "", "override the preset's store ("+strings.Join(store.Names(), ", ")+")")
	fs.StringVar(&cfg.Trigger, "trigger", "", "override the preset's trigger ("+strings.Join(strategies.TriggerNames(), ", ")+")")
	etcdEndpoints := fs.String("etcd-endpoints", os.Getenv("ETCD"), "the etcd trigger: comma-separated `host:port` list of an existing cluster (default $ETCD; empty: the run starts one member on loopback)")
	fs.IntVar(&cfg.Keys, "keys", bench.DefaultKeys, "keys in the generated config")
	fs.IntVar(&cfg.KeysPerRequest, "keys-per-request", bench.DefaultKeysPerRequest, "keys each request reads")
	fs.DurationVar(&cfg.ReloadEvery, "reload-every", bench.DefaultReloadEvery, "interval between config writes")
	fs.StringVar(&cfg.Pattern, "pattern", bench.DefaultPattern, "write `pattern` used to change the config")
	fs.IntVar(&cfg.Rate, "rate", 0, "open-model rate in req/s (0: -utilization, or probed: two thirds of the highest rate a short probe did not saturate)")
	fs.Float64Var(&cfg.Utilization, "utilization", 0, "open-model rate as a share of the capacity the throughput phase measured (0: probed)")
	fs.DurationVar(&cfg.Work, "work", bench.DefaultWork, "CPU `time` each request spends computing in the target (0 for none)")
	fs.DurationVar(&cfg.ReloadBurn, "reload-burn", 0, "extra CPU `time` every applied reload spends in the target (calibration)")
	mix := fs.String("mix", strings.Join(bench.DefaultMix, ","), "shot kinds of the throughput phase, dealt in shuffled blocks (reload, identical, reject)")
	targetCPUs := fs.String("target-cpus", "", "CPUs for the target, e.g. 1 or 0-1 (default: all but a quarter; with -load-cpus)")
	loadCPUs := fs.String("load-cpus", "", "CPUs for the load generator, e.g. 0 (default: a quarter; with -target-cpus); the same CPUs as the target's share them")
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
	cfg.EtcdEndpoints = etcdEndpointList(*etcdEndpoints)
	if cfg.Work == 0 {
		cfg.Work = -1 // an explicit 0: no work
	}
	var err error
	if cfg.TargetCPUs, cfg.LoadCPUs, err = cpuFlags(*targetCPUs, *loadCPUs); err != nil {
		return err
	}
	for _, k := range strings.Split(*mix, ",") {
		if k = strings.TrimSpace(k); k != "" {
			cfg.Mix = append(cfg.Mix, k)
		}
	}
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

// etcdEndpointList parses "host:port,…" (or full URLs) into client URLs.
func etcdEndpointList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "://") {
			f = "http://" + f
		}
		out = append(out, f)
	}
	return out
}
