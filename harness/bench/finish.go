package bench

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/harness/traceinfo"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/targets/debugapi"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

// Summary is summary.json.
type Summary struct {
	Strategy       string           `json:"strategy"`
	Store          string           `json:"store"`
	Trigger        string           `json:"trigger"`
	Pattern        string           `json:"pattern"`
	Keys           int              `json:"keys"`
	KeysPerRequest int              `json:"keys_per_request"`
	ReloadEvery    string           `json:"reload_every"`
	ConsistentView bool             `json:"consistent_view"`
	GOMAXPROCS     int              `json:"target_gomaxprocs"`
	TargetCPUs     []int            `json:"target_cpus"`
	LoadCPUs       []int            `json:"load_cpus"`
	SharedCPUs     bool             `json:"shared_cpus"`     // target and load generator share CPUs
	RequestWork    time.Duration    `json:"request_work_ns"` // CPU each request spends in the target (-work)
	ReloadBurn     time.Duration    `json:"reload_burn_ns,omitempty"`
	Goroutines     GoroutineSummary `json:"goroutine_profiles"`
	TargetTorn     uint64           `json:"target_torn_requests"` // the target's own counter, all phases
	TornCheck      string           `json:"torn_check"`
	Results        analysis.Summary `json:"results"`
	Errors         RequestErrors    `json:"request_errors"` // failed requests as the load generator saw them
	// External is what an external target's run measured from outside
	// (nil for the lab's own target); NotAvailable lists what it could
	// not, and the fields of summary.json that are null for that reason.
	External     *ExternalSummary `json:"external,omitempty"`
	NotAvailable []string         `json:"not_available,omitempty"`
	Verdict      string           `json:"verdict"`
	Notes        []string         `json:"notes"`
	Warnings     []string         `json:"warnings,omitempty"`
	Made         string           `json:"made_by"`
}

// finish analyses the run and writes every output into the stage.
func (rn *run) finish(ctx context.Context, final debugapi.ReloadStatus, samples []telemetry.Sample, diag *diagnosis, loadCPUs, targetCPUs []int) (*Report, error) {
	r := rn.r
	events := rn.events.all()
	writes := rn.writer.log()
	var tp, lat *load.Result
	for _, ph := range rn.phases {
		switch ph.Phase.Name {
		case "throughput":
			tp = ph
		case "latency":
			lat = ph
		}
	}
	traces := rn.traceWindows(diag, events)
	sum := analysis.Analyze(analysis.Input{Throughput: tp, Latency: lat, Events: events, Writes: writes, Samples: samples, Traces: traces,
		Sample: analysis.QPSSample, TargetCPUs: final.GOMAXPROCS})
	s := Summary{
		Strategy: r.strategy.Name, Store: r.strategy.Store, Trigger: r.strategy.Trigger, Pattern: r.patternName(),
		Keys: r.Keys, KeysPerRequest: r.KeysPerRequest, ReloadEvery: r.ReloadEvery.String(),
		ConsistentView: final.ConsistentView, GOMAXPROCS: final.GOMAXPROCS, TargetTorn: final.TornRequests, TornCheck: final.TornCheck,
		TargetCPUs: targetCPUs, LoadCPUs: loadCPUs, SharedCPUs: Shared(targetCPUs, loadCPUs),
		RequestWork: final.RequestWork, ReloadBurn: final.ReloadExtraCost, Goroutines: SummarizeGoroutines(rn.goroutines),
		Results: sum, Made: r.CommandLine,
	}
	shots, _ := analysis.MatchShots(writes, events)
	s.Errors = countErrors([]*load.Result{tp, lat}, shotWindows(shots, analysis.DefaultGeometry),
		"[pipeline start − 10 ms, pipeline end + 40 ms] of every reload the target ran (its own event log), throughput and latency phases")
	s.Verdict, s.Notes = verdict(s)
	s.Warnings = rn.warnings

	st := rn.stage
	if err := rn.writeRaw(events, writes, samples); err != nil {
		return nil, err
	}
	if err := results.WriteJSON(st.Path("summary.json"), s); err != nil {
		return nil, err
	}
	if err := results.WriteJSON(st.Path("plan.json"), rn.plan(final, loadCPUs, targetCPUs, diag)); err != nil {
		return nil, err
	}
	if err := writeBenchfmt(st.Path("bench.txt"), s); err != nil {
		return nil, err
	}
	applies := appliedTimes(events)
	series := analysis.MakeSeries(rn.phases, applies, samples)
	if err := writePlots(st.Dir, s, series, rn.goroutines, samples, rn.timings, applies); err != nil {
		return nil, err
	}
	if err := results.WriteFile(st.Path("summary.md"), []byte(summaryMarkdown(s, rn.timings, diag))); err != nil {
		return nil, err
	}
	return &Report{Dir: r.Out, Summary: s, Rate: rn.openRate, Series: series}, nil
}

