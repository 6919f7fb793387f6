// Package calibrate measures what the lab's QPS-dip estimator can resolve:
// it injects sham reloads of known CPU cost into a saturated target and
// checks that the estimator recovers each cost, interleaved with
// zero-cost controls that set its noise floor.
//
// # Method
//
// The target (package targets/httpsvc, the same build, work per request and
// CPU pinning as `lab bench`) runs under the closed model at saturation.
// Every Spacing the harness asks it for a sham reload, POST /debug/burn:
// the handler spends exactly the requested CPU time on its thread (the
// kernel's per-thread CPU clock), as a reload's pipeline would, and says
// when it started and ended. Costs are levels given as a share of the
// target's capacity over a 1 s QPS sample — 0.1% is 1 ms of CPU on a
// one-CPU target — dealt in shuffled
// blocks so every level sees the same drift of the machine, with 0 (the
// same request, no burn) as the zero-cost control. Each shot's lost
// throughput is estimated exactly as a reload's is (package analysis: its
// window against adjacent steady time of the same length), so what holds
// here holds for `lab bench` and `lab compare`.
//
// # What it reports (summary.json)
//
//   - per level: injected and measured dip (pp of a 1 s QPS sample) with a
//     95% interval over shots, the burn CPU the target accounted;
//   - aa_floor_pp: the half-width of the zero-cost level's interval, the
//     estimator's noise floor at this many shots;
//   - resolution_pp: the smallest injected level whose interval excludes 0
//     (null if none does);
//   - the least-squares line of measured against injected over every shot
//     (slope 1 and intercept 0 is a calibrated estimator), with intervals;
//   - how many shots ±0.3 pp would take at the noise measured.
//
// # Outputs (Out, default results/calibrate)
//
//	summary.json, summary.md   the figures above
//	calibration.png            injected vs measured, intervals, identity line
//	plan.json                  every parameter
//	raw/                       attack.bin, shots.jsonl, metrics.jsonl (git-ignored)
package calibrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/harness/machine"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/harness/target"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

// Defaults of Config.
const (
	DefaultShots   = 100
	QuickShots     = 6
	DefaultSpacing = 600 * time.Millisecond
	DefaultOut     = "results/calibrate"
	warmup         = 3 * time.Second
)

// DefaultLevels are the injected costs, in percent of the target's
// capacity over a 1 s QPS sample: 0 (control), 0.1% (1 ms of CPU on a
// one-CPU target) … 10% (100 ms).
var DefaultLevels = []float64{0, 0.1, 0.3, 1, 3, 10}

// Config is one calibration's parameters. Zero fields take the defaults.
type Config struct {
	Levels     []float64     // injected costs in % (must include 0)
	Shots      int           // shots per level
	Spacing    time.Duration // between shots
	Work       time.Duration // CPU per request in the target (bench.DefaultWork; negative: none)
	Workers    int           // closed-model workers (bench.DefaultWorkers)
	Keys       int           // keys in the target's config (bench.DefaultKeys)
	TargetCPUs []int
	LoadCPUs   []int
	Quick      bool // QuickShots per level
	// BurnMode is how the target spends a sham's CPU: "clock" (default:
	// spin on a locked OS thread until its CPU clock has advanced, as the
	// reload pipeline's accounting locks its thread) or "loop" (a loop
	// calibrated at start, no thread lock).
	BurnMode string
	// TracingPairs is how many on/off block pairs measure the flight
	// recorder's cost after the calibration (DefaultTracingPairs, or
	// QuickTracingPairs with Quick; negative: skip).
	TracingPairs int
	Out          string
	Log          io.Writer
	CommandLine  string
}

