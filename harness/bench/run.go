package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/harness/machine"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/target"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/targets/debugapi"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

// Diagnosis-phase settings.
const (
	diagBlockRate     = 10_000 // ns: sample one blocking event per 10 µs spent blocked
	diagMutexFraction = 10     // sample one contention event in 10
	flightMinAge      = 2 * time.Second
	flightAfter       = 500 * time.Millisecond
	flightMaxBytes    = 32 << 20
)

// Report is what Run returns: where the results went and what they say.
type Report struct {
	Dir     string
	Summary Summary
	Rate    int             // the open-model rate the run used, req/s
	Series  analysis.Series // the plotted timelines
}

// run is one run's state.
type run struct {
	r            resolved
	stage        *results.Stage
	proc         *target.Process
	client       *target.Client
	writer       *reloadWriter
	done         atomic.Int64 // responses so far, for progress
	events       *eventCollector
	phases       []*load.Result
	timings      []phaseTiming
	openRate     int
	probes       []rateProbe
	goroutines   []GoroutineSample
	targetStatus debugapi.ReloadStatus // at start
	start        time.Time
	warnings     []string
	wmu          sync.Mutex
	url          string  // what the load GETs
	ext          *extRun // an external target's state (nil for httpsvc)
}

type phaseTiming struct {
	phaseSpec
	Began     time.Time `json:"began"`
	Ended     time.Time `json:"ended"`
	Rate      int       `json:"rate_rps,omitempty"`
	Recs      int       `json:"requests"`
	Completed int       `json:"completed"`
}

func (rn *run) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	rn.wmu.Lock()
	rn.warnings = append(rn.warnings, msg)
	rn.wmu.Unlock()
	fmt.Fprintln(rn.r.Log, "bench: warning:", msg)
}

func (rn *run) logf(format string, args ...any) {
	fmt.Fprintf(rn.r.Log, "bench %s: "+format+"\n", append([]any{rn.r.strategy.Name}, args...)...)
}

