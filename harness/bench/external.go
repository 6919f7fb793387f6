package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/anchors"
	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/target"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/targets/debugapi"
)

// RemoteName names a run against a remote target (Config.TargetURL).
const RemoteName = "remote"

// NotAvailable is how a summary marks what an external target's run
// cannot capture.
const NotAvailable = "not available for an external target"

// settleAfterPhases bounds how long a run waits, after its last change,
// for the probe to see that change served; lingerAfterServed is how long
// the probe keeps polling afterwards to catch old-version responses.
const (
	settleAfterPhases = 3 * time.Second
	lingerAfterServed = 300 * time.Millisecond
)

// StrategyNames returns every name Config.Strategy accepts: the lab's
// presets (package strategies), then the anchors (package anchors), which
// run an external target.
func StrategyNames() []string { return append(strategies.Names(), anchors.Names()...) }

// IsAnchor reports whether name is an anchor preset (nginx, caddy): an
// external target the harness starts.
func IsAnchor(name string) bool { return slices.Contains(anchors.Names(), name) }

// CheckStrategy returns nil when name is a preset or an anchor, otherwise
// an error listing the valid names.
func CheckStrategy(name string) error {
	if slices.Contains(StrategyNames(), name) {
		return nil
	}
	return fmt.Errorf("bench: unknown strategy %q (valid: %s)", name, strings.Join(StrategyNames(), ", "))
}

// externalKind returns target.KindAnchor or target.KindRemote when cfg
// asks for an external target ("" for httpsvc), and rejects the options
// that apply only to the lab's own target. A remote run is renamed
// RemoteName (Strategy may be empty, the CLI's default "atomic", or
// RemoteName).
func externalKind(cfg *Config) (string, error) {
	hooks := cfg.ReloadCmd != "" || cfg.ReloadURL != "" || cfg.ReloadSignal != "" || cfg.ReloadFile != ""
	var kind string
	switch {
	case cfg.TargetURL != "":
		if cfg.Strategy != "" && cfg.Strategy != "atomic" && cfg.Strategy != RemoteName {
			return "", fmt.Errorf("bench: -target-url benches the service at that URL; -strategy %q does not apply (the run is named %q)", cfg.Strategy, RemoteName)
		}
		if _, err := target.NewRemote(cfg.remoteOptions()); err != nil {
			return "", fmt.Errorf("bench: %w", err)
		}
		cfg.Strategy, kind = RemoteName, target.KindRemote
	case hooks:
		return "", errors.New("bench: -reload-cmd, -reload-url, -reload-signal and -reload-file change a remote target: give its -target-url")
	case IsAnchor(cfg.Strategy):
		kind = target.KindAnchor
	default:
		return "", nil
	}
	switch {
	case cfg.Store != "" || cfg.Trigger != "":
		return "", fmt.Errorf("bench: %s is an external target: -store and -trigger choose the lab's own target's strategy", cfg.Strategy)
	case cfg.Pattern != "" && cfg.Pattern != DefaultPattern:
		return "", fmt.Errorf("bench: %s is an external target: write patterns change the lab's own target's file", cfg.Strategy)
	case cfg.ReloadBurn != 0:
		return "", fmt.Errorf("bench: %s is an external target: -reload-burn needs the lab's own target", cfg.Strategy)
	case len(cfg.EtcdEndpoints) > 0:
		return "", fmt.Errorf("bench: %s is an external target: -etcd-endpoints applies to the etcd preset", cfg.Strategy)
	}
	if kind == target.KindRemote && len(cfg.TargetCPUs) > 0 {
		return "", errors.New("bench: a remote target runs elsewhere: -target-cpus does not apply (-load-cpus alone pins the load generator)")
	}
	return kind, nil
}

// remoteOptions are the remote target's options from cfg.
func (cfg Config) remoteOptions() target.RemoteOptions {
	return target.RemoteOptions{URL: cfg.TargetURL, VersionHeader: cfg.VersionHeader, ReloadCmd: cfg.ReloadCmd, ReloadURL: cfg.ReloadURL,
		ReloadSignal: cfg.ReloadSignal, ReloadFile: cfg.ReloadFile, ReloadFileContent: cfg.ReloadFileContent}
}

// externalStrategy describes an external target as a strategy: the store
// is "external", the trigger the change method.
func externalStrategy(cfg Config, kind string) strategies.Strategy {
	s := strategies.Strategy{Name: cfg.Strategy, Preset: cfg.Strategy, Store: "external"}
	if kind == target.KindAnchor {
		s.Trigger, s.Description = target.AnchorChange(cfg.Strategy)
		return s
	}
	if rm, err := target.NewRemote(cfg.remoteOptions()); err == nil {
		s.Trigger, s.Description = rm.Method(), rm.Describe()
	}
	return s
}

