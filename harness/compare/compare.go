package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/machine"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/target"
	"github.com/reloadlab/reloadlab/strategies"
)

// Defaults of Config.
const (
	// DefaultRepeat is 6 rounds: with fewer, Mann-Whitney U against the
	// baseline cannot reach p < 0.05 after Holm's adjustment over eight
	// strategies (its smallest p for 5 against 5 is 0.008 > 0.05/8), and a
	// median has no 95% interval.
	DefaultRepeat = 6
	// QuickRepeat is 6 rounds too: fewer, and no quick re-run could find
	// any difference significant after Holm's adjustment.
	QuickRepeat          = 6
	DefaultRunDuration   = 24 * time.Second
	QuickRunDuration     = 6 * time.Second
	DefaultBaseline      = "atomic"
	DefaultOut           = "results/compare"
	perRunOverheadFactor = 1.25 // start-up, probes and analysis, for the ETA
)

// Config is one comparison's parameters. Zero fields take the defaults.
type Config struct {
	Strategies  []string      // presets to compare (default: all)
	Baseline    string        // the reference and A/A strategy (default atomic)
	Repeat      int           // rounds (DefaultRepeat, QuickRepeat with Quick)
	Quick       bool          // short runs (QuickRunDuration) and QuickRepeat rounds
	RunDuration time.Duration // bench duration of each run
	Keys        int           // keys in the config (bench default)
	ReloadEvery time.Duration // write interval (bench default)
	Pattern     string        // write pattern (bench default)
	Rate        int           // open-model rate; 0 = calibrate once on the baseline
	Work        time.Duration // CPU per request in the target (bench.Config.Work)
	TargetCPUs  []int         // CPUs of the target (bench.Config.TargetCPUs)
	LoadCPUs    []int         // CPUs of the load generator (bench.Config.LoadCPUs)
	Sweep       string        // "", "keys", "rate" or "util"
	Out         string        // default results/compare, or results/compare-sweep-<sweep>
	Log         io.Writer
	CommandLine string
}

// SweepValues returns the values a sweep visits, as bench config changes.
func SweepValues(sweep string) ([]string, error) {
	switch sweep {
	case "":
		return []string{""}, nil
	case "keys":
		return []string{"1000", "10000", "100000"}, nil
	case "rate":
		return []string{"100ms", "500ms", "2s"}, nil
	case "util":
		return []string{"0.25", "0.5", "0.75", "0.9"}, nil
	}
	return nil, fmt.Errorf("compare: unknown sweep %q (valid: keys, rate, util)", sweep)
}

// Run is the whole comparison's result (summary.json).
type Run struct {
	Baseline    string          `json:"baseline"`
	Strategies  []string        `json:"strategies"`
	Repeat      int             `json:"repeat"`
	RunDuration string          `json:"run_duration"`
	Keys        int             `json:"keys"`
	ReloadEvery string          `json:"reload_every"`
	Pattern     string          `json:"pattern"`
	Rate        int             `json:"rate_rps"`
	RateSource  string          `json:"rate_source"`
	Utilization float64         `json:"utilization"` // the open-model rate ÷ the calibration run's capacity
	RequestWork string          `json:"request_work"`
	TargetCPUs  []int           `json:"target_cpus"`
	LoadCPUs    []int           `json:"load_cpus"`
	SharedCPUs  bool            `json:"shared_cpus"`
	Fractions   bench.Fractions `json:"phase_fractions"`
	Sweep       string          `json:"sweep,omitempty"`
	Points      []Point         `json:"points"` // one per sweep value (one without a sweep)
	Machine     machine.Info    `json:"machine"`
	Command     string          `json:"command"`
	Started     time.Time       `json:"started"`
	Elapsed     string          `json:"elapsed"`
	Metrics     []MetricInfo    `json:"metrics"`
	Warnings    []string        `json:"warnings,omitempty"`
	timelines   []timelineRow   // last round of the first point, for the figure
}

// MetricInfo describes a metric in summary.json.
type MetricInfo struct {
	Name, Title, Unit, Better string
}