func appliedTimes(events []strategies.Event) []int64 {
	var out []int64
	for _, e := range events {
		if e.Outcome == strategies.Applied {
			out = append(out, e.ApplyStart.UnixNano())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// traceWindows parses each capture and measures the reload window of the
// reload it was taken for.
func (rn *run) traceWindows(diag *diagnosis, events []strategies.Event) []analysis.TraceWindow {
	bySeq := map[uint64]strategies.Event{}
	for _, e := range events {
		bySeq[e.Seq] = e
	}
	var out []analysis.TraceWindow
	for i, snap := range diag.snapshots {
		file := diag.traces[i]
		tw := analysis.TraceWindow{File: file, Version: snap.Version, Apply: snap.Reload}
		if e, ok := bySeq[snap.ReloadSeq]; ok {
			tw.Apply = e.ApplyStart
		}
		sum, err := traceinfo.ParseFile(rn.stage.Path(file))
		if err != nil {
			rn.warn("%s: %v", file, err)
			continue
		}
		from, to := tw.Apply.Add(-analysis.WindowBefore), tw.Apply.Add(analysis.WindowAfter)
		tw.Span = analysis.Span{From: from.UnixNano(), To: to.UnixNano()}
		tw.CoversSpan = !sum.Start.After(from) && !sum.End.Before(to)
		tw.Truncated = sum.Truncated
		reasons := map[string]bool{}
		for _, r := range sum.STWIn(from, to) {
			tw.STWCount++
			tw.STWTotal += r.Dur
			tw.STWMax = max(tw.STWMax, r.Dur)
			reasons[r.Reason] = true
		}
		tw.Reasons = sortedKeys(reasons)
		blocks := sum.LockBlocksIn(from, to)
		tw.LockBlocks = len(blocks)
		tw.LockBlocked = sum.BlockedGoroutinesIn(from, to)
		frames := map[string]bool{}
		for _, b := range blocks {
			frames[b.Frame] = true
		}
		tw.Frames = sortedKeys(frames)
		for _, l := range sum.LogsIn("reload") {
			tw.ReloadLogs = append(tw.ReloadLogs, l.Message)
		}
		out = append(out, tw)
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// writeRawFile writes one raw, git-ignored file of the stage through a
// temporary name, so a failed write leaves no partial file under name.
func (rn *run) writeRawFile(name string, fn func(f *os.File) error) error {
	tmp := rn.stage.Path(name + ".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("bench: write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := os.Rename(tmp, rn.stage.Path(name)); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// writeRaw writes the raw, git-ignored files.
func (rn *run) writeRaw(events []strategies.Event, writes []analysis.Write, samples []telemetry.Sample) error {
	write := rn.writeRawFile
	if err := write("attack.bin", func(f *os.File) error { return load.WriteAttack(f, "reloadlab", rn.phases...) }); err != nil {
		return err
	}
	if err := write("reloads.jsonl", func(f *os.File) error { return strategies.WriteEvents(f, events) }); err != nil {
		return err
	}
	if err := write("metrics.jsonl", func(f *os.File) error { return telemetry.WriteSamples(f, samples) }); err != nil {
		return err
	}
	if len(rn.goroutines) > 0 {
		if err := write("goroutines.jsonl", func(f *os.File) error { return writeJSONLines(f, rn.goroutines) }); err != nil {
			return err
		}
	}
	return write("writes.jsonl", func(f *os.File) error { return writeJSONLines(f, writes) })
}

// plan is plan.json: every parameter of the run.
type plan struct {
	Strategy       string              `json:"strategy"`
	Preset         string              `json:"preset"`
	Store          string              `json:"store"`
	Trigger        string              `json:"trigger"`
	Pattern        string              `json:"pattern"`
	PatternModels  string              `json:"pattern_models"`
	Keys           int                 `json:"keys"`
	KeysPerRequest int                 `json:"keys_per_request"`
	ReloadEvery    string              `json:"reload_every"`
	Duration       string              `json:"duration"`
	Quick          bool                `json:"quick"`
	Workers        int                 `json:"closed_model_workers"`
	Rate           int                 `json:"open_model_rate_rps"`
	RateSource     string              `json:"rate_source"`
	Utilization    float64             `json:"open_model_utilization"` // rate ÷ measured capacity
	RequestWork    string              `json:"request_work"`           // CPU per request in the target (-work)
	ReloadBurn     string              `json:"reload_burn"`
	Mix            []string            `json:"throughput_mix"`
	Geometry       analysis.Geometry   `json:"shot_geometry"`
	RateProbes     []rateProbe         `json:"rate_probes,omitempty"`
	Phases         []phaseTiming       `json:"phases"`
	Pinning        map[string]any      `json:"pinning"`
	TargetFlags    []string            `json:"target_flags,omitempty"`
	Diagnosis      map[string]any      `json:"diagnosis"`
	Machine        any                 `json:"machine"`
	CommandLine    string              `json:"command_line"`
	Files          map[string][]string `json:"files"`
	Started        time.Time           `json:"started"`
	External       map[string]any      `json:"external,omitempty"` // an external target: what it is and how it was changed
}

func (rn *run) plan(final debugapi.ReloadStatus, loadCPUs, targetCPUs []int, diag *diagnosis) plan {
	r := rn.r
	p := plan{
		Strategy: r.strategy.Name, Preset: r.strategy.Preset, Store: r.strategy.Store, Trigger: r.strategy.Trigger,
		Pattern: r.patternName(), PatternModels: r.patternModels(), Keys: r.Keys, KeysPerRequest: r.KeysPerRequest,
		ReloadEvery: r.ReloadEvery.String(), Duration: r.Duration.String(), Quick: r.Quick, Workers: r.Workers,
		Rate: rn.openRate, RateSource: "set with -rate", RateProbes: rn.probes, Phases: rn.timings,
		RequestWork: r.Work.String(), ReloadBurn: r.ReloadBurn.String(), Mix: r.Mix, Geometry: analysis.DefaultGeometry,
		TargetFlags: r.TargetFlags, Machine: machineInfo(), CommandLine: r.CommandLine, Started: rn.start,
		Diagnosis: map[string]any{
			"skipped":               r.NoDiagnosis,
			"block_profile_rate_ns": diagBlockRate, "mutex_profile_fraction": diagMutexFraction,
			"flight_recorder_min_age": flightMinAge.String(), "capture_after_reload": flightAfter.String(),
			"captures_requested": r.Captures, "captures": len(diag.traces),
		},
		Files: map[string][]string{"traces": diag.traces, "profiles": diag.profiles},
	}
	switch {
	case r.Rate > 0:
	case r.Utilization > 0:
		p.RateSource = fmt.Sprintf("-utilization %g × the capacity measured in the throughput phase", r.Utilization)
	default:
		p.RateSource = "two thirds of the highest unsaturated probe, probing upwards from an eighth of the capacity measured in the throughput phase (rate_probes)"
	}
	if c := rn.capacity(); c > 0 {
		p.Utilization = float64(rn.openRate) / c
	}
	p.Pinning = map[string]any{
		"load_cpus": loadCPUs, "target_cpus": targetCPUs, "target_gomaxprocs": final.GOMAXPROCS,
		"pinned": len(targetCPUs) > 0, "shared": Shared(targetCPUs, loadCPUs),
	}
	return p
}

// verdict writes the one-line verdict and the notes that qualify it. Every
// clause and note is chosen and filled by the data.
func verdict(s Summary) (string, []string) {
	res := s.Results
	var notes []string
	var b strings.Builder
	fmt.Fprintf(&b, "%s (store %s, trigger %s): ", s.Strategy, s.Store, s.Trigger)
	tp := res.Throughput
	rk := tp.Kind(analysis.KindReload)
	switch {
	case rk == nil || rk.N == 0:
		b.WriteString("the QPS dip could not be measured (no usable reload in the throughput phase)")
	default:
		b.WriteString(dipClause(*rk))
		if stats.Finite(float64(rk.PredictedPP)) {
			fmt.Fprintf(&b, " (the target's own CPU accounting predicts %.2f pp, %.2f pp with the GC it triggers)", float64(float64(rk.PredictedPP)), float64(float64(rk.PredictedWithGCPP)))
		}
	}
	if l := res.Latency; l.Window.N > 0 && l.Steady.N > 0 {
		fmt.Fprintf(&b, "; at %d req/s (%.0f%% of capacity) p99 latency %.2f ms in reload windows vs %.2f ms in their controls", l.RateRPS, 100*l.Utilization, l.Window.P99, l.Steady.P99)
	}
	fmt.Fprintf(&b, "; lock wait %.3f ms/s in windows vs %.3f steady", res.MutexWait.Window, res.MutexWait.Steady)
	if g := s.Goroutines; g.DuringReload > 0 {
		fmt.Fprintf(&b, "; %.0f%% of goroutines in a lock in the %d goroutine profiles that caught a reload (%.0f%% in the others)", 100*g.ShareDuringReload.Value, g.DuringReload, 100*g.ShareSteady.Value)
	}
	if res.Torn.Requests > 0 {
		fmt.Fprintf(&b, "; %d torn requests", res.Torn.Requests)
	} else {
		b.WriteString("; no torn requests")
	}
	b.WriteString(errorsClause(s.Errors))
	b.WriteString(".")

	if rk != nil && rk.N > 0 {
		notes = append(notes, costNote(*rk, tp))
		if st := stagesNote(tp.Stages); st != "" {
			notes = append(notes, st)
		}
	}
	if g := s.Goroutines; g.Profiles > 0 {
		notes = append(notes, goroutineNote(s, g))
	}
	var blocked, covered int
	for _, t := range res.Traces {
		if t.CoversSpan {
			covered++
			blocked += t.LockBlocked
		}
	}
	if covered > 0 {
		notes = append(notes, fmt.Sprintf("Trace windows: %d goroutines blocked on a sync mutex in %d traced reloads (%.1f per reload).", blocked, covered, float64(blocked)/float64(covered)))
	}
	if s.SharedCPUs {
		notes = append(notes, fmt.Sprintf("The target (CPUs %v) and the load generator (CPUs %v) share CPUs: readers can contend on a lock from two CPUs at once, but every figure mixes the two processes' costs — a reload's CPU may be taken from the load generator instead of from requests, and the load generator's own work (and its GC) competes with the target. Capacity, dip and latency here are not comparable with a pinned run.", s.TargetCPUs, s.LoadCPUs))
	}
	if res.Reloads.NotApplied > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d written versions were never applied (a newer write superseded them before the trigger fired, or the trigger missed them).", res.Reloads.NotApplied, res.Reloads.Written))
	}
	if res.Reloads.Rejected > 0 {
		notes = append(notes, fmt.Sprintf("%d reload writes were rejected by the pipeline (read mid-write, or invalid): the old config kept serving.", res.Reloads.Rejected))
	}
	if s.TornCheck == "n/a" {
		notes = append(notes, "The config's values do not carry their version, so torn requests cannot be detected (n/a).")
	}
	return b.String(), notes
}

// dipClause says what a reload costs, worded by where its interval lies.
func dipClause(k analysis.KindCost) string {
	l, d := k.LostMs, k.DipPP
	switch {
	case l.Lo > 0:
		return fmt.Sprintf("a reload costs %.1f ms of throughput (95%% CI %.1f…%.1f, %d reloads): the second that holds it serves %.2f%% fewer requests (CI %.2f…%.2f pp)", l.Value, l.Lo, l.Hi, k.N, d.Value, d.Lo, d.Hi)
	case l.Hi < 0:
		return fmt.Sprintf("throughput was higher around reloads by %.1f ms (95%% CI %.1f…%.1f, %d reloads): no cost measured", -l.Value, -l.Hi, -l.Lo, k.N)
	case l.Valid():
		return fmt.Sprintf("no measurable QPS dip: %.1f ms per reload, 95%% CI %.1f…%.1f spans zero (%d reloads; %.2f ± %.2f pp of a 1-second QPS sample)", l.Value, l.Lo, l.Hi, k.N, d.Value, d.HalfWidth())
	}
	return fmt.Sprintf("%d reload(s), too few for an interval", k.N)
}

// costNote compares the measured cost with the target's own accounting.
func costNote(k analysis.KindCost, tp analysis.ThroughputSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "How the dip is measured: each reload's window [pipeline start − %s, pipeline end + %s) is compared with adjacent steady time of the same length (half before, half after) in the closed-model phase; lost throughput = (expected − observed completions) ÷ the steady rate (%.0f req/s), averaged over %d reloads with a 95%% interval over reloads (%d more were dropped: in the phase's trimmed edges, or overlapping another shot; per-reload SD %.1f ms).",
		tp.Geometry.Lead, tp.Geometry.Tail, float64(tp.SteadyRPS), k.N, k.Dropped, float64(float64(k.SDMs)))
	if stats.Finite(float64(k.PredictedPP)) {
		fmt.Fprintf(&b, " The pipeline's own CPU (per-thread CPU clock) was %.2f ms per reload (read %.2f, parse %.2f, apply %.3f) on %d target CPU(s): predicted dip %.2f pp", k.CPU.Total, k.CPU.Read, k.CPU.Parse, k.CPU.Apply, tp.TargetCPUs, float64(float64(k.PredictedPP)))
		if stats.Finite(k.GCMs.Value) {
			fmt.Fprintf(&b, "; the runtime reports %.2f ms more GC CPU in windows than in controls (CI %.2f…%.2f), %.2f pp with it", k.GCMs.Value, k.GCMs.Lo, k.GCMs.Hi, float64(float64(k.PredictedWithGCPP)))
		}
		switch m := k.DipPP; {
		case !m.Valid():
		case m.Lo <= float64(float64(k.PredictedWithGCPP)) && float64(float64(k.PredictedWithGCPP)) <= m.Hi:
			b.WriteString("; the measured dip's interval holds that prediction.")
		case m.Hi < float64(float64(k.PredictedWithGCPP)):
			b.WriteString("; the measured dip is below it: part of the reload's CPU did not come out of request throughput (idle CPU, or the load generator was the bottleneck).")
		default:
			b.WriteString("; the measured dip is above it: the reload costs throughput beyond its own CPU (cache effects, queueing, scheduler delays).")
		}
	}
	if lt := tp.LongTail; lt.Valid() {
		switch {
		case lt.Lo > k.LostMs.Hi:
			fmt.Fprintf(&b, " With a %.0f ms tail the loss is %.1f ms (CI %.1f…%.1f), above the %.0f ms tail's interval: the window misses part of the cost (garbage collected later, a slow queue), and the dip above understates it.", tp.LongTailMs, lt.Value, lt.Lo, lt.Hi, float64(tp.Geometry.Tail)/1e6)
		default:
			fmt.Fprintf(&b, " With a %.0f ms tail the loss is %.1f ms (CI %.1f…%.1f), no more than with %.0f ms: the window holds the cost.", tp.LongTailMs, lt.Value, lt.Lo, lt.Hi, float64(tp.Geometry.Tail)/1e6)
		}
	}
	if need := stats.RequiredN(float64(k.SDMs), 0.3*tp.SampleMs/100); stats.Finite(need) {
		fmt.Fprintf(&b, " The interval is ±%.2f pp; ±0.3 pp (%.1f ms) would need about %.0f reloads at this noise.", k.DipPP.HalfWidth(), 0.3*tp.SampleMs/100, need)
	}
	return b.String()
}

// stagesNote states the decomposition.
func stagesNote(stages []analysis.Stage) string {
	var parts []string
	for _, st := range stages {
		p := st.Name + ": "
		if st.FromControls.Valid() {
			p += fmt.Sprintf("%.2f ms lost (%s, CI %.2f…%.2f)", st.FromControls.Value, st.How, st.FromControls.Lo, st.FromControls.Hi)
		} else {
			p += "no control isolates it"
		}
		if stats.Finite(float64(st.CPUMs)) {
			p += fmt.Sprintf(", %.3f ms CPU", float64(float64(st.CPUMs)))
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return ""
	}
	return "Where a reload's cost goes, per reload: " + strings.Join(parts, "; ") + "."
}

// goroutineNote states what the goroutine profiles saw.
func goroutineNote(s Summary, g GoroutineSummary) string {
	if g.DuringReload == 0 {
		return fmt.Sprintf("None of the %d goroutine profiles of the goroutines phase (closed model, %.0f goroutines per profile) caught a reload in progress.", g.Profiles, float64(float64(g.MeanTotal)))
	}
	n := fmt.Sprintf("Goroutine profiles (debug=1, every %s in the closed-model goroutines phase, %.0f goroutines each, the runtime's own and idle connections included): in the %d that caught a reload in progress, %.0f%% of goroutines (95%% CI %.0f…%.0f%%) sat in sync.(*RWMutex).RLock/Lock or sync.(*Mutex).Lock, at most %d (%.0f%%); in the %d others %.0f%%.",
		goroutineEvery, float64(float64(g.MeanTotal)), g.DuringReload, 100*g.ShareDuringReload.Value, 100*g.ShareDuringReload.Lo, 100*g.ShareDuringReload.Hi, g.MaxInLock, 100*g.MaxShare, g.Profiles-g.DuringReload, 100*g.ShareSteady.Value)
	if stats.Finite(float64(g.ConfigLockShare)) {
		n += fmt.Sprintf(" Of the goroutines in a lock during reloads, %.0f%% waited on the config store's lock", 100*float64(float64(g.ConfigLockShare)))
		if g.ServingShareDuringReload.Valid() {
			n += fmt.Sprintf("; counted over HTTP connection goroutines only (busy or idle), the config lock held %.0f%% of them (95%% CI %.0f…%.0f%%)", 100*g.ServingShareDuringReload.Value, 100*g.ServingShareDuringReload.Lo, 100*g.ServingShareDuringReload.Hi)
		}
		n += "."
	}
	if g.DuringParse > 0 {
		n += fmt.Sprintf(" %d profiles caught the parse running inside the store's write lock.", g.DuringParse)
	}
	return n
}

func writeJSONLines[T any](f *os.File, items []T) error {
	for _, it := range items {
		data, err := jsonMarshal(it)
		if err != nil {
			return err
		}
		if _, err := f.Write(append(data, '\n')); err != nil {
			return err
		}
	}
	return nil
}