func (c *Config) fill() error {
	if len(c.Levels) == 0 {
		c.Levels = DefaultLevels
	}
	c.Levels = slices.Clone(c.Levels)
	slices.Sort(c.Levels)
	c.Levels = slices.Compact(c.Levels)
	if c.Levels[0] != 0 {
		return errors.New("calibrate: the levels must include 0, the zero-cost control")
	}
	if c.Levels[len(c.Levels)-1] > 50 || c.Levels[0] < 0 {
		return fmt.Errorf("calibrate: levels %v: each must lie in [0, 50] percent", c.Levels)
	}
	if c.Shots == 0 {
		c.Shots = DefaultShots
		if c.Quick {
			c.Shots = QuickShots
		}
	}
	if c.Shots < 3 {
		return fmt.Errorf("calibrate: %d shots per level is too few for an interval (at least 3)", c.Shots)
	}
	if c.Spacing == 0 {
		c.Spacing = DefaultSpacing
	}
	if c.Work == 0 {
		c.Work = bench.DefaultWork
	}
	if c.Work < 0 {
		c.Work = 0
	}
	if c.Workers == 0 {
		c.Workers = bench.DefaultWorkers
	}
	if c.Keys == 0 {
		c.Keys = bench.DefaultKeys
	}
	if c.Out == "" {
		c.Out = DefaultOut
	}
	switch c.BurnMode {
	case "":
		c.BurnMode = "clock"
	case "clock", "loop":
	default:
		return fmt.Errorf("calibrate: burn mode %q (valid: clock, loop)", c.BurnMode)
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.TracingPairs == 0 {
		c.TracingPairs = DefaultTracingPairs
		if c.Quick {
			c.TracingPairs = QuickTracingPairs
		}
	}
	if (len(c.TargetCPUs) == 0) != (len(c.LoadCPUs) == 0) {
		return errors.New("calibrate: give both the target's and the load generator's CPUs, or neither")
	}
	return nil
}

// Level is what the estimator made of one injected cost.
type Level struct {
	InjectedPct float64        `json:"injected_pct"` // of the target's capacity over a 1 s QPS sample (pp)
	InjectedMs  float64        `json:"injected_ms"`  // per shot
	N           int            `json:"n"`
	Dropped     int            `json:"dropped"`
	MeasuredPP  stats.Estimate `json:"measured_pp"` // the dip, share of a 1 s QPS sample
	LostMs      stats.Estimate `json:"lost_ms"`
	SDMs        stats.Num      `json:"sd_ms"`
	CPUMs       float64        `json:"burn_cpu_ms"` // the target's own accounting of the burn, mean
	Excludes0   bool           `json:"excludes_zero"`
	Covers      bool           `json:"covers_injected"` // the interval holds the injected value
}

// Fit is the least-squares line measured = Intercept + Slope × injected
// over every shot, in pp, with 95% intervals (t, n − 2 degrees of freedom).
type Fit struct {
	Slope     stats.Estimate `json:"slope"`
	Intercept stats.Estimate `json:"intercept_pp"`
	N         int            `json:"n"`
}

// Summary is summary.json.
type Summary struct {
	Levels       []Level        `json:"levels"`
	AAFloorPP    stats.Num      `json:"aa_floor_pp"`   // half-width of the zero-cost level's interval
	ZeroPP       stats.Estimate `json:"zero_level_pp"` // the zero-cost level's estimate (should hold 0)
	ResolutionPP stats.Num      `json:"resolution_pp"` // smallest injected level whose interval excludes 0 (null: none)
	Fit          Fit            `json:"fit"`
	// ShotsFor03 is how many shots per level a ±0.3 pp interval would take
	// at the zero level's noise.
	ShotsFor03    stats.Num         `json:"shots_for_0_3_pp"`
	SteadyRPS     stats.Num         `json:"steady_rps"`
	CapacityRPS   float64           `json:"capacity_rps"`
	TargetCPUs    int               `json:"target_cpus"`
	SharedCPUs    bool              `json:"shared_cpus"`
	Work          string            `json:"request_work"`
	BurnMode      string            `json:"burn_mode"`
	Spacing       string            `json:"spacing"`
	ShotsPerLevel int               `json:"shots_per_level"`
	Geometry      analysis.Geometry `json:"geometry"`
	Verdict       string            `json:"verdict"`
	Machine       machine.Info      `json:"machine"`
	Command       string            `json:"command"`
	Started       time.Time         `json:"started"`
	Elapsed       string            `json:"elapsed"`
	Warnings      []string          `json:"warnings,omitempty"`
	// Tracing is the flight recorder's cost to capacity, measured on the
	// same target after the calibration (nil: skipped).
	Tracing *TracingCost `json:"tracing,omitempty"`
}

// Run performs the calibration and commits its results directory.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, "calibrate: "+format+"\n", args...) }
	started := time.Now()
	stage, err := results.NewStage(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer stage.Abort()
	work, err := os.MkdirTemp("", "reloadlab-calibrate-")
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	defer os.RemoveAll(work)
	cfgPath := filepath.Join(work, "config.yaml")
	if err := os.WriteFile(cfgPath, config.Generate(1, cfg.Keys), 0o644); err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	loadCPUs, targetCPUs := cfg.LoadCPUs, cfg.TargetCPUs
	if len(targetCPUs) == 0 {
		loadCPUs, targetCPUs = target.Split(runtime.NumCPU())
	}
	var warnings []string
	if err := target.PinSelf(loadCPUs); err != nil {
		warnings = append(warnings, fmt.Sprintf("could not pin the load generator (%v); load and target share CPUs", err))
		loadCPUs, targetCPUs = nil, nil
	}
	logf("building the target")
	bin, err := target.Build(ctx, work)
	if err != nil {
		return nil, err
	}
	args := []string{"-config", cfgPath, "-strategy", "atomic", "-metrics-interval", "10ms", "-work", cfg.Work.String()}
	proc, err := target.Start(ctx, bin, args, targetCPUs, nil)
	if err != nil {
		return nil, err
	}
	defer proc.Kill()
	client := proc.Client()
	st, err := client.Status(ctx, 0)
	if err != nil {
		return nil, err
	}
	cpus := max(1, st.GOMAXPROCS)

	// The schedule: shuffled blocks, each level once per block.
	rng := rand.New(rand.NewPCG(3, 5))
	var plan []float64
	for b := 0; b < cfg.Shots; b++ {
		block := slices.Clone(cfg.Levels)
		rng.Shuffle(len(block), func(i, j int) { block[i], block[j] = block[j], block[i] })
		plan = append(plan, block...)
	}
	inject := func(pct float64) time.Duration {
		return time.Duration(pct / 100 * float64(analysis.QPSSample) * float64(cpus))
	}
	logf("target on CPUs %v (GOMAXPROCS %d), load on %v; %d levels × %d shots, one every %s (about %s)",
		targetCPUs, cpus, loadCPUs, len(cfg.Levels), cfg.Shots, cfg.Spacing, (time.Duration(len(plan)) * cfg.Spacing).Round(time.Second))

	if _, err := load.Run(ctx, proc.Base+"/", load.Phase{Name: "warmup", Duration: warmup, Workers: uint64(cfg.Workers)}, nil); err != nil {
		return nil, fmt.Errorf("calibrate: warmup: %w", err)
	}
	edge := analysis.PhaseEdge(time.Hour) + time.Second
	phaseDur := edge + time.Duration(len(plan))*cfg.Spacing + edge
	var (
		mu    sync.Mutex
		shams []analysis.Shot
		fired int
	)
	var done atomic.Int64
	shotCtx, stopShots := context.WithCancel(ctx)
	shotErr := make(chan error, 1)
	go func() {
		defer close(shotErr)
		first := time.Now().Add(edge)
		for i, pct := range plan {
			select {
			case <-shotCtx.Done():
				return
			case <-time.After(time.Until(first.Add(time.Duration(i) * cfg.Spacing))):
			}
			b, err := client.Burn(shotCtx, inject(pct), cfg.BurnMode)
			if err != nil {
				if shotCtx.Err() == nil {
					shotErr <- fmt.Errorf("calibrate: shot %d: %w", i+1, err)
				}
				return
			}
			mu.Lock()
			shams = append(shams, analysis.Shot{Kind: analysis.KindBurn, Injected: b.Requested, Start: b.Start.UnixNano(), End: b.End.UnixNano(),
				CPU: strategies.StageCPU{Measured: true, Extra: b.CPU}})
			fired++
			mu.Unlock()
		}
	}()
	progressCtx, stopProgress := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-progressCtx.Done():
				return
			case <-t.C:
				mu.Lock()
				n := fired
				mu.Unlock()
				el := time.Since(started)
				eta := "?"
				if n > 0 {
					eta = (time.Duration(float64(el) / float64(n) * float64(len(plan)-n))).Round(time.Second).String()
				}
				logf("%d/%d shots, %.0f req/s, elapsed %s, about %s left", n, len(plan), float64(done.Swap(0))/10, el.Round(time.Second), eta)
			}
		}
	}()
	res, err := load.Run(ctx, proc.Base+"/", load.Phase{Name: "calibration", Duration: phaseDur, Workers: uint64(cfg.Workers)}, &done)
	stopShots()
	stopProgress()
	if serr := <-shotErr; serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	samples, err := client.Metrics(ctx, 0)
	if err != nil {
		return nil, err
	}
	var tracing *TracingCost
	if cfg.TracingPairs > 0 {
		if tracing, err = measureTracing(ctx, proc.Base+"/", client, cfg.Workers, cfg.TracingPairs, logf); err != nil {
			return nil, err
		}
		logf("tracing cost: the flight recorder costs %s%% of capacity (%.0f vs %.0f req/s)", tracing.CostPct.Format(1, 1, ""), float64(tracing.OnRPS), float64(tracing.OffRPS))
	}
	if err := proc.Stop(10 * time.Second); err != nil {
		warnings = append(warnings, err.Error())
	}
	mu.Lock()
	shots := slices.Clone(shams)
	mu.Unlock()
	if len(shots) < len(plan) {
		return nil, fmt.Errorf("calibrate: only %d of %d shots were fired", len(shots), len(plan))
	}
	a := analysis.Analyze(analysis.Input{Throughput: res, Shams: shots, Samples: samples, Sample: analysis.QPSSample, TargetCPUs: cpus})
	sum := summarize(a.Throughput, shots, cfg, cpus)
	sum.CapacityRPS = a.Throughput.CapacityRPS
	sum.SharedCPUs = bench.Shared(targetCPUs, loadCPUs)
	sum.Machine, sum.Command, sum.Started = machine.Read(), cfg.CommandLine, started
	sum.Elapsed = time.Since(started).Round(time.Second).String()
	sum.Warnings = warnings
	sum.Tracing = tracing
	if err := writeOutputs(stage, sum, res, shots, samples, cfg, targetCPUs, loadCPUs); err != nil {
		return nil, err
	}
	if err := stage.Commit(); err != nil {
		return nil, err
	}
	logf("%s", sum.Verdict)
	return &sum, nil
}