// Run performs one bench run and commits its results directory.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	r, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	rn := &run{r: r, start: time.Now()}
	rn.stage, err = results.NewStage(r.Out)
	if err != nil {
		return nil, err
	}
	defer rn.stage.Abort()
	work, err := os.MkdirTemp("", "reloadlab-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(work)
	if r.ext != "" {
		return rn.runExternal(ctx, work)
	}
	cfgDir := filepath.Join(work, "config")
	if err := os.Mkdir(cfgDir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	var etcd *etcdSource
	if r.usesEtcd() {
		if etcd, err = startEtcdSource(ctx, r.EtcdEndpoints, rn.logf); err != nil {
			return nil, err
		}
		defer etcd.Close()
		if err := etcd.put(ctx, config.Generate(1, r.Keys)); err != nil {
			return nil, fmt.Errorf("bench: initial config: %w", err)
		}
	} else if err := r.pattern.Init(cfgDir, configName, config.Generate(1, r.Keys)); err != nil {
		return nil, fmt.Errorf("bench: initial config: %w", err)
	}

	loadCPUs, targetCPUs := r.LoadCPUs, r.TargetCPUs
	if len(targetCPUs) == 0 {
		loadCPUs, targetCPUs = target.Split(runtime.NumCPU())
	}
	if err := target.PinSelf(loadCPUs); err != nil {
		rn.warn("could not pin the load generator (%v); load and target share CPUs", err)
		loadCPUs, targetCPUs = nil, nil
	}
	bin := r.TargetBinary
	if bin == "" {
		rn.logf("building the target")
		if bin, err = target.Build(ctx, work); err != nil {
			return nil, err
		}
	}
	args := []string{
		"-config", filepath.Join(cfgDir, configName),
		"-strategy", r.strategy.Preset, "-store", r.strategy.Store, "-trigger", r.strategy.Trigger,
		"-keys", strconv.Itoa(r.KeysPerRequest), "-metrics-interval", "10ms", "-events-keep", "8192",
		"-work", r.Work.String(), "-reload-burn", r.ReloadBurn.String(),
	}
	if etcd != nil {
		args = append(args, "-etcd-endpoints", strings.Join(etcd.endpoints, ","), "-etcd-key", etcd.key)
	}
	args = append(args, r.TargetFlags...)
	rn.logf("starting the target (CPUs %v; load on %v): %s %v", targetCPUs, loadCPUs, filepath.Base(bin), args)
	rn.proc, err = target.Start(ctx, bin, args, targetCPUs, nil)
	if err != nil {
		return nil, err
	}
	rn.client = rn.proc.Client()
	rn.url = rn.proc.Base + "/"
	stopped := false
	defer func() {
		if !stopped {
			rn.proc.Kill()
		}
	}()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var watching atomic.Bool
	watching.Store(true)
	go func() {
		select {
		case <-rn.proc.Exited():
			if watching.Load() {
				cancel(fmt.Errorf("bench: the target died mid-run (%v); its last stderr lines:\n%s", rn.proc.Err(), rn.proc.StderrTail()))
			}
		case <-ctx.Done():
		}
	}()
	fail := func(err error) (*Report, error) {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return nil, cause
		}
		return nil, err
	}

	initial, err := rn.client.Status(ctx, 0)
	if err != nil {
		return fail(err)
	}
	rn.events = newEventCollector(rn.client, lastSeq(initial.Events))
	rn.targetStatus = initial
	rn.writer = newReloadWriter(cfgDir, r.Keys, r.ReloadEvery, r.pattern, r.strategy.Trigger == "signal", rn.proc,
		config.Generate(1, r.Keys), func(err error) { rn.warn("config write failed: %v", err) })
	if etcd != nil {
		rn.writer.put = etcd.put
	}
	bg, stopBG := context.WithCancel(ctx)
	var bgWG sync.WaitGroup
	bgWG.Add(3)
	go func() { defer bgWG.Done(); rn.writer.run(bg) }()
	go func() { defer bgWG.Done(); rn.events.run(bg) }()
	go func() { defer bgWG.Done(); rn.progress(bg) }()

	var diag diagnosis
	for _, spec := range r.phases {
		if err := rn.runPhase(ctx, spec, &diag); err != nil {
			stopBG()
			bgWG.Wait()
			return fail(err)
		}
	}
	rn.writer.pause()
	stopBG()
	bgWG.Wait()

	final, err := rn.client.Status(ctx, 0)
	if err != nil {
		return fail(err)
	}
	if err := rn.events.poll(ctx); err != nil {
		return fail(err)
	}
	samples, err := rn.client.Metrics(ctx, 0)
	if err != nil {
		return fail(err)
	}
	watching.Store(false)
	stopped = true
	if err := rn.proc.Stop(10 * time.Second); err != nil {
		rn.warn("%v", err)
	}

	rn.logf("analysing")
	out, err := rn.finish(ctx, final, samples, &diag, loadCPUs, targetCPUs)
	if err != nil {
		return nil, err
	}
	if err := rn.stage.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}

func lastSeq(events []strategies.Event) uint64 {
	if len(events) == 0 {
		return 0
	}
	return events[len(events)-1].Seq
}

// runPhase runs one phase: load, with the diagnosis tools around it for the
// diagnosis phase.
func (rn *run) runPhase(ctx context.Context, spec phaseSpec, diag *diagnosis) error {
	ph := load.Phase{Name: spec.Name, Duration: spec.Duration, Workers: uint64(rn.r.Workers)}
	if spec.Open {
		if rn.openRate == 0 {
			rate, err := rn.openModelRate(ctx, spec.Duration)
			if err != nil {
				return err
			}
			rn.openRate = rate
		}
		ph.Rate = rn.openRate
	}
	if spec.Name == "diagnosis" {
		if err := diag.start(ctx, rn, spec.Duration); err != nil {
			return err
		}
	}
	var profiler *goroutineSampler
	if spec.Name == "goroutines" {
		profiler = startGoroutineSampler(ctx, rn.client, goroutineEvery)
	}
	began := time.Now()
	rn.writer.setPhase(spec.Name, spec.Mix, began)
	rn.extPhase(spec.Name, true)
	res, err := load.Run(ctx, rn.url, ph, &rn.done)
	rn.writer.pause()
	rn.extPhase(spec.Name, false)
	if profiler != nil {
		samples, perr := profiler.stop()
		rn.goroutines = samples
		if perr != nil && err == nil {
			rn.warn("goroutine profiles: %v", perr)
		}
	}
	if err != nil {
		return err
	}
	rn.timings = append(rn.timings, phaseTiming{phaseSpec: spec, Began: res.Began, Ended: res.Ended, Rate: ph.Rate, Recs: len(res.Recs), Completed: res.Completed()})
	if len(res.Recs) == 0 {
		return fmt.Errorf("bench: phase %s sent no requests", spec.Name)
	}
	if errs := len(res.Recs) - res.Completed(); errs > 0 {
		rn.warn("phase %s: %d of %d requests failed (%v)", spec.Name, errs, len(res.Recs), res.Errors)
	}
	switch spec.Name {
	case "throughput", "latency":
		rn.phases = append(rn.phases, res)
	case "diagnosis":
		return diag.finish(ctx, rn)
	}
	return nil
}