// Point is the comparison at one sweep value.
type Point struct {
	Value   string                     `json:"value,omitempty"`   // the swept value
	Order   [][]string                 `json:"order"`             // the run order of each round
	Metrics map[string]*MetricResult   `json:"metrics"`           // by Metric.Name
	Dip     *DipComparison             `json:"dip"`               // every round's reloads pooled, closed model at saturation
	OpenDip *DipComparison             `json:"open_dip"`          // the same in the open-model phase, at the fixed rate
	Clients map[string]*ClientView     `json:"clients,omitempty"` // failed requests and change → serving, by strategy (the A/A repeat included)
	Runs    map[string][]bench.Summary `json:"-"`
}

// MetricResult is one metric at one point.
type MetricResult struct {
	Noise      NoiseFloor       `json:"noise_floor"`
	Strategies map[string]*Stat `json:"strategies"`
}

type timelineRow struct {
	name   string
	series analysis.Series
}

// RunFractions split each run of a comparison: the QPS dip needs many
// reloads in the closed-model phase, so it gets half the run; no diagnosis.
var RunFractions = bench.Fractions{Warmup: 1.0 / 12, Throughput: 1.0 / 2, Latency: 1.0 / 4}

// UtilFractions split each run of a utilization sweep: the open-model
// phase at the swept utilization is what the sweep is about.
var UtilFractions = bench.Fractions{Warmup: 1.0 / 12, Throughput: 1.0 / 4, Latency: 1.0 / 2}

// aaName labels the baseline's second run of each round.
func aaName(baseline string) string { return baseline + " (A/A)" }

