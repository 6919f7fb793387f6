package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/fleet"
)

func runFleet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fleet", `Run -replicas target processes serving from one config source and change the
config -updates times: once from one etcd key (the etcd trigger, a real etcd
member started here), once from one shared directory watched by the robust
trigger, once from that directory polled by content. For each source and
config size: convergence (change made -> every replica serving it) p50/p99,
skew between the first and the last replica, missed and torn updates, and
each replica's CPU idle and per update. The article's chapter 4.2 loop runs
as written beside the etcd fleet. Then faults on a three-member etcd: the
leader killed, the whole cluster down, the history compacted while a replica
is stopped (with its connection open, and cut), a replica paused.

Writes summary.json, summary.md and convergence.png to -out; an interrupted
run leaves the previous results untouched and kills what it started.

Sources: `+strings.Join(fleet.SourceNames(), ", "), stderr)
	var cfg fleet.Config
	fs.IntVar(&cfg.Replicas, "replicas", fleet.DefaultReplicas, "replica processes")
	fs.IntVar(&cfg.Updates, "updates", fleet.DefaultUpdates, "updates per source and size")
	keys := fs.String("keys", joinInts(fleet.DefaultKeys), "config sizes in keys, comma-separated")
	sources := fs.String("sources", strings.Join(fleet.SourceNames(), ","), "sources, comma-separated")
	fs.BoolVar(&cfg.Faults, "faults", true, "run the fault experiments (needs the etcd source)")
	fs.BoolVar(&cfg.Quick, "quick", false, "3 replicas, 6 updates, 200 keys, short faults (for tests)")
	fs.StringVar(&cfg.Out, "out", fleet.DefaultOut, "output `dir`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.Quick && !flagSet(fs, "replicas") {
		cfg.Replicas = 0
	}
	if cfg.Quick && !flagSet(fs, "updates") {
		cfg.Updates = 0
	}
	if !cfg.Quick || flagSet(fs, "keys") {
		for _, f := range strings.Split(*keys, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return fmt.Errorf("fleet: -keys %q: %q is not a positive number", *keys, f)
			}
			cfg.Keys = append(cfg.Keys, n)
		}
	}
	for _, f := range strings.Split(*sources, ",") {
		if f = strings.TrimSpace(f); f != "" {
			cfg.Sources = append(cfg.Sources, f)
		}
	}
	cfg.Log = stderr
	cfg.CommandLine = strings.TrimSpace("lab fleet " + strings.Join(args, " "))
	start := time.Now()
	sum, err := fleet.Run(ctx, cfg)
	if err != nil {
		return err
	}
	for _, s := range sum.Series {
		fmt.Fprintln(stdout, s.Line())
	}
	for _, f := range sum.Faults {
		fmt.Fprintf(stdout, "fault %s: %s\n", f.Name, f.Outcome)
	}
	fmt.Fprintf(stdout, "results in %s (%.0fs)\n", cfg.Out, time.Since(start).Seconds())
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