// capacity returns the completed req/s of the throughput phase (0 before
// it ran).
func (rn *run) capacity() float64 {
	if tp := rn.throughputPhase(); tp != nil {
		if secs := tp.Ended.Sub(tp.Began).Seconds(); secs > 0 {
			return float64(tp.Completed()) / secs
		}
	}
	return 0
}

// openModelRate returns the open-model rate of the latency and diagnosis
// phases: -rate if given; else -utilization × the measured capacity if
// given; else the probed rate (probeRate).
func (rn *run) openModelRate(ctx context.Context, phase time.Duration) (int, error) {
	switch {
	case rn.r.Rate > 0:
		return rn.r.Rate, nil
	case rn.r.Utilization > 0:
		c := rn.capacity()
		if c == 0 {
			return 0, errors.New("bench: -utilization needs a throughput phase to measure the capacity")
		}
		return max(1, int(rn.r.Utilization*c)), nil
	}
	return rn.probeRate(ctx, phase)
}

func (rn *run) throughputPhase() *load.Result {
	for _, ph := range rn.phases {
		if ph.Phase.Name == "throughput" {
			return ph
		}
	}
	return nil
}

// rateProbe is one short open-model trial of a rate.
type rateProbe struct {
	Rate        int     `json:"rate_rps"`
	AchievedRPS float64 `json:"achieved_rps"`
	CoP50Ms     float64 `json:"co_p50_ms"`
	LimitMs     float64 `json:"limit_ms"`
	Saturated   bool    `json:"saturated"`
}

// probeSteps are the fractions of the measured capacity tried, lowest
// first. The last is 81/128 (0.63): a probe at capacity itself passes or
// fails by luck (a queue at exactly the service rate grows slowly), so
// the probe never goes there.
var probeSteps = []float64{1.0 / 8, 3.0 / 16, 9.0 / 32, 27.0 / 64, 81.0 / 128}

// probeRate returns the open-model rate for the latency and diagnosis
// phases when neither -rate nor -utilization was given. An open model
// measures latency only below saturation; past it the sender falls
// behind, vegeta adds workers and connections, and the figures describe a
// queue, not the service. On a small machine the load generator's CPU, not
// the target, can be what saturates first: one CPU of vegeta sustains far
// fewer open-model requests than closed-model ones. So the harness probes
// rates upwards from an eighth of the capacity the throughput phase
// measured to 81/128 of it, about ×1.5 a step, for a short while each,
// takes the highest rate whose probe was not saturated — the sender kept
// up (achieved ≥ 95% of the rate) and the CO-corrected median latency
// stayed under ten times that of the first, lightest probe (at least
// 2 ms) — and keeps two thirds of it (so at most 42% of the capacity): a
// rate near the edge of the cliff turns every reload hiccup into a queue.
// The result is recorded in plan.json with every probe, and the summary
// states it as a share of the capacity (the utilization).
func (rn *run) probeRate(ctx context.Context, phase time.Duration) (int, error) {
	want := int(rn.capacity())
	if want == 0 {
		want = 1000
	}
	// The limit comes from the first, lightest probe: ten times its
	// CO-corrected median (at least 2 ms), the latency of a target that is
	// not queueing. (The closed model's median is no guide: with every
	// worker's request queued it is a queue already.)
	var limit time.Duration // set by the first probe
	dur := min(max(phase/20, 300*time.Millisecond), time.Second)
	chosen := 0
	for _, f := range probeSteps {
		rate := max(1, int(f*float64(want)))
		p, err := rn.probe(ctx, rate, dur, limit)
		if err != nil {
			return 0, err
		}
		limit = time.Duration(p.LimitMs * 1e6)
		if p.Saturated {
			break
		}
		chosen = rate
	}
	for rate := want / 16; chosen == 0 && rate >= 50; rate /= 2 {
		p, err := rn.probe(ctx, rate, dur, limit)
		if err != nil {
			return 0, err
		}
		if !p.Saturated {
			chosen = rate
		}
	}
	if chosen == 0 {
		chosen = max(1, want/16)
		rn.warn("every open-model probe was saturated; running at %d req/s anyway: latency figures describe a queue", chosen)
	} else {
		chosen = max(1, chosen*2/3)
	}
	rn.logf("open-model rate %d req/s: two thirds of the highest unsaturated probe, %.0f%% of the capacity %d req/s", chosen, 100*float64(chosen)/float64(want), want)
	return chosen, nil
}