// Compare runs the comparison and commits its results directory.
func Compare(ctx context.Context, cfg Config) (*Run, error) {
	if err := fill(&cfg); err != nil {
		return nil, err
	}
	sweep, err := SweepValues(cfg.Sweep)
	if err != nil {
		return nil, err
	}
	log := func(format string, args ...any) { fmt.Fprintf(cfg.Log, "compare: "+format+"\n", args...) }
	stage, err := results.NewStage(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer stage.Abort()
	work, err := os.MkdirTemp("", "reloadlab-compare-")
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	defer os.RemoveAll(work)
	log("building the target")
	bin, err := target.Build(ctx, work)
	if err != nil {
		return nil, err
	}

	run := &Run{
		Baseline: cfg.Baseline, Strategies: cfg.Strategies, Repeat: cfg.Repeat, RunDuration: cfg.RunDuration.String(),
		Keys: cfg.Keys, ReloadEvery: cfg.ReloadEvery.String(), Pattern: cfg.Pattern, Sweep: cfg.Sweep,
		Machine: machine.Read(), Command: cfg.CommandLine, Started: time.Now(),
	}
	for _, m := range metrics {
		run.Metrics = append(run.Metrics, MetricInfo{m.Name, m.Title, m.Unit, m.Better})
	}
	base := bench.Config{
		Keys: cfg.Keys, ReloadEvery: cfg.ReloadEvery, Pattern: cfg.Pattern, Duration: cfg.RunDuration,
		NoDiagnosis: true, TargetBinary: bin, Rate: cfg.Rate, Work: cfg.Work,
		TargetCPUs: cfg.TargetCPUs, LoadCPUs: cfg.LoadCPUs, Fractions: RunFractions,
	}
	if cfg.Sweep == "util" {
		base.Fractions = UtilFractions
	}
	run.Fractions = base.Fractions
	run.RequestWork = bench.DefaultWork.String()
	if cfg.Work < 0 {
		run.RequestWork = "0s"
	} else if cfg.Work > 0 {
		run.RequestWork = cfg.Work.String()
	}
	run.TargetCPUs, run.LoadCPUs = cfg.TargetCPUs, cfg.LoadCPUs
	if len(cfg.TargetCPUs) == 0 {
		run.LoadCPUs, run.TargetCPUs = target.Split(runtime.NumCPU())
	}
	run.SharedCPUs = bench.Shared(run.TargetCPUs, run.LoadCPUs)
	switch {
	case cfg.Sweep == "util":
		run.RateSource = "each run's own: the utilization swept × the capacity its throughput phase measured"
	case cfg.Rate == 0:
		log("calibrating the open-model rate on %s", cfg.Baseline)
		c := base
		c.Strategy, c.Out, c.Log = cfg.Baseline, filepath.Join(stage.Dir, "raw", "calibration"), io.Discard
		rep, err := bench.Run(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("compare: calibration: %w", err)
		}
		base.Rate, run.Rate, run.RateSource = rep.Rate, rep.Rate, "probed once on the baseline (two thirds of the highest rate a short probe did not saturate), then fixed for every run"
		if c := rep.Summary.Results.Throughput.CapacityRPS; c > 0 {
			run.Utilization = float64(rep.Rate) / c
		}
		log("open-model rate fixed at %d req/s", rep.Rate)
	default:
		run.Rate, run.RateSource = cfg.Rate, "set with -rate"
	}

	lineup := append(append([]string(nil), cfg.Strategies...), aaName(cfg.Baseline))
	total := len(sweep) * cfg.Repeat * len(lineup)
	done := 0
	start := time.Now()
	for _, sv := range sweep {
		pt := Point{Value: sv, Runs: map[string][]bench.Summary{}}
		pc := base
		if err := applySweep(&pc, cfg.Sweep, sv); err != nil {
			return nil, err
		}
		for round := 0; round < cfg.Repeat; round++ {
			order := rotate(lineup, round)
			pt.Order = append(pt.Order, order)
			for _, name := range order {
				eta := "?"
				if done > 0 {
					eta = (time.Duration(float64(time.Since(start)) / float64(done) * float64(total-done))).Round(time.Second).String()
				}
				log("%s round %d/%d, run %d/%d: %s (elapsed %s, about %s left)", pointLabel(cfg.Sweep, sv), round+1, cfg.Repeat, done+1, total, name, time.Since(start).Round(time.Second), eta)
				c := pc
				c.Strategy = strings.TrimSuffix(name, " (A/A)")
				c.Out = filepath.Join(stage.Dir, "raw", rawDir(cfg.Sweep, sv, round, name))
				c.Log = io.Discard
				c.CommandLine = cfg.CommandLine
				rep, err := bench.Run(ctx, c)
				if err != nil {
					return nil, fmt.Errorf("compare: %s round %d: %w", name, round+1, err)
				}
				pt.Runs[name] = append(pt.Runs[name], rep.Summary)
				for _, w := range rep.Summary.Warnings {
					if !strings.Contains(w, "open-model rate") {
						run.Warnings = append(run.Warnings, fmt.Sprintf("%s round %d: %s", name, round+1, w))
					}
				}
				if round == cfg.Repeat-1 && len(run.Points) == 0 && !strings.HasSuffix(name, "(A/A)") {
					run.timelines = append(run.timelines, timelineRow{name, rep.Series})
				}
				done++
			}
		}
		pt.Metrics = aggregate(pt.Runs, cfg.Strategies, cfg.Baseline)
		pt.Dip = poolDips(pt.Runs, cfg.Strategies, cfg.Baseline, closedShots)
		pt.OpenDip = poolDips(pt.Runs, cfg.Strategies, cfg.Baseline, openShots)
		pt.Clients = clientViews(pt.Runs)
		run.Points = append(run.Points, pt)
	}
	run.Elapsed = time.Since(run.Started).Round(time.Second).String()
	if err := write(stage, run); err != nil {
		return nil, err
	}
	if err := stage.Commit(); err != nil {
		return nil, err
	}
	log("done in %s; results in %s", run.Elapsed, cfg.Out)
	return run, nil
}

func fill(cfg *Config) error {
	if len(cfg.Strategies) == 0 {
		cfg.Strategies = strategies.Names()
	}
	if cfg.Baseline == "" {
		cfg.Baseline = DefaultBaseline
	}
	seen := map[string]bool{}
	for _, s := range cfg.Strategies {
		if err := bench.CheckStrategy(s); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		if seen[s] {
			return fmt.Errorf("compare: strategy %q listed twice", s)
		}
		seen[s] = true
	}
	if err := bench.CheckStrategy(cfg.Baseline); err != nil {
		return fmt.Errorf("compare: baseline: %w", err)
	}
	if !seen[cfg.Baseline] {
		cfg.Strategies = append([]string{cfg.Baseline}, cfg.Strategies...)
	}
	if cfg.Repeat == 0 {
		cfg.Repeat = DefaultRepeat
		if cfg.Quick {
			cfg.Repeat = QuickRepeat
		}
	}
	if cfg.Repeat < 2 {
		return errors.New("compare: at least 2 repeats are needed to compare anything")
	}
	if cfg.RunDuration == 0 {
		cfg.RunDuration = DefaultRunDuration
		if cfg.Quick {
			cfg.RunDuration = QuickRunDuration
		}
	}
	if cfg.Keys == 0 {
		cfg.Keys = bench.DefaultKeys
	}
	if cfg.ReloadEvery == 0 {
		cfg.ReloadEvery = bench.DefaultReloadEvery
	}
	if cfg.Pattern == "" {
		cfg.Pattern = bench.DefaultPattern
	}
	if cfg.Out == "" {
		cfg.Out = DefaultOut
		if cfg.Sweep != "" {
			cfg.Out = DefaultOut + "-sweep-" + cfg.Sweep
		}
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return nil
}

// rotate returns s rotated left by n.
func rotate(s []string, n int) []string {
	n %= len(s)
	return append(append([]string(nil), s[n:]...), s[:n]...)
}

func pointLabel(sweep, v string) string {
	if sweep == "" {
		return ""
	}
	return sweep + "=" + v + ","
}

func rawDir(sweep, v string, round int, name string) string {
	n := strings.NewReplacer(" (A/A)", "-aa", "+", "-").Replace(name)
	d := fmt.Sprintf("round%d-%s", round+1, n)
	if sweep != "" {
		d = sweep + "-" + v + "/" + d
	}
	return d
}

// aggregate computes every metric's statistics at one point: each metric's
// comparisons against the baseline form one family for Holm's adjustment.
func aggregate(runs map[string][]bench.Summary, strats []string, baseline string) map[string]*MetricResult {
	out := map[string]*MetricResult{}
	for _, m := range metrics {
		values := func(name string) []float64 {
			var vs []float64
			for _, s := range runs[name] {
				vs = append(vs, m.value(s))
			}
			return vs
		}
		mr := &MetricResult{Strategies: map[string]*Stat{}, Noise: noiseFloor(values(baseline), values(aaName(baseline)))}
		for _, name := range strats {
			st := summarize(values(name))
			mr.Strategies[name] = &st
		}
		judgeFamily(mr.Strategies, strats, baseline, mr.Noise, m.Better)
		if internalMetrics[m.Name] {
			for _, name := range strats {
				if st := mr.Strategies[name]; st != nil && isExternal(runs[name]) && name != baseline {
					st.Verdict, st.WhyNoDiff = "not available", bench.NotAvailable
				}
			}
		}
		out[m.Name] = mr
	}
	return out
}

// isExternal reports whether runs are an external target's.
func isExternal(runs []bench.Summary) bool {
	for _, s := range runs {
		if s.External != nil {
			return true
		}
	}
	return false
}

func parseDuration(v string) (float64, error) {
	d, err := time.ParseDuration(v)
	return d.Seconds(), err
}

// applySweep sets the bench config field a sweep value stands for.
func applySweep(pc *bench.Config, sweep, value string) error {
	var err error
	switch sweep {
	case "keys":
		pc.Keys, err = strconv.Atoi(value)
	case "rate":
		pc.ReloadEvery, err = time.ParseDuration(value)
	case "util":
		pc.Utilization, err = strconv.ParseFloat(value, 64)
		pc.Rate = 0
	}
	if err != nil {
		return fmt.Errorf("compare: sweep %s: value %q: %w", sweep, value, err)
	}
	return nil
}
