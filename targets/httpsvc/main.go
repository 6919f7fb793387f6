package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/reloadlab/reloadlab/internal/cpuwork"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/safefile"
	"github.com/reloadlab/reloadlab/strategies/trigger"
	"github.com/reloadlab/reloadlab/strategies/trigger/etcdwatch"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "httpsvc:", err)
		os.Exit(1)
	}
}

// options are the parsed command-line flags.
type options struct {
	config          string
	strategy        string
	store           string
	trigger         string
	keys            int
	addr            string
	pollInterval    time.Duration
	debounce        time.Duration
	safetyInterval  time.Duration
	delay           time.Duration
	sizeLimit       int64
	metricsInterval time.Duration
	metricsKeep     int
	eventsKeep      int
	work            time.Duration
	reloadBurn      time.Duration
	etcdEndpoints   string
	etcdKey         string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("httpsvc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "config file `path` (required unless the trigger is etcd)")
	fs.StringVar(&o.etcdEndpoints, "etcd-endpoints", "", "comma-separated etcd client `URLs` (the etcd trigger)")
	fs.StringVar(&o.etcdKey, "etcd-key", "/reloadlab/config", "etcd `key` holding the config (the etcd trigger)")
	fs.StringVar(&o.strategy, "strategy", "atomic", "preset `name`")
	fs.StringVar(&o.store, "store", "", "override the preset's store")
	fs.StringVar(&o.trigger, "trigger", "", "override the preset's trigger")
	fs.IntVar(&o.keys, "keys", 4, "keys read per request")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "loopback `host:port` to listen on")
	fs.DurationVar(&o.pollInterval, "poll-interval", trigger.DefaultPollInterval, "poll and pollhash interval")
	fs.DurationVar(&o.debounce, "debounce", trigger.DefaultDebounce, "dirwatch and robust debounce")
	fs.DurationVar(&o.safetyInterval, "safety-interval", trigger.DefaultSafetyInterval, "robust's safety poll interval")
	fs.DurationVar(&o.delay, "delay", trigger.DefaultDelay, "fsnotify (scheme 1) re-read delay")
	fs.Int64Var(&o.sizeLimit, "size-limit", safefile.DefaultLimit, "largest config file accepted, in `bytes`")
	fs.DurationVar(&o.metricsInterval, "metrics-interval", telemetry.DefaultInterval, "runtime/metrics sampling period")
	fs.IntVar(&o.metricsKeep, "metrics-keep", telemetry.DefaultKeep, "runtime/metrics samples kept in memory")
	fs.IntVar(&o.eventsKeep, "events-keep", 1024, "reload events kept in memory")
	fs.DurationVar(&o.reloadBurn, "reload-burn", 0, "extra CPU `time` every applied reload spends after its apply (calibration)")
	fs.DurationVar(&o.work, "work", 0, "CPU `time` each request spends computing (a calibrated loop), to bring capacity within the load generator's reach")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.config == "" && o.etcdEndpoints == "" {
		return o, errors.New("-config is required (or -etcd-endpoints for the etcd trigger)")
	}
	if o.work < 0 || o.reloadBurn < 0 {
		return o, errors.New("-work and -reload-burn must not be negative")
	}
	if o.keys < 1 {
		return o, fmt.Errorf("-keys must be at least 1, got %d", o.keys)
	}
	if err := checkLoopback(o.addr); err != nil {
		return o, err
	}
	return o, nil
}