// externalMix returns the throughput phase's mix for an external target:
// reloads only. Identical rewrites and rejected parses are controls of the
// lab's own pipeline.
func externalMix(mix []string) ([]string, error) {
	for _, k := range mix {
		if k != analysis.KindReload {
			return nil, fmt.Errorf("bench: shot kind %q needs the lab's own reload pipeline; an external target's mix is reloads only", k)
		}
	}
	return []string{analysis.KindReload}, nil
}

// extRun is an external target's state during a run.
type extRun struct {
	target  target.External
	probe   *target.Probe
	initial int64 // the version served before the first change

	cpuMu              sync.Mutex
	cpuFrom, cpuTo     time.Duration
	cpuBegan, cpuEnded time.Time
	cpuErr             error
}

// extPhase samples an anchor's CPU time at the start (began) and end of
// the throughput phase.
func (rn *run) extPhase(name string, began bool) {
	if rn.ext == nil || name != "throughput" {
		return
	}
	c, ok := rn.ext.target.(interface{ CPUTime() (time.Duration, error) })
	if !ok {
		return
	}
	d, err := c.CPUTime()
	x := rn.ext
	x.cpuMu.Lock()
	defer x.cpuMu.Unlock()
	if err != nil {
		x.cpuErr = err
		return
	}
	if began {
		x.cpuFrom, x.cpuBegan = d, time.Now()
	} else {
		x.cpuTo, x.cpuEnded = d, time.Now()
	}
}

// runExternal is Run for an external target: it starts the anchor (or
// attaches to the remote service), changes it every ReloadEvery while the
// probe watches the version header, drives the same load phases, and
// writes what can be measured from outside.
func (rn *run) runExternal(ctx context.Context, work string) (*Report, error) {
	r := rn.r
	loadCPUs, targetCPUs := r.LoadCPUs, r.TargetCPUs
	if r.ext == target.KindAnchor && len(targetCPUs) == 0 {
		loadCPUs, targetCPUs = target.Split(runtime.NumCPU())
	}
	if err := target.PinSelf(loadCPUs); err != nil {
		rn.warn("could not pin the load generator (%v); load and target share CPUs", err)
		loadCPUs, targetCPUs = nil, nil
	}
	x := &extRun{}
	switch r.ext {
	case target.KindAnchor:
		rn.logf("starting the %s anchor (CPUs %v; load on %v)", r.Strategy, targetCPUs, loadCPUs)
		a, err := target.StartAnchor(ctx, r.Strategy, anchors.Options{CPUs: targetCPUs, Keys: r.KeysPerRequest, InitialVersion: 1, WorkDir: work})
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		x.target = a
	default:
		rm, err := target.NewRemote(r.remoteOptions())
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		rn.logf("attaching to %s (load generator on CPUs %s); a change: %s", rm.URL(), cpuList(loadCPUs), rm.Describe())
		x.target = rm
	}
	defer x.target.Stop() // a second Stop returns the first one's result
	v0, err := target.FetchVersion(ctx, x.target.URL(), x.target.VersionHeader())
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", r.Strategy, err)
	}
	x.initial = v0
	rn.url, rn.ext = x.target.URL(), x

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchDone := make(chan struct{})
	var watchWG sync.WaitGroup
	watchWG.Add(1)
	go func() {
		defer watchWG.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-watchDone:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := x.target.Alive(); err != nil {
					cancel(fmt.Errorf("bench: the %s target died mid-run (%v); its last output lines:\n%s", r.Strategy, err, x.target.Output()))
					return
				}
			}
		}
	}()
	stopWatch := sync.OnceFunc(func() { close(watchDone); watchWG.Wait() })
	defer stopWatch()
	fail := func(err error) (*Report, error) {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return nil, cause
		}
		return nil, err
	}

	every := r.ProbeEvery
	if every <= 0 {
		every = target.DefaultProbeEvery
	}
	x.probe = target.StartProbe(ctx, target.ProbeOptions{URL: rn.url, Header: x.target.VersionHeader(), Every: every,
		MaxRecords: int((3*r.Duration + time.Minute) / every)})
	stopProbe := sync.OnceValue(x.probe.Stop)
	defer stopProbe()

	rn.writer = newReloadWriter("", 0, r.ReloadEvery, writepattern.Pattern{}, false, nil, nil,
		func(err error) { rn.warn("change failed: %v", err) })
	rn.writer.version = v0
	rn.writer.change = x.target.Change
	bg, stopBG := context.WithCancel(ctx)
	var bgWG sync.WaitGroup
	bgWG.Add(2)
	go func() { defer bgWG.Done(); rn.writer.run(bg) }()
	go func() { defer bgWG.Done(); rn.progress(bg) }()
	for _, spec := range r.phases {
		if err := rn.runPhase(ctx, spec, nil); err != nil {
			stopBG()
			bgWG.Wait()
			return fail(err)
		}
	}
	rn.writer.pause()
	stopBG()
	bgWG.Wait()

	// Let the last change be served, then keep probing a little for the
	// old version's last responses.
	rn.writer.mu.Lock()
	last := rn.writer.version
	rn.writer.mu.Unlock()
	deadline := time.Now().Add(settleAfterPhases)
	for x.probe.Latest() < last && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-time.After(lingerAfterServed):
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}
	probes := stopProbe()
	stopWatch()
	if err := x.target.Stop(); err != nil {
		rn.warn("%v", err)
	}

	rn.logf("analysing")
	out, err := rn.finishExternal(probes, loadCPUs, targetCPUs)
	if err != nil {
		return nil, err
	}
	if err := rn.stage.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}

