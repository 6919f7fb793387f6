package bench

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"reloadlab/harness/analysis"
	"reloadlab/harness/load"
	"reloadlab/harness/results"
	"reloadlab/harness/traceinfo"
	"reloadlab/strategies"
	"reloadlab/targets/debugapi"
	"reloadlab/targets/telemetry"
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
	TargetTorn     uint64           `json:"target_torn_requests"` // the target's own counter, all phases
	TornCheck      string           `json:"torn_check"`
	Results        analysis.Summary `json:"results"`
	Verdict        string           `json:"verdict"`
	Notes          []string         `json:"notes"`
	Warnings       []string         `json:"warnings,omitempty"`
	Made           string           `json:"made_by"`
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
	sum := analysis.Analyze(analysis.Input{Throughput: tp, Latency: lat, Events: events, Writes: writes, Samples: samples, Traces: traces})
	s := Summary{
		Strategy: r.strategy.Name, Store: r.strategy.Store, Trigger: r.strategy.Trigger, Pattern: r.pattern.Name,
		Keys: r.Keys, KeysPerRequest: r.KeysPerRequest, ReloadEvery: r.ReloadEvery.String(),
		ConsistentView: final.ConsistentView, GOMAXPROCS: final.GOMAXPROCS, TargetTorn: final.TornRequests, TornCheck: final.TornCheck,
		Results: sum, Made: r.CommandLine,
	}
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
	if err := writePlots(st.Dir, s, series, traces); err != nil {
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

// writeRaw writes the raw, git-ignored files.
func (rn *run) writeRaw(events []strategies.Event, writes []analysis.Write, samples []telemetry.Sample) error {
	st := rn.stage
	write := func(name string, fn func(f *os.File) error) error {
		tmp := st.Path(name + ".tmp")
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
		return os.Rename(tmp, st.Path(name))
	}
	if err := write("attack.bin", func(f *os.File) error { return load.WriteAttack(f, "reloadlab", rn.phases...) }); err != nil {
		return err
	}
	if err := write("reloads.jsonl", func(f *os.File) error { return strategies.WriteEvents(f, events) }); err != nil {
		return err
	}
	if err := write("metrics.jsonl", func(f *os.File) error { return telemetry.WriteSamples(f, samples) }); err != nil {
		return err
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
	RateProbes     []rateProbe         `json:"rate_probes,omitempty"`
	Phases         []phaseTiming       `json:"phases"`
	Windows        map[string]string   `json:"reload_window"`
	Pinning        map[string]any      `json:"pinning"`
	TargetFlags    []string            `json:"target_flags,omitempty"`
	Diagnosis      map[string]any      `json:"diagnosis"`
	Machine        any                 `json:"machine"`
	CommandLine    string              `json:"command_line"`
	Files          map[string][]string `json:"files"`
	Started        time.Time           `json:"started"`
}

func (rn *run) plan(final debugapi.ReloadStatus, loadCPUs, targetCPUs []int, diag *diagnosis) plan {
	r := rn.r
	p := plan{
		Strategy: r.strategy.Name, Preset: r.strategy.Preset, Store: r.strategy.Store, Trigger: r.strategy.Trigger,
		Pattern: r.pattern.Name, PatternModels: r.pattern.Models, Keys: r.Keys, KeysPerRequest: r.KeysPerRequest,
		ReloadEvery: r.ReloadEvery.String(), Duration: r.Duration.String(), Quick: r.Quick, Workers: r.Workers,
		Rate: rn.openRate, RateSource: "set with -rate", RateProbes: rn.probes, Phases: rn.timings,
		Windows:     map[string]string{"before_apply": analysis.WindowBefore.String(), "after_apply": analysis.WindowAfter.String()},
		TargetFlags: r.TargetFlags, Machine: machineInfo(), CommandLine: r.CommandLine, Started: rn.start,
		Diagnosis: map[string]any{
			"skipped":               r.NoDiagnosis,
			"block_profile_rate_ns": diagBlockRate, "mutex_profile_fraction": diagMutexFraction,
			"flight_recorder_min_age": flightMinAge.String(), "capture_after_reload": flightAfter.String(),
			"captures_requested": r.Captures, "captures": len(diag.traces),
		},
		Files: map[string][]string{"traces": diag.traces, "profiles": diag.profiles},
	}
	if r.Rate == 0 {
		p.RateSource = "half the capacity measured in the throughput phase, lowered while a short probe was saturated"
	}
	p.Pinning = map[string]any{
		"load_cpus": loadCPUs, "target_cpus": targetCPUs, "target_gomaxprocs": final.GOMAXPROCS,
		"pinned": len(targetCPUs) > 0,
	}
	return p
}

// verdict writes the one-line verdict and the notes that qualify it.
func verdict(s Summary) (string, []string) {
	res := s.Results
	var notes []string
	var b strings.Builder
	fmt.Fprintf(&b, "%s (store %s, trigger %s): ", s.Strategy, s.Store, s.Trigger)
	tp := res.Throughput
	if tp.WindowBins > 0 && tp.SteadyBins > 0 {
		dip := tp.QPSDip
		switch {
		case dip.Lo > 0:
			fmt.Fprintf(&b, "reloads cost %.1f%% of throughput in their windows (95%% CI %.1f…%.1f%%)", 100*dip.Value, 100*dip.Lo, 100*dip.Hi)
		case dip.Hi < 0:
			fmt.Fprintf(&b, "throughput was %.1f%% higher in reload windows (95%% CI %.1f…%.1f%%)", -100*dip.Value, -100*dip.Hi, -100*dip.Lo)
		default:
			fmt.Fprintf(&b, "no measurable QPS dip (%.1f%%, 95%% CI %.1f…%.1f%% spans zero)", 100*dip.Value, 100*dip.Lo, 100*dip.Hi)
		}
	} else {
		b.WriteString("QPS dip not measurable (no steady or no window bins)")
	}
	var blocked, blocks, covered int
	for _, t := range res.Traces {
		if t.CoversSpan {
			covered++
			blocked += t.LockBlocked
			blocks += t.LockBlocks
		}
	}
	if covered > 0 {
		fmt.Fprintf(&b, "; %.1f goroutines per traced reload blocked on a sync mutex (%d traces)", float64(blocked)/float64(covered), covered)
	} else {
		b.WriteString("; no trace window covered a reload")
	}
	fmt.Fprintf(&b, "; waiting goroutines peak %.0f in windows vs %.0f steady", res.Blocked.Window.Peak, res.Blocked.Steady.Peak)
	fmt.Fprintf(&b, "; mutex wait %.3f ms/s in windows vs %.3f steady", res.MutexWait.Window, res.MutexWait.Steady)
	fmt.Fprintf(&b, "; apply p50 %.0f µs", res.Reloads.ApplyUs.P50)
	if res.Torn.Requests > 0 {
		fmt.Fprintf(&b, "; %d torn requests", res.Torn.Requests)
	} else {
		b.WriteString("; no torn requests")
	}
	b.WriteString(".")

	lockApply := s.Store == "lockmap" || s.Store == "lockswap"
	switch {
	case covered > 0 && blocked == 0 && lockApply && s.GOMAXPROCS == 1:
		note := fmt.Sprintf("No goroutine blocked on the config lock in the traced reloads, and that is not because the lock is free: the target runs with GOMAXPROCS=1 (one CPU of two; the other runs the load), so while the apply holds the write lock it usually also holds the only CPU, and requests wait for the CPU instead: runnable-to-running wait p99 %.0f µs in reload windows vs %.0f µs steady (/sched/latencies).", res.SchedWait.Window.P99Us, res.SchedWait.Steady.P99Us)
		if res.MutexWait.Window > 2*res.MutexWait.Steady && res.MutexWait.Window > 0.1 {
			note += fmt.Sprintf(" Readers do block in RLock when the applying goroutine is descheduled while it holds the lock (preempted, or stopped for GC work): the runtime's cumulative mutex-wait counter grew %.3f ms/s in reload windows vs %.3f ms/s steady; the %d traced reloads happened not to catch it.", res.MutexWait.Window, res.MutexWait.Steady, covered)
		}
		note += " With more CPUs than one, readers arriving during any apply would block in RLock."
		notes = append(notes, note)
	case covered > 0 && blocked == 0 && !lockApply:
		notes = append(notes, "No goroutine blocked on a config lock in any traced reload: this store's apply takes no lock readers wait on.")
	case covered > 0 && blocked > 0:
		notes = append(notes, fmt.Sprintf("In the trace windows %d goroutines blocked on a sync mutex around %d reloads: readers waited for the apply's lock.", blocked, covered))
	}
	if s.Store == "lockmap" {
		notes = append(notes, fmt.Sprintf("lockmap holds the write lock for the whole in-place apply (p50 %.0f µs, max %.0f µs here). The 10 ms runtime/metrics sampler's goroutine gauges see a lock hold only if one is in progress at a sample instant; the cumulative mutex-wait counter and the trace windows do not miss one.", res.Reloads.ApplyUs.P50, res.Reloads.ApplyUs.Max))
	}
	if res.Reloads.NotApplied > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d written versions were never applied (a newer write superseded them before the trigger fired, or the trigger missed them).", res.Reloads.NotApplied, res.Reloads.Written))
	}
	if s.TornCheck == "n/a" {
		notes = append(notes, "The config's values do not carry their version, so torn requests cannot be detected (n/a).")
	}
	notes = append(notes, fmt.Sprintf("Every reload parses the whole file (YAML, the same for every store) on the target's CPU (GOMAXPROCS=%d): at a saturated target that parse and its garbage are part of the QPS dip and of the window latency, whatever the store; the longest runnable wait in windows was %.0f µs vs %.0f µs steady.", s.GOMAXPROCS, res.SchedWait.Window.MaxUs, res.SchedWait.Steady.MaxUs))
	return b.String(), notes
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