// summarize turns the per-level costs into the calibration summary.
func summarize(tp analysis.ThroughputSummary, shots []analysis.Shot, cfg Config, cpus int) Summary {
	s := Summary{TargetCPUs: cpus, Work: cfg.Work.String(), BurnMode: cfg.BurnMode, Spacing: cfg.Spacing.String(), ShotsPerLevel: cfg.Shots,
		Geometry: tp.Geometry, SteadyRPS: tp.SteadyRPS, AAFloorPP: stats.Num(math.NaN()), ResolutionPP: stats.Num(math.NaN()),
		ZeroPP: stats.NoEstimate(), ShotsFor03: stats.Num(math.NaN())}
	sampleMs := float64(analysis.QPSSample) / 1e6
	pct := func(injected time.Duration) float64 {
		return float64(injected) / 1e6 / (sampleMs * float64(cpus)) * 100
	}
	var xs, ys []float64
	for _, c := range tp.Shots {
		if c.Kind != analysis.KindBurn {
			continue
		}
		xs = append(xs, pct(c.Injected))
		ys = append(ys, c.LostMs/sampleMs*100)
	}
	for _, k := range tp.Kinds {
		if k.Kind != analysis.KindBurn {
			continue
		}
		inj := float64(k.Injected) / 1e6
		l := Level{InjectedMs: inj, InjectedPct: pct(k.Injected), N: k.N, Dropped: k.Dropped, MeasuredPP: k.DipPP, LostMs: k.LostMs, SDMs: k.SDMs, CPUMs: k.CPU.Extra}
		l.Excludes0 = k.DipPP.Excludes(0)
		l.Covers = k.DipPP.Valid() && k.DipPP.Lo <= l.InjectedPct && l.InjectedPct <= k.DipPP.Hi
		s.Levels = append(s.Levels, l)
	}
	for _, l := range s.Levels {
		if l.InjectedMs == 0 {
			s.ZeroPP = l.MeasuredPP
			s.AAFloorPP = stats.Num(l.MeasuredPP.HalfWidth())
			sd := float64(l.SDMs) / sampleMs * 100
			s.ShotsFor03 = stats.Num(stats.RequiredN(sd, 0.3))
			continue
		}
		if l.Excludes0 && l.MeasuredPP.Lo > 0 && !stats.Finite(float64(s.ResolutionPP)) {
			s.ResolutionPP = stats.Num(l.InjectedPct)
		}
	}
	s.Fit = fit(xs, ys)
	s.Verdict = verdictLine(s)
	return s
}