// ChangeTiming is what the probe saw of one change of an external target.
// Times are when responses arrived at the probe.
type ChangeTiming struct {
	Version  int64     `json:"version"`
	Phase    string    `json:"phase"`
	Issued   time.Time `json:"issued"`   // the harness began the change
	Returned time.Time `json:"returned"` // the change call returned
	// FirstNew is the first response with Version or later, of any probe
	// connection (FirstNewConn); zero if none came.
	FirstNew     time.Time `json:"first_new,omitzero"`
	FirstNewSent time.Time `json:"first_new_sent,omitzero"` // when that request was sent: it was served in between
	FirstNewConn string    `json:"first_new_conn,omitempty"`
	// LastOld is the last response with an older version to a request
	// sent after Issued (a request in flight at Issued may be old by
	// right); zero if none.
	LastOld     time.Time `json:"last_old,omitzero"`
	LastOldConn string    `json:"last_old_conn,omitempty"`
	// OldAfterNew counts old-version responses that arrived after
	// FirstNew: clients still served by the old configuration.
	OldAfterNew int `json:"old_after_new"`
}

// Served reports whether a probe saw the new version.
func (c ChangeTiming) Served() bool { return !c.FirstNew.IsZero() }

// ToFirstNew is change issued → first new-version response (0 if never).
func (c ChangeTiming) ToFirstNew() time.Duration {
	if !c.Served() {
		return 0
	}
	return c.FirstNew.Sub(c.Issued)
}

// ToLastOld is change issued → last old-version response (0 if none).
func (c ChangeTiming) ToLastOld() time.Duration {
	if c.LastOld.IsZero() {
		return 0
	}
	return c.LastOld.Sub(c.Issued)
}

// changeTimings matches every change with the probe's responses (sorted
// by Received, as target.Probe returns them).
func changeTimings(changes []analysis.Write, probes []target.ProbeRecord) []ChangeTiming {
	cs := slices.Clone(changes)
	sort.Slice(cs, func(i, j int) bool { return cs[i].Start.Before(cs[j].Start) })
	out := make([]ChangeTiming, 0, len(cs))
	for _, w := range cs {
		ct := ChangeTiming{Version: w.Version, Phase: w.Phase, Issued: w.Start, Returned: w.End}
		issued := w.Start.UnixNano()
		i := sort.Search(len(probes), func(i int) bool { return probes[i].Received >= issued })
		var firstNew int64
		for _, p := range probes[i:] {
			switch {
			case p.Version < 0 || p.Err != "":
				continue
			case p.Version >= w.Version:
				if firstNew == 0 {
					firstNew, ct.FirstNew, ct.FirstNewSent, ct.FirstNewConn = p.Received, time.Unix(0, p.Received), time.Unix(0, p.Sent), p.Conn
				}
			case p.Sent >= issued:
				ct.LastOld, ct.LastOldConn = time.Unix(0, p.Received), p.Conn
				if firstNew != 0 {
					ct.OldAfterNew++
				}
			}
		}
		out = append(out, ct)
	}
	return out
}

// reloadWindow is a change's reload window: [issued − Lead, first
// new-version response + Tail), the geometry the lab's own target's
// windows use around its pipeline run. A change never served has none.
func reloadWindow(c ChangeTiming, g analysis.Geometry) (analysis.Span, bool) {
	if !c.Served() {
		return analysis.Span{}, false
	}
	return analysis.Span{From: c.Issued.UnixNano() - int64(g.Lead), To: c.FirstNew.UnixNano() + int64(g.Tail)}, true
}

// changeoverWindow is a change's changeover: its reload window stretched
// to the last old-version response (+ Tail) when that came later.
func changeoverWindow(c ChangeTiming, g analysis.Geometry) (analysis.Span, bool) {
	s, ok := reloadWindow(c, g)
	if ok && c.LastOld.After(c.FirstNew) {
		s.To = c.LastOld.UnixNano() + int64(g.Tail)
	}
	return s, ok
}

// externalShots are the reload shots of an external target: from the
// change issued to the first new-version response.
func externalShots(ts []ChangeTiming) []analysis.Shot {
	var out []analysis.Shot
	for _, c := range ts {
		if !c.Served() {
			continue
		}
		out = append(out, analysis.Shot{Kind: analysis.KindReload, Version: c.Version, Phase: c.Phase,
			Start: c.Issued.UnixNano(), End: c.FirstNew.UnixNano(), WriteEnd: c.Returned.UnixNano()})
	}
	return out
}