// checkLoopback refuses to listen anywhere but on the loopback interface.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: only loopback addresses (127.0.0.1, ::1, localhost) are allowed", addr)
	}
	return nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	strat, err := strategies.Resolve(o.strategy, o.store, o.trigger)
	if err != nil {
		return err
	}
	etcd := strat.Trigger == etcdwatch.Name
	if etcd && o.etcdEndpoints == "" {
		return errors.New("the etcd trigger needs -etcd-endpoints")
	}
	if !etcd && o.config == "" {
		return fmt.Errorf("the %s trigger needs -config", strat.Trigger)
	}
	var keys []string
	source := o.config
	if etcd {
		source = "etcd:" + o.etcdKey
	} else if keys, err = requestKeys(o.config, o.keys, o.sizeLimit); err != nil {
		return err
	}

	sampler := telemetry.NewSampler(o.metricsInterval, o.metricsKeep)
	sampler.Start()
	defer sampler.Stop()
	flight := telemetry.NewFlightRecorder(0)
	defer flight.Stop()

	rel, err := strat.NewReloader(source,
		strategies.WithEtcd(splitList(o.etcdEndpoints), o.etcdKey),
		strategies.WithSizeLimit(o.sizeLimit),
		strategies.WithEventLog(o.eventsKeep),
		strategies.WithExtraCost(o.reloadBurn),
		strategies.WithTriggerOptions(
			trigger.WithPollInterval(o.pollInterval),
			trigger.WithDebounce(o.debounce),
			trigger.WithSafetyInterval(o.safetyInterval),
			trigger.WithDelay(o.delay),
		),
		strategies.WithObserver(func(e strategies.Event) {
			switch e.Outcome {
			case strategies.Applied:
				flight.OnReload(e.Seq, e.Version, e.ApplyEnd)
				log.Info("reload applied", "version", e.Version, "reason", e.Reason, "apply", e.ApplyDuration())
			case strategies.Rejected:
				log.Warn("reload rejected", "serving", e.Version, "reason", e.Reason, "error", e.Error)
			case strategies.TriggerError:
				log.Warn("trigger error", "error", e.Error)
			case strategies.Stale:
				// Once per stale episode: the operator's one line.
				log.Error("config file cannot be followed: mount the directory, not the file; serving the last good config until then",
					"path", o.config, "serving", e.Version, "reason", e.Reason)
			}
		}),
	)
	if err != nil {
		return err
	}
	// Handle SIGTERM/SIGINT before anything can be signalled.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := rel.Start(); err != nil {
		return err
	}
	defer rel.Close()
	if etcd {
		// The config came from etcd: pick the request keys from what was applied.
		if keys, err = keysOf(rel, o.keys); err != nil {
			return err
		}
	}

	srv := newServer(strat, rel, keys, sampler, flight)
	srv.reloadBurn = o.reloadBurn
	if o.work > 0 {
		srv.work = cpuwork.NewWork(o.work, cpuwork.IterationsPerMicrosecond())
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv.routes(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "strategy", strat.Name, "store", strat.Store, "trigger", strat.Trigger, "keys", keys)
	if _, err := fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr()); err != nil {
		return fmt.Errorf("announce address: %w", err)
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// keysOf picks the request keys from the config a Source-backed Reloader
// loaded at Start.
func keysOf(rel *strategies.Reloader, n int) ([]string, error) {
	src, ok := rel.Source()
	if !ok {
		return nil, errors.New("the trigger delivers no config value")
	}
	c, err := src.Current()
	if err != nil {
		return nil, err
	}
	return pickKeys(c.Data, c.Origin, n)
}

// requestKeys picks n keys spread evenly over the sorted keys of the initial
// config, so requests touch the whole key space.
func requestKeys(path string, n int, limit int64) ([]string, error) {
	data, err := safefile.Read(path, limit)
	if err != nil {
		return nil, err
	}
	return pickKeys(data, path, n)
}

// pickKeys parses data (from where) and picks n keys spread evenly over
// its sorted keys.
func pickKeys(data []byte, path string, n int) ([]string, error) {
	snap, err := config.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("initial config %s: %w", path, err)
	}
	all := snap.Keys()
	if len(all) == 0 {
		return nil, fmt.Errorf("initial config %s has no keys to read", path)
	}
	n = min(n, len(all))
	keys := make([]string, 0, n)
	for i := 0; i < n; i++ {
		keys = append(keys, all[i*len(all)/n])
	}
	return slices.Compact(keys), nil
}