// fit is ordinary least squares of ys on xs with t intervals.
func fit(xs, ys []float64) Fit {
	f := Fit{Slope: stats.NoEstimate(), Intercept: stats.NoEstimate(), N: len(xs)}
	n := len(xs)
	if n < 3 {
		return f
	}
	a, b := stat.LinearRegression(xs, ys, nil, false)
	var sse, sxx float64
	mx := stats.Mean(xs)
	for i := range xs {
		r := ys[i] - (a + b*xs[i])
		sse += r * r
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return f
	}
	se := math.Sqrt(sse / float64(n-2))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 2)}.Quantile(1 - (1-stats.Confidence)/2)
	sb := se / math.Sqrt(sxx)
	sa := se * math.Sqrt(1/float64(n)+mx*mx/sxx)
	f.Slope = stats.Estimate{Value: b, Lo: b - t*sb, Hi: b + t*sb}
	f.Intercept = stats.Estimate{Value: a, Lo: a - t*sa, Hi: a + t*sa}
	return f
}

// verdictLine says what the calibration found, from the data.
func verdictLine(s Summary) string {
	var out string
	switch sl := s.Fit.Slope; {
	case !sl.Valid():
		out = "too few shots to fit the calibration line"
	case sl.Lo <= 1 && 1 <= sl.Hi:
		out = fmt.Sprintf("the estimator recovers injected costs: slope %.3f (95%% CI %.3f…%.3f) holds 1", sl.Value, sl.Lo, sl.Hi)
	case sl.Hi < 1:
		out = fmt.Sprintf("the estimator under-reads injected costs: it recovers %.0f%% of each (slope %.3f, 95%% CI %.3f…%.3f)", 100*sl.Value, sl.Value, sl.Lo, sl.Hi)
	default:
		out = fmt.Sprintf("measured exceeds injected by %.0f%% (slope %.3f, 95%% CI %.3f…%.3f): each injected CPU millisecond cost that much throughput, or the estimator reads that much high; it does not under-read", 100*(sl.Value-1), sl.Value, sl.Lo, sl.Hi)
	}
	out += fmt.Sprintf("; A/A floor ±%.3f pp (zero-cost level: %.3f pp, CI %.3f…%.3f, %d shots per level)", float64(s.AAFloorPP), s.ZeroPP.Value, s.ZeroPP.Lo, s.ZeroPP.Hi, s.ShotsPerLevel)
	if stats.Finite(float64(s.ResolutionPP)) {
		out += fmt.Sprintf("; smallest injected effect resolved: %.1f pp", float64(s.ResolutionPP))
	} else {
		out += "; no injected level's interval excludes 0"
	}
	if stats.Finite(float64(s.ShotsFor03)) {
		out += fmt.Sprintf("; ±0.3 pp needs about %.0f shots per level at this noise", float64(s.ShotsFor03))
	}
	return out
}

// levelName formats a level for tables and plots.
func levelName(pct float64) string { return strconv.FormatFloat(pct, 'g', -1, 64) + "%" }

// writeRaw writes git-ignored raw files.
func writeRaw(dir string, res *load.Result, shots []analysis.Shot, samples []telemetry.Sample) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "attack.bin"))
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	if err := load.WriteAttack(f, "calibrate", res); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	if err := results.WriteJSON(filepath.Join(dir, "shots.json"), shots); err != nil {
		return err
	}
	mf, err := os.Create(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	defer mf.Close()
	return telemetry.WriteSamples(mf, samples)
}