// ExternalSummary is what a run measured of an external target from
// outside: how changes were made, when the probe saw them served, and what
// failed around them.
type ExternalSummary struct {
	Kind           string `json:"kind"` // anchor or remote
	URL            string `json:"url"`
	VersionHeader  string `json:"version_header"`
	Method         string `json:"change_method"`
	Change         string `json:"change"`
	InitialVersion int64  `json:"initial_version"`
	// Changes made in the measured phases: Served were seen by the probe,
	// NeverServed were not. ChangeErrors counts failed change calls over
	// the whole run.
	Changes      int `json:"changes"`
	Served       int `json:"served"`
	NeverServed  int `json:"never_served"`
	ChangeErrors int `json:"change_errors"`
	// ChangeCallMs: change issued → the change call returned.
	ChangeCallMs analysis.Quantiles `json:"change_call_ms"`
	// FirstNewMs: change issued → the first new-version response.
	FirstNewMs analysis.Quantiles `json:"change_to_first_new_ms"`
	// LastOldMs: change issued → the last old-version response to a
	// request sent after the change, over the changes that had one (N).
	LastOldMs analysis.Quantiles `json:"change_to_last_old_ms"`
	// OldAfterNew counts old-version responses after the first new one,
	// in ChangesWithOldAfterNew changes.
	OldAfterNew            int `json:"old_after_new_responses"`
	ChangesWithOldAfterNew int `json:"changes_with_old_after_new"`
	// Changeover counts failures in the changeover windows: each reload
	// window stretched to the last old-version response.
	Changeover RequestErrors `json:"changeover_errors"`
	Probe      ProbeSummary  `json:"probe"`
	// TargetCPU is an anchor's process CPU use in the throughput phase
	// (nil for a remote target).
	TargetCPU *CPUUse `json:"target_cpu,omitempty"`
}

// ProbeSummary counts the probe's requests by connection mode.
type ProbeSummary struct {
	KeepAliveEveryMs float64        `json:"keepalive_every_ms"`
	FreshEveryMs     float64        `json:"fresh_every_ms"`
	Requests         map[string]int `json:"requests"`
	Failed           map[string]int `json:"failed"`
	ByClass          map[string]int `json:"failed_by_class,omitempty"`
	// RoundTripMs is the probe's own round trip (sent → response read)
	// over its successful requests: the resolution of every "→ first new"
	// and "→ last old" time (a response was served somewhere in it). It
	// grows when the load generator's CPUs, which the probe shares, are
	// saturated.
	RoundTripMs analysis.Quantiles `json:"round_trip_ms"`
}