func (rn *run) probe(ctx context.Context, rate int, dur, limit time.Duration) (rateProbe, error) {
	res, err := load.Run(ctx, rn.url, load.Phase{Name: "rate-probe", Duration: dur, Rate: rate}, &rn.done)
	if err != nil {
		return rateProbe{}, err
	}
	co := make([]float64, 0, len(res.Recs))
	for _, r := range res.Recs {
		co = append(co, float64(res.Corrected(r)))
	}
	p := rateProbe{Rate: rate, AchievedRPS: float64(len(res.Recs)) / res.Ended.Sub(res.Began).Seconds(),
		CoP50Ms: analysis.Summarize(co, 1e-6).P50}
	if limit == 0 { // the first probe sets the limit for all
		limit = max(2*time.Millisecond, time.Duration(10*p.CoP50Ms*1e6))
	}
	p.LimitMs = float64(limit) / 1e6
	p.Saturated = p.AchievedRPS < 0.95*float64(rate) || p.CoP50Ms > p.LimitMs
	rn.probes = append(rn.probes, p)
	verdict := "ok"
	if p.Saturated {
		verdict = "saturated"
	}
	rn.logf("rate probe %d req/s: achieved %.0f req/s, CO-corrected p50 %.2f ms (limit %.2f ms): %s", rate, p.AchievedRPS, p.CoP50Ms, p.LimitMs, verdict)
	return p, nil
}

func (rn *run) writerPhase() (string, time.Duration) {
	rn.writer.mu.Lock()
	defer rn.writer.mu.Unlock()
	if rn.writer.phase == "" {
		return "starting", 0
	}
	return rn.writer.phase, time.Since(rn.writer.started)
}

// eventCollector polls the target's reload events.
type eventCollector struct {
	client *target.Client
	mu     sync.Mutex
	cursor uint64
	events []strategies.Event
}

func newEventCollector(c *target.Client, after uint64) *eventCollector {
	return &eventCollector{client: c, cursor: after}
}

func (ec *eventCollector) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ec.poll(ctx)
		}
	}
}

func (ec *eventCollector) poll(ctx context.Context) error {
	ec.mu.Lock()
	cursor := ec.cursor
	ec.mu.Unlock()
	st, err := ec.client.Status(ctx, cursor)
	if err != nil {
		return err
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	for _, e := range st.Events {
		if e.Seq > ec.cursor {
			ec.events = append(ec.events, e)
			ec.cursor = e.Seq
		}
	}
	return nil
}

func (ec *eventCollector) counts() (applied, rejected int) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	for _, e := range ec.events {
		switch e.Outcome {
		case strategies.Applied:
			applied++
		case strategies.Rejected:
			rejected++
		}
	}
	return
}

func (ec *eventCollector) all() []strategies.Event {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	return append([]strategies.Event(nil), ec.events...)
}

// diagnosis holds the diagnosis phase's captures.
type diagnosis struct {
	cpu       bytes.Buffer
	cpuErr    error
	cpuDone   chan struct{}
	snapshots []telemetry.Snapshot
	traces    []string // files written, parallel to snapshots
	profiles  []string
}

