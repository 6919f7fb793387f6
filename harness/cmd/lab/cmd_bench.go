package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/anchors"
	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/target"
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

External targets: -strategy=nginx or -strategy=caddy starts that server (harness/anchors;
`+"`make anchors`"+` installs nginx and builds Caddy) pinned to the target's CPUs and
changes it with its own reload; -target-url benches a service already running
elsewhere, changed by -reload-cmd, -reload-url, -reload-signal or -reload-file.
The harness learns when a change is served from the -version-header of the
responses (a probe separate from the load) and skips what it cannot capture
from outside (traces, profiles, runtime/metrics, the pipeline's stages): the
summary lists it as not available.

Presets: `+strings.Join(strategies.Names(), ", ")+`
Anchors: `+strings.Join(anchors.Names(), ", ")+`
Write patterns: `+strings.Join(writepattern.Names(), ", "), stderr)
	var cfg bench.Config
	fs.StringVar(&cfg.Strategy, "strategy", "atomic", "preset or anchor `name` ("+strings.Join(bench.StrategyNames(), ", ")+")")
	fs.StringVar(&cfg.TargetURL, "target-url", "", "bench the service already running at this `URL` (a remote target, named \"remote\"); needs one of -reload-cmd, -reload-url, -reload-signal, -reload-file")
	fs.StringVar(&cfg.ReloadCmd, "reload-cmd", "", "remote target: shell `command` run for each change ({version} and $RELOADLAB_VERSION are the version to serve)")
	fs.StringVar(&cfg.ReloadURL, "reload-url", "", "remote target: `URL` POSTed for each change, body {\"version\":N} ({version} in the URL is replaced too)")
	fs.StringVar(&cfg.ReloadSignal, "reload-signal", "", "remote target: `PID:SIG` sent for each change (e.g. 1234:HUP)")
	fs.StringVar(&cfg.ReloadFile, "reload-file", "", "remote target: `file` rewritten (temporary file + rename) for each change with -reload-file-content")
	fs.StringVar(&cfg.ReloadFileContent, "reload-file-content", "{version}\n", "remote target: the -reload-file's content ({version}: the version to serve)")
	fs.StringVar(&cfg.VersionHeader, "version-header", target.DefaultVersionHeader, "external target: the response `header` naming the config version that answered")
	fs.DurationVar(&cfg.ProbeEvery, "probe-every", target.DefaultProbeEvery, "external target: pace of the keep-alive version probe (a new-connection probe runs every 10ms)")
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
	mixSet := false
	fs.Visit(func(f *flag.Flag) { mixSet = mixSet || f.Name == "mix" })
	for _, k := range strings.Split(*mix, ",") {
		if k = strings.TrimSpace(k); k != "" && (mixSet || (!bench.IsAnchor(cfg.Strategy) && cfg.TargetURL == "")) {
			cfg.Mix = append(cfg.Mix, k) // an external target's default mix is reloads only
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