// CPUUse is a target's process CPU time over a phase.
type CPUUse struct {
	Phase       string  `json:"phase"`
	Seconds     float64 `json:"seconds"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	CPUs        int     `json:"cpus"`
	Utilization float64 `json:"utilization"` // CPU seconds ÷ (seconds × CPUs)
}

// externalNulls are the fields of summary.json an external target's run
// cannot fill: MarshalJSON writes them as null ("**" matches at any depth).
var externalNulls = []string{
	"consistent_view", "target_gomaxprocs", "goroutine_profiles", "target_torn_requests",
	"keys", "keys_per_request", "request_work_ns",
	"results.torn", "results.gc_pauses", "results.waiting_goroutines", "results.sched_wait", "results.mutex_wait_ms_per_s", "results.traces",
	"results.reloads.detection_ms", "results.reloads.apply_us",
	"results.throughput.target_cpus", "results.throughput.stages",
	"results.throughput.**.cpu_ms", "results.latency.**.cpu_ms",
}

// notAvailable lists what an external target's run cannot capture.
func notAvailable(kind string) []string {
	out := []string{
		"execution traces (flight-recorder windows around reloads): " + NotAvailable,
		"CPU, heap, block, mutex and goroutine profiles: " + NotAvailable,
		"goroutine profiles and the share of goroutines in a lock (goroutine_profiles): " + NotAvailable,
		"runtime/metrics — GC pauses (results.gc_pauses), runnable wait for a CPU (results.sched_wait), lock wait (results.mutex_wait_ms_per_s), waiting goroutines (results.waiting_goroutines): " + NotAvailable,
		"the reload pipeline's per-stage CPU (cpu_ms), the dip it predicts (predicted_pp, predicted_with_gc_pp) and the GC CPU in windows (gc_ms): " + NotAvailable,
		"the stage decomposition (identical rewrites and rejected parses are controls of the lab's own pipeline; results.throughput.stages): " + NotAvailable,
		"the target's reload events — detection latency write → applied (results.reloads.detection_ms) and apply duration (results.reloads.apply_us): " + NotAvailable + "; change → first new-version response and → last old-version response (external) are measured instead",
		"torn requests (results.torn, target_torn_requests: the response does not say whether it read two versions) and the consistent-view flag: " + NotAvailable,
		"the target's GOMAXPROCS, per-request work and keys (target_gomaxprocs, request_work_ns, keys, keys_per_request): " + NotAvailable + " (its own handler answers)",
	}
	if kind == target.KindRemote {
		out = append(out, "the target's CPU use (it runs elsewhere): not available for a remote target")
	}
	return out
}

// measured returns the throughput and latency phases' results.
func (rn *run) measured() (tp, lat *load.Result) {
	for _, ph := range rn.phases {
		switch ph.Phase.Name {
		case "throughput":
			tp = ph
		case "latency":
			lat = ph
		}
	}
	return tp, lat
}

// finishExternal analyses an external target's run and writes every
// output it can have into the stage.
func (rn *run) finishExternal(probes []target.ProbeRecord, loadCPUs, targetCPUs []int) (*Report, error) {
	r, x := rn.r, rn.ext
	g := analysis.DefaultGeometry
	writes := rn.writer.log()
	timings := changeTimings(writes, probes)
	shots := externalShots(timings)
	tp, lat := rn.measured()
	// TargetCPUs 0: there is no CPU accounting to predict a dip from.
	sum := analysis.Analyze(analysis.Input{Throughput: tp, Latency: lat, Shams: shots, Sample: analysis.QPSSample, Geometry: g})
	sum.Throughput.Stages = nil
	var spans []analysis.Span
	for _, ph := range []*load.Result{tp, lat} {
		if ph != nil && len(ph.Recs) > 0 {
			spans = append(spans, analysis.Span{From: ph.Began.UnixNano(), To: ph.Ended.UnixNano()})
		}
	}
	inSpans := func(t time.Time) bool {
		for _, s := range spans {
			if n := t.UnixNano(); n >= s.From && n < s.To {
				return true
			}
		}
		return false
	}
	es := &ExternalSummary{Kind: x.target.Kind(), URL: x.target.URL(), VersionHeader: x.target.VersionHeader(), Method: x.target.Method(),
		Change: x.target.Describe(), InitialVersion: x.initial, ChangeErrors: rn.writer.failures}
	var call, first, lastOld []float64
	var overs []analysis.Span
	for _, c := range timings {
		if !inSpans(c.Issued) {
			continue
		}
		es.Changes++
		call = append(call, float64(c.Returned.Sub(c.Issued)))
		if !c.Served() {
			es.NeverServed++
			continue
		}
		es.Served++
		first = append(first, float64(c.ToFirstNew()))
		if !c.LastOld.IsZero() {
			lastOld = append(lastOld, float64(c.ToLastOld()))
		}
		if c.OldAfterNew > 0 {
			es.OldAfterNew += c.OldAfterNew
			es.ChangesWithOldAfterNew++
		}
	}
	for _, c := range timings {
		if s, ok := changeoverWindow(c, g); ok {
			overs = append(overs, s)
		}
	}
	es.ChangeCallMs, es.FirstNewMs, es.LastOldMs = analysis.Summarize(call, 1e-6), analysis.Summarize(first, 1e-6), analysis.Summarize(lastOld, 1e-6)
	sum.Reloads = analysis.ReloadSummary{Written: es.Changes, Applied: es.Served, NotApplied: es.NeverServed}
	measuredPhases := []*load.Result{tp, lat}
	es.Changeover = countErrors(measuredPhases, mergeSpans(overs),
		"[change issued − 10 ms, the later of the first new-version and the last old-version response + 40 ms], throughput and latency phases")
	es.Probe = summarizeProbe(probes, r.ProbeEvery)
	x.cpuMu.Lock()
	if x.cpuErr != nil {
		rn.warn("target CPU time: %v", x.cpuErr)
	} else if secs := x.cpuEnded.Sub(x.cpuBegan).Seconds(); secs > 0 && len(targetCPUs) > 0 {
		cpu := (x.cpuTo - x.cpuFrom).Seconds()
		es.TargetCPU = &CPUUse{Phase: "throughput", Seconds: secs, CPUSeconds: cpu, CPUs: len(targetCPUs), Utilization: cpu / (secs * float64(len(targetCPUs)))}
	}
	x.cpuMu.Unlock()

	s := Summary{
		Strategy: r.strategy.Name, Store: r.strategy.Store, Trigger: r.strategy.Trigger, Pattern: r.patternName(),
		Keys: r.Keys, KeysPerRequest: r.KeysPerRequest, ReloadEvery: r.ReloadEvery.String(),
		TargetCPUs: targetCPUs, LoadCPUs: loadCPUs, SharedCPUs: Shared(targetCPUs, loadCPUs), TornCheck: NotAvailable,
		Results: sum, External: es, NotAvailable: notAvailable(es.Kind), Made: r.CommandLine,
	}
	s.Errors = countErrors(measuredPhases, shotWindows(shots, g),
		"[change issued − 10 ms, first new-version response + 40 ms] of every change, throughput and latency phases")
	s.Verdict, s.Notes = externalVerdict(s)
	s.Warnings = rn.warnings

	st := rn.stage
	if err := rn.writeExternalRaw(writes, probes, timings); err != nil {
		return nil, err
	}
	if err := results.WriteJSON(st.Path("summary.json"), s); err != nil {
		return nil, err
	}
	p := rn.plan(debugapi.ReloadStatus{}, loadCPUs, targetCPUs, &diagnosis{})
	delete(p.Pinning, "target_gomaxprocs")
	p.Diagnosis = map[string]any{"skipped": true, "why": "an external target has no flight recorder, profiles or runtime/metrics the lab can read"}
	p.RequestWork, p.ReloadBurn = "n/a (the external target's own handler)", "n/a"
	p.Files = map[string][]string{"raw": {"attack.bin", "writes.jsonl", "probes.jsonl", "changes.jsonl"}}
	p.External = map[string]any{"kind": es.Kind, "url": es.URL, "version_header": es.VersionHeader, "change": es.Change,
		"initial_version": es.InitialVersion, "probe_keepalive_every": durOr(r.ProbeEvery, target.DefaultProbeEvery).String(),
		"probe_fresh_every": target.DefaultProbeFreshEvery.String(), "not_available": s.NotAvailable}
	if err := results.WriteJSON(st.Path("plan.json"), p); err != nil {
		return nil, err
	}
	if err := writeBenchfmt(st.Path("bench.txt"), s); err != nil {
		return nil, err
	}
	var marks []int64
	for _, c := range timings {
		marks = append(marks, c.Issued.UnixNano())
	}
	series := analysis.MakeSeries(rn.phases, marks, nil)
	if err := writeExternalPlots(st.Dir, s, series); err != nil {
		return nil, err
	}
	if err := results.WriteFile(st.Path("summary.md"), []byte(externalMarkdown(s, rn.timings))); err != nil {
		return nil, err
	}
	return &Report{Dir: r.Out, Summary: s, Rate: rn.openRate, Series: series}, nil
}

func durOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// summarizeProbe counts the probe's requests and failures.
func summarizeProbe(probes []target.ProbeRecord, every time.Duration) ProbeSummary {
	ps := ProbeSummary{KeepAliveEveryMs: float64(durOr(every, target.DefaultProbeEvery)) / 1e6, FreshEveryMs: float64(target.DefaultProbeFreshEvery) / 1e6,
		Requests: map[string]int{}, Failed: map[string]int{}, ByClass: map[string]int{}}
	var rtt []float64
	for _, p := range probes {
		ps.Requests[p.Conn]++
		switch {
		case p.Err != "":
			ps.Failed[p.Conn]++
			ps.ByClass[target.ClassifyError(p.Err)]++
		case p.Status != 200:
			ps.Failed[p.Conn]++
			ps.ByClass[target.ErrStatus]++
		default:
			rtt = append(rtt, float64(p.Received-p.Sent))
		}
	}
	ps.RoundTripMs = analysis.Summarize(rtt, 1e-6)
	return ps
}

// writeExternalRaw writes the raw, git-ignored files of an external run.
func (rn *run) writeExternalRaw(writes []analysis.Write, probes []target.ProbeRecord, timings []ChangeTiming) error {
	write := rn.writeRawFile
	if err := write("attack.bin", func(f *os.File) error { return load.WriteAttack(f, "reloadlab", rn.phases...) }); err != nil {
		return err
	}
	if err := write("writes.jsonl", func(f *os.File) error { return writeJSONLines(f, writes) }); err != nil {
		return err
	}
	if err := write("probes.jsonl", func(f *os.File) error { return writeJSONLines(f, probes) }); err != nil {
		return err
	}
	return write("changes.jsonl", func(f *os.File) error { return writeJSONLines(f, timings) })
}

// errorsClause is the verdict's clause on failed requests.
func errorsClause(e RequestErrors) string {
	if e.Failed == 0 {
		return fmt.Sprintf("; no failed requests (%d sent)", e.Requests)
	}
	return fmt.Sprintf("; %d of %d requests failed in reload windows (%d connection resets/EOFs), %d of %d overall (%d resets/EOFs)",
		e.WindowFailed, e.WindowRequests, e.WindowConnectionResets, e.Failed, e.Requests, e.ConnectionResets)
}

// externalVerdict is the verdict and notes of an external target's run.
func externalVerdict(s Summary) (string, []string) {
	res, es := s.Results, s.External
	var b strings.Builder
	fmt.Fprintf(&b, "%s (external %s, change: %s): ", s.Strategy, es.Kind, es.Method)
	rk := res.Throughput.Kind(analysis.KindReload)
	if rk == nil || rk.N == 0 {
		b.WriteString("the QPS dip could not be measured (no usable reload in the throughput phase)")
	} else {
		b.WriteString(dipClause(*rk))
	}
	if l := res.Latency; l.Window.N > 0 && l.Steady.N > 0 {
		fmt.Fprintf(&b, "; at %d req/s (%.0f%% of capacity) p99 latency %.2f ms in reload windows vs %.2f ms in their controls", l.RateRPS, 100*l.Utilization, l.Window.P99, l.Steady.P99)
	}
	if q := es.FirstNewMs; q.N > 0 {
		fmt.Fprintf(&b, "; change → first new-version response p50 %.1f ms (p99 %.1f)", q.P50, q.P99)
		if o := es.LastOldMs; o.N > 0 {
			fmt.Fprintf(&b, ", → last old-version response p50 %.1f ms (max %.1f)", o.P50, o.Max)
		} else {
			b.WriteString(", no old-version response after a change")
		}
	} else {
		fmt.Fprintf(&b, "; none of %d changes was seen served", es.Changes)
	}
	b.WriteString(errorsClause(s.Errors))
	b.WriteString(".")

	var notes []string
	if rk != nil && rk.N > 0 {
		notes = append(notes, fmt.Sprintf("Reload windows are the harness's own: [change issued − %s, first new-version response + %s], with controls of adjacent steady time as for the lab's target; the target's own CPU accounting is not available, so no dip is predicted.",
			analysis.DefaultGeometry.Lead, analysis.DefaultGeometry.Tail))
	}
	if c := es.TargetCPU; c != nil {
		n := fmt.Sprintf("The target used %.0f%% of its %d CPU(s) in the throughput phase (process CPU time).", 100*c.Utilization, c.CPUs)
		if c.Utilization < 0.9 {
			n += " It was not saturated: the load generator, not the target, bounded the capacity, so the dip says how much a reload slows the requests in flight more than how much server capacity it takes."
		}
		notes = append(notes, n)
	}
	if es.ChangesWithOldAfterNew > 0 {
		notes = append(notes, fmt.Sprintf("In %d of %d changes a client still got the old version after another had got the new one (%d responses): connections the old configuration's process kept serving while it drained.",
			es.ChangesWithOldAfterNew, es.Served, es.OldAfterNew))
	}
	if es.NeverServed > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d changes were never seen served (a newer change came first, or the target did not apply it).", es.NeverServed, es.Changes))
	}
	if es.ChangeErrors > 0 {
		notes = append(notes, fmt.Sprintf("%d change calls failed (see the warnings).", es.ChangeErrors))
	}
	if s.SharedCPUs {
		notes = append(notes, fmt.Sprintf("The target (CPUs %v) and the load generator (CPUs %v) share CPUs.", s.TargetCPUs, s.LoadCPUs))
	}
	return b.String(), notes
}

// errorTable renders failed requests by class, overall and in windows.
func errorTable(b *strings.Builder, e RequestErrors) {
	fmt.Fprintf(b, "| failed requests (load generator) | overall | in reload windows |\n|---|---|---|\n| requests | %d | %d |\n| failed | %d | %d |\n| of which connection resets/EOFs | %d | %d |\n",
		e.Requests, e.WindowRequests, e.Failed, e.WindowFailed, e.ConnectionResets, e.WindowConnectionResets)
	for _, c := range target.ErrorClasses() {
		if e.ByClass[c] > 0 {
			fmt.Fprintf(b, "| %s | %d | %d |\n", c, e.ByClass[c], e.WindowByClass[c])
		}
	}
	fmt.Fprintf(b, "\nReload windows here: %s.\n\n", e.Windows)
}

// externalMarkdown is summary.md of an external target's run.
func externalMarkdown(s Summary, timings []phaseTiming) string {
	r, es := s.Results, s.External
	var b strings.Builder
	fmt.Fprintf(&b, "# bench: %s (external target)\n\n", s.Strategy)
	fmt.Fprintf(&b, "**Verdict:** %s\n\n", s.Verdict)
	where := "runs elsewhere"
	if len(s.TargetCPUs) > 0 {
		where = fmt.Sprintf("pinned to CPUs %v", s.TargetCPUs)
	}
	fmt.Fprintf(&b, "Target: %s %s at %s, %s; the load generator on CPUs %v. A change every %s: %s. The served version is read from the `%s` header by a probe separate from the load (a keep-alive request every %.0f ms and a new connection every %.0f ms). Made by `%s`.\n\n",
		es.Kind, s.Strategy, es.URL, where, s.LoadCPUs, s.ReloadEvery, es.Change, es.VersionHeader, es.Probe.KeepAliveEveryMs, es.Probe.FreshEveryMs, s.Made)
	tp := r.Throughput
	fmt.Fprintf(&b, "## What a reload costs (closed model at saturation: capacity %.0f req/s)\n\n", tp.CapacityRPS)
	if rk := tp.Kind(analysis.KindReload); rk != nil {
		b.WriteString("| shot | n (dropped) | lost throughput per reload | QPS dip (share of a 1 s QPS sample) |\n|---|---|---|---|\n")
		fmt.Fprintf(&b, "| reload | %d (%d) | %s ms | %s pp |\n\n", rk.N, rk.Dropped, est(rk.LostMs, 2), est(rk.DipPP, 2))
	}
	fmt.Fprintf(&b, "Reload windows: [change issued − %s, first new-version response + %s]; each against adjacent steady time of the same length.\n\n", analysis.DefaultGeometry.Lead, analysis.DefaultGeometry.Tail)
	b.WriteString("## Around reloads vs steady time\n\n| | reload windows | steady (their controls) |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| latency p50 / p99 / p99.9 (open model, %d req/s = %.0f%% of capacity) | %.2f / %.2f / %.2f ms | %.2f / %.2f / %.2f ms |\n",
		r.Latency.RateRPS, 100*r.Latency.Utilization, r.Latency.Window.P50, r.Latency.Window.P99, r.Latency.Window.P999, r.Latency.Steady.P50, r.Latency.Steady.P99, r.Latency.Steady.P999)
	fmt.Fprintf(&b, "| p99 corrected for coordinated omission | %.2f ms | %.2f ms |\n\n", r.Latency.WindowCorrected.P99, r.Latency.SteadyCorrected.P99)
	errorTable(&b, s.Errors)
	b.WriteString("## Change → serving (probe)\n\n| from the change issued to | n | p50 | p99 | max |\n|---|---|---|---|---|\n")
	for _, row := range []struct {
		name string
		q    analysis.Quantiles
	}{{"the change call's return", es.ChangeCallMs}, {"the first new-version response", es.FirstNewMs}, {"the last old-version response (changes that had one)", es.LastOldMs}} {
		fmt.Fprintf(&b, "| %s | %d | %.1f ms | %.1f ms | %.1f ms |\n", row.name, row.q.N, row.q.P50, row.q.P99, row.q.Max)
	}
	fmt.Fprintf(&b, "\nChanges in the measured phases: %d made, %d seen served, %d never; %d change calls failed in the whole run. Old-version responses after the first new one: %d, in %d changes. Changeover windows (each reload window stretched to the last old-version response + %s): %d of %d requests failed, %d connection resets/EOFs.\n\n",
		es.Changes, es.Served, es.NeverServed, es.ChangeErrors, es.OldAfterNew, es.ChangesWithOldAfterNew, analysis.DefaultGeometry.Tail,
		es.Changeover.WindowFailed, es.Changeover.WindowRequests, es.Changeover.WindowConnectionResets)
	fmt.Fprintf(&b, "Probe requests: %d keep-alive (%d failed), %d on new connections (%d failed)", es.Probe.Requests[target.ProbeKeepAlive], es.Probe.Failed[target.ProbeKeepAlive],
		es.Probe.Requests[target.ProbeFresh], es.Probe.Failed[target.ProbeFresh])
	if len(es.Probe.ByClass) > 0 {
		var parts []string
		for _, c := range target.ErrorClasses() {
			if n := es.Probe.ByClass[c]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", c, n))
			}
		}
		fmt.Fprintf(&b, "; failures: %s", strings.Join(parts, ", "))
	}
	b.WriteString(".")
	if q := es.Probe.RoundTripMs; q.N > 0 {
		fmt.Fprintf(&b, " The probe's own round trip, p50 %.2f ms, p99 %.2f ms, max %.1f ms, is the resolution of the times above: each response was served somewhere between its request's send and its arrival (the probe shares the load generator's CPUs).", q.P50, q.P99, q.Max)
	}
	b.WriteString("\n\n")
	if c := es.TargetCPU; c != nil {
		fmt.Fprintf(&b, "Target CPU in the %s phase: %.2f s of CPU in %.1f s on %d CPU(s), %.0f%% utilization.\n\n", c.Phase, c.CPUSeconds, c.Seconds, c.CPUs, 100*c.Utilization)
	}
	b.WriteString("## Not available for an external target\n\n")
	for _, n := range s.NotAvailable {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("\nThose fields are null in `summary.json`. Figures: `throughput.png` (completed req/s per 100 ms bin), `latency.png` (per-request latency, p50/p99 per 250 ms bin); changes are the vertical lines. Raw: `attack.bin` (`go tool vegeta report`), `writes.jsonl` (the changes), `probes.jsonl` (every probe response), `changes.jsonl` (each change's first new and last old response).\n\n")
	b.WriteString("Notes:\n\n")
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "- Warning: %s\n", w)
	}
	b.WriteString(phasesLine(timings, false))
	b.WriteString(".\n")
	return b.String()
}

// cpuList renders a CPU list for a log line ("unpinned" for none).
func cpuList(cpus []int) string {
	if len(cpus) == 0 {
		return "unpinned"
	}
	return fmt.Sprint(cpus)
}