func (d *diagnosis) start(ctx context.Context, rn *run, dur time.Duration) error {
	c := rn.client
	if err := c.SetProfiling(ctx, diagBlockRate, diagMutexFraction); err != nil {
		return err
	}
	if err := c.StartFlightRecorder(ctx, flightMinAge, flightAfter, flightMaxBytes, rn.r.Captures); err != nil {
		return err
	}
	secs := max(1, int((dur - time.Second).Seconds()))
	d.cpuDone = make(chan struct{})
	go func() {
		defer close(d.cpuDone)
		d.cpuErr = c.Profile(ctx, "profile", url.Values{"seconds": {strconv.Itoa(secs)}}, &d.cpu)
	}()
	return nil
}

func (d *diagnosis) finish(ctx context.Context, rn *run) error {
	c := rn.client
	<-d.cpuDone
	if d.cpuErr != nil {
		return fmt.Errorf("bench: CPU profile: %w", d.cpuErr)
	}
	if err := results.WriteFile(rn.stage.Path("cpu.pprof"), d.cpu.Bytes()); err != nil {
		return err
	}
	d.profiles = append(d.profiles, "cpu.pprof")
	// Wait for the captures scheduled during the phase (each is written
	// flightAfter after its reload).
	deadline := time.Now().Add(flightAfter + 2*time.Second)
	for {
		snaps, err := c.Snapshots(ctx)
		if err != nil {
			return err
		}
		if len(snaps) >= rn.r.Captures || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := c.StopFlightRecorder(ctx); err != nil {
		return err
	}
	snaps, err := c.Snapshots(ctx)
	if err != nil {
		return err
	}
	if len(snaps) < rn.r.Captures {
		rn.warn("only %d of %d flight-recorder captures arrived (no reload applied early enough in the diagnosis phase?)", len(snaps), rn.r.Captures)
	}
	for i, s := range snaps {
		if s.Error != "" {
			rn.warn("capture %d: %s", s.Seq, s.Error)
			continue
		}
		var buf bytes.Buffer
		if err := c.Snapshot(ctx, s.Seq, &buf); err != nil {
			return err
		}
		name := fmt.Sprintf("trace-reload-%d.out", i+1)
		if err := results.WriteFile(rn.stage.Path(name), buf.Bytes()); err != nil {
			return err
		}
		d.snapshots = append(d.snapshots, s)
		d.traces = append(d.traces, name)
	}
	// Block and mutex profiles before profiling is switched off: mutex
	// counts are scaled by the current fraction.
	for _, p := range []struct {
		name string
		q    url.Values
	}{{"block", nil}, {"mutex", nil}, {"heap", url.Values{"gc": {"1"}}}, {"goroutine", nil}} {
		var buf bytes.Buffer
		if err := c.Profile(ctx, p.name, p.q, &buf); err != nil {
			return err
		}
		file := p.name + ".pprof"
		if err := results.WriteFile(rn.stage.Path(file), buf.Bytes()); err != nil {
			return err
		}
		d.profiles = append(d.profiles, file)
	}
	return c.SetProfiling(ctx, 0, 0)
}

// machineInfo is read once per run.
func machineInfo() machine.Info { return machine.Read() }

// progress prints a status line every second: the phase, time in it, the
// run's elapsed time, live req/s and reloads applied so far.
func (rn *run) progress(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last int64
	total := rn.r.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			done := rn.done.Load()
			phase, since := rn.writerPhase()
			elapsed := time.Since(rn.start)
			if rn.ext != nil {
				fmt.Fprintf(rn.r.Log, "bench %s: %-10s %5.1fs  run %3.0fs (phases %.0fs)  %7.0f req/s  changes: %d made, version %d served\n",
					rn.r.strategy.Name, phase, since.Seconds(), elapsed.Seconds(), total.Seconds(), float64(done-last), len(rn.writer.log()), rn.ext.probe.Latest())
				last = done
				continue
			}
			applied, rejected := rn.events.counts()
			fmt.Fprintf(rn.r.Log, "bench %s: %-10s %5.1fs  run %3.0fs (phases %.0fs)  %7.0f req/s  reloads: %d applied, %d rejected\n",
				rn.r.strategy.Name, phase, since.Seconds(), elapsed.Seconds(), total.Seconds(), float64(done-last), applied, rejected)
			last = done
		}
	}
}
