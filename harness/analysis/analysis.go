package analysis

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/reloadlab/reloadlab/harness/stats"

	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

// BinWidth is the width of throughput bins (the throughput timeline).
const BinWidth = 100 * time.Millisecond

// Write is one config change the harness made.
type Write struct {
	Version int64     `json:"version"`
	Kind    string    `json:"kind"` // KindReload, KindIdentical or KindReject ("" reads as KindReload)
	Hash    string    `json:"hash"` // hex SHA-256 of the content written
	Phase   string    `json:"phase"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"` // when the write pattern returned (and the signal, if any, was sent)
}

// TraceWindow is what one flight-recorder capture says about one reload.
type TraceWindow struct {
	File        string        `json:"file"`
	Version     int64         `json:"version"`
	Apply       time.Time     `json:"apply"`
	Span        Span          `json:"-"`
	STWCount    int           `json:"stw_count"`     // stop-the-world ranges in the reload window
	STWTotal    time.Duration `json:"stw_total_ns"`  // their total duration
	STWMax      time.Duration `json:"stw_max_ns"`    // the longest
	LockBlocked int           `json:"lock_blocked"`  // distinct goroutines blocked on a sync.Mutex/RWMutex in the window
	LockBlocks  int           `json:"lock_blocks"`   // such blocking events
	Truncated   bool          `json:"truncated"`     // the capture ended mid-generation
	Frames      []string      `json:"frames"`        // distinct lock frames seen
	Reasons     []string      `json:"stw_reasons"`   // distinct stop-the-world reasons seen
	ReloadLogs  []string      `json:"reload_logs"`   // trace.Log messages of category "reload"
	CoversSpan  bool          `json:"covers_window"` // the capture spans the whole reload window
}

// Input is one run's raw data.
type Input struct {
	Throughput *load.Result
	Latency    *load.Result
	Events     []strategies.Event // pipeline events after the initial load
	Writes     []Write
	Shams      []Shot // sham shots the harness injected directly (calibration burns)
	Samples    []telemetry.Sample
	Traces     []TraceWindow
	// Sample is the QPS sample a dip is a share of (zero: QPSSample): a
	// KindCost's DipPP is its lost throughput per shot as a share of it.
	Sample time.Duration
	// TargetCPUs is how many CPUs the target ran on (its GOMAXPROCS).
	TargetCPUs int
	// Geometry places shot windows (zero: DefaultGeometry).
	Geometry Geometry
}

// Summary is the analysed run. Durations are reported in the units their
// JSON names say.
type Summary struct {
	Throughput ThroughputSummary `json:"throughput"`
	Latency    LatencySummary    `json:"latency"`
	Reloads    ReloadSummary     `json:"reloads"`
	Torn       TornSummary       `json:"torn"`
	GC         SplitPauses       `json:"gc_pauses"`
	Blocked    SplitGauge        `json:"waiting_goroutines"` // all waiting goroutines, idle connections included
	SchedWait  SplitHist         `json:"sched_wait"`         // /sched/latencies: runnable → running
	MutexWait  SplitRate         `json:"mutex_wait_ms_per_s"`
	Traces     []TraceWindow     `json:"traces"`
}

// ThroughputSummary covers the closed-model phase: capacity, and what each
// kind of shot cost it (the paired estimate, see the package doc).
type ThroughputSummary struct {
	Seconds     float64    `json:"seconds"`
	Requests    int        `json:"requests"`
	Errors      int        `json:"errors"`
	CapacityRPS float64    `json:"capacity_rps"`  // completed requests per second over the phase
	SteadyRPS   stats.Num  `json:"steady_rps"`    // over every shot's controls
	SampleMs    float64    `json:"qps_sample_ms"` // the QPS sample a dip is a share of
	TargetCPUs  int        `json:"target_cpus"`
	Geometry    Geometry   `json:"geometry"`
	Kinds       []KindCost `json:"kinds"` // one per kind (per injected level for burns)
	// LongTail is the reloads' lost throughput per shot estimated again
	// with a window tail four times as long: if the window misses part of
	// the cost (garbage collected later, a queue draining slowly) it comes
	// out larger than the reload kind's LostMs.
	LongTail   stats.Estimate `json:"long_tail_lost_ms"`
	LongTailMs float64        `json:"long_tail_ms"`
	Stages     []Stage        `json:"stages"` // the reload's cost by stage
	Shots      []ShotCost     `json:"shots"`  // every usable shot, for pooling across runs
}

// Kind returns the KindCost of kind (the first, for burns), or nil.
func (t ThroughputSummary) Kind(kind string) *KindCost {
	for i := range t.Kinds {
		if t.Kinds[i].Kind == kind {
			return &t.Kinds[i]
		}
	}
	return nil
}

// ReloadDip returns the reload shots' dip in percentage points (NaN
// estimate if there were none).
func (t ThroughputSummary) ReloadDip() stats.Estimate {
	if k := t.Kind(KindReload); k != nil {
		return k.DipPP
	}
	return stats.NoEstimate()
}

// LatencySummary covers the open-model phase; values in milliseconds.
// Window and Steady are the requests whose intended send time fell in a
// reload shot's window and in its controls.
type LatencySummary struct {
	RateRPS          int       `json:"rate_rps"`
	Utilization      float64   `json:"utilization"` // rate ÷ the throughput phase's capacity
	Seconds          float64   `json:"seconds"`
	Requests         int       `json:"requests"`
	Errors           int       `json:"errors"`
	AchievedRPS      float64   `json:"achieved_rps"`
	Steady           Quantiles `json:"steady_ms"`
	Window           Quantiles `json:"window_ms"`
	SteadyCorrected  Quantiles `json:"steady_co_ms"`
	WindowCorrected  Quantiles `json:"window_co_ms"`
	ReloadsInRun     int       `json:"reloads"`
	OverallMeasured  Quantiles `json:"all_ms"`
	OverallCorrected Quantiles `json:"all_co_ms"`
	// Dip is the reloads' lost throughput in this open-model phase: the
	// requests offered around each reload that had not completed within
	// OpenHorizon (openDip). Below capacity a fixed offered rate is served
	// whatever a reload costs, so it comes out near zero and the cost shows
	// as latency; Shots holds the per-reload costs.
	Dip   KindCost   `json:"dip"`
	Shots []ShotCost `json:"shots"`
}

// ReloadSummary covers every reload the harness wrote during the measured
// phases (throughput and latency): Written = Applied + NotApplied. Controls
// counts the control writes by kind. Rejected counts rejections of reload
// writes (a control that is rejected on purpose is not one).
type ReloadSummary struct {
	Written     int            `json:"written"`
	Applied     int            `json:"applied"`
	Rejected    int            `json:"rejected"`
	NotApplied  int            `json:"not_applied"` // written, never applied (superseded before the trigger fired, or missed)
	Controls    map[string]int `json:"controls,omitempty"`
	DetectionMs Quantiles      `json:"detection_ms"`
	ApplyUs     Quantiles      `json:"apply_us"`
}

// TornSummary counts torn requests from the responses.
type TornSummary struct {
	Requests int `json:"requests"`
	InWindow int `json:"in_window"`
	Steady   int `json:"steady"`
}

// PauseStats summarises GC pauses in one kind of time.
type PauseStats struct {
	Count      int     `json:"count"`
	TotalMs    float64 `json:"total_ms"`
	MaxMs      float64 `json:"max_ms"`
	MsPerS     float64 `json:"ms_per_s"` // pause time per second of this kind of time
	SecondsObs float64 `json:"seconds"`  // time observed
}

// SplitPauses splits GC pauses between reload windows and steady time.
type SplitPauses struct {
	Window PauseStats `json:"window"`
	Steady PauseStats `json:"steady"`
}

// GaugeStats summarises a gauge over samples.
type GaugeStats struct {
	Samples int     `json:"samples"`
	Peak    float64 `json:"peak"`
	Mean    float64 `json:"mean"`
}

// SplitGauge splits a gauge between reload windows and steady time.
type SplitGauge struct {
	Window GaugeStats `json:"window"`
	Steady GaugeStats `json:"steady"`
}

// HistStats summarises a histogram's samples (values in µs; quantiles are
// stats.HistQuantile's upper estimates).
type HistStats struct {
	Count uint64  `json:"count"`
	P50Us float64 `json:"p50_us"`
	P99Us float64 `json:"p99_us"`
	MaxUs float64 `json:"max_us"`
}

// SplitHist splits a histogram between reload windows and steady time.
type SplitHist struct {
	Window HistStats `json:"window"`
	Steady HistStats `json:"steady"`
}

// SplitRate splits a cumulative counter's growth rate.
type SplitRate struct {
	Window float64 `json:"window"`
	Steady float64 `json:"steady"`
}

// Analyze computes the Summary.
func Analyze(in Input) Summary {
	var s Summary
	g := in.Geometry
	if g == (Geometry{}) {
		g = DefaultGeometry
	}
	if in.Sample <= 0 {
		in.Sample = QPSSample
	}
	shots, unmatched := MatchShots(in.Writes, in.Events)
	shots = append(shots, in.Shams...)
	sort.Slice(shots, func(i, j int) bool { return shots[i].Start < shots[j].Start })
	spans := measuredSpan(in)
	reg := g.ShotRegions(shots, KindReload, spans)

	if tp := in.Throughput; tp != nil && len(tp.Recs) > 0 {
		s.Throughput = throughput(tp, shots, unmatched, in, g)
	}
	if lp := in.Latency; lp != nil && len(lp.Recs) > 0 {
		s.Latency = latency(lp, reg, shots)
		s.Latency.Dip, s.Latency.Shots = openDip(lp, shots, in, g)
		if s.Throughput.CapacityRPS > 0 {
			s.Latency.Utilization = float64(lp.Phase.Rate) / s.Throughput.CapacityRPS
		}
	}
	s.Reloads = reloads(in, shots, spans)
	for _, ph := range []*load.Result{in.Throughput, in.Latency} {
		if ph == nil {
			continue
		}
		for _, r := range ph.Recs {
			if !r.Torn {
				continue
			}
			s.Torn.Requests++
			switch {
			case reg.Window.Contains(r.Start):
				s.Torn.InWindow++
			case reg.Steady.Contains(r.Start):
				s.Torn.Steady++
			}
		}
	}
	s.GC = pauses(in.Samples, reg)
	s.Blocked = waiting(in.Samples, reg)
	s.SchedWait = schedWait(in.Samples, reg)
	s.MutexWait = mutexWait(in.Samples, reg)
	s.Traces = in.Traces
	return s
}

// measuredSpan is the time covered by the throughput and latency phases.
func measuredSpan(in Input) []Span {
	var spans []Span
	for _, ph := range []*load.Result{in.Throughput, in.Latency} {
		if ph != nil && len(ph.Recs) > 0 {
			spans = append(spans, Span{ph.Began.UnixNano(), ph.Ended.UnixNano()})
		}
	}
	return spans
}

func inSpans(spans []Span, t int64) bool {
	for _, s := range spans {
		if t >= s.From && t < s.To {
			return true
		}
	}
	return false
}

// Bins returns completed (error-free) requests per second in BinWidth bins
// over [from, to), by completion time. Partial bins at the edges are
// dropped.
func Bins(recs []load.Record, from, to int64) (starts []int64, rps []float64) {
	w := int64(BinWidth)
	n := int((to - from) / w)
	if n <= 0 {
		return nil, nil
	}
	counts := make([]float64, n)
	for _, r := range recs {
		if r.Err >= 0 {
			continue
		}
		if r.End() < from {
			continue // integer division would round a negative offset into bin 0
		}
		if i := (r.End() - from) / w; i < int64(n) {
			counts[i]++
		}
	}
	starts = make([]int64, n)
	for i := range counts {
		starts[i] = from + int64(i)*w
		counts[i] /= BinWidth.Seconds()
	}
	return starts, counts
}

// completionTimes returns the sorted completion times of a phase's
// successful requests.
func completionTimes(recs []load.Record) []int64 {
	ends := make([]int64, 0, len(recs))
	for _, r := range recs {
		if r.Err < 0 {
			ends = append(ends, r.End())
		}
	}
	slices.Sort(ends)
	return ends
}

// PhaseEdge is how much of each end of a phase is left out of shot
// estimates: connection ramp-up and the attack's tail are not steady state.
func PhaseEdge(d time.Duration) time.Duration { return min(250*time.Millisecond, d/10) }

func throughput(tp *load.Result, shots []Shot, unmatched map[string]int, in Input, g Geometry) ThroughputSummary {
	from, to := tp.Began.UnixNano(), tp.Ended.UnixNano()
	ts := ThroughputSummary{Seconds: tp.Ended.Sub(tp.Began).Seconds(), Requests: len(tp.Recs),
		SampleMs: float64(in.Sample) / 1e6, TargetCPUs: in.TargetCPUs, Geometry: g}
	ts.Errors = len(tp.Recs) - tp.Completed()
	ts.CapacityRPS = float64(tp.Completed()) / ts.Seconds
	edge := int64(PhaseEdge(tp.Ended.Sub(tp.Began)))
	var in_ []Shot
	for _, s := range shots {
		if s.Start >= from && s.Start < to {
			in_ = append(in_, s)
		}
	}
	costs, steady, dropped := g.ShotCosts(in_, completionTimes(tp.Recs), Span{from + edge, to - edge}, in.Samples)
	ts.SteadyRPS, ts.Shots = stats.Num(steady), costs
	by := ByKind(costs)
	for _, kind := range []string{KindReload, KindIdentical, KindReject} {
		if len(by[kind]) == 0 && dropped[kind] == 0 && unmatched[kind] == 0 {
			continue
		}
		kc := Aggregate(kind, by[kind], in.Sample, in.TargetCPUs)
		kc.Dropped, kc.Unmatched = dropped[kind], unmatched[kind]
		ts.Kinds = append(ts.Kinds, kc)
	}
	levels := map[time.Duration][]ShotCost{}
	for _, c := range by[KindBurn] {
		levels[c.Injected] = append(levels[c.Injected], c)
	}
	var lv []time.Duration
	for l := range levels {
		lv = append(lv, l)
	}
	slices.Sort(lv)
	for _, l := range lv {
		ts.Kinds = append(ts.Kinds, Aggregate(KindBurn, levels[l], in.Sample, in.TargetCPUs))
	}
	ts.LongTail = stats.NoEstimate()
	if rk := ts.Kind(KindReload); rk != nil && rk.N > 0 {
		ts.Stages = Decompose(by, *rk)
		long := Geometry{Lead: g.Lead, Tail: 4 * g.Tail}
		lc, _, _ := long.ShotCosts(in_, completionTimes(tp.Recs), Span{from + edge, to - edge}, nil)
		ts.LongTail = stats.MeanCI(LostOf(ByKind(lc)[KindReload]))
		ts.LongTailMs = float64(long.Tail) / 1e6
	}
	return ts
}

func latency(lp *load.Result, reg Regions, shots []Shot) LatencySummary {
	ls := LatencySummary{RateRPS: lp.Phase.Rate, Seconds: lp.Ended.Sub(lp.Began).Seconds(), Requests: len(lp.Recs)}
	ls.Errors = len(lp.Recs) - lp.Completed()
	ls.AchievedRPS = float64(len(lp.Recs)) / ls.Seconds
	var sm, wm, sc, wc, am, ac []float64
	for _, r := range lp.Recs {
		if r.Err >= 0 {
			continue
		}
		m, c := float64(r.Latency), float64(lp.Corrected(r))
		am, ac = append(am, m), append(ac, c)
		switch at := lp.Intended(r); {
		case reg.Window.Contains(at):
			wm, wc = append(wm, m), append(wc, c)
		case reg.Steady.Contains(at):
			sm, sc = append(sm, m), append(sc, c)
		}
	}
	const ms = 1e-6
	ls.Steady, ls.Window = Summarize(sm, ms), Summarize(wm, ms)
	ls.SteadyCorrected, ls.WindowCorrected = Summarize(sc, ms), Summarize(wc, ms)
	ls.OverallMeasured, ls.OverallCorrected = Summarize(am, ms), Summarize(ac, ms)
	for _, s := range shots {
		if s.Kind == KindReload && s.Start >= lp.Began.UnixNano() && s.Start < lp.Ended.UnixNano() {
			ls.ReloadsInRun++
		}
	}
	return ls
}

// OpenHorizon is how long after a reload's pipeline starts the open-model
// estimate waits for the backlog to drain (less when the next shot comes
// sooner).
const OpenHorizon = 400 * time.Millisecond

// openDip estimates the reload shots' lost throughput in an open-model
// phase. There the offered load is known exactly (the pacer's intended
// send times), so no control is needed: a reload's loss is the requests
// offered in [start − Lead, start − Lead + H) that had not completed by its
// end, H = OpenHorizon or the time to the next shot. Below capacity the
// backlog a reload builds drains within H and the loss is 0 — the cost
// shows as latency; past capacity it does not drain, and the loss is what
// a per-second QPS reading would miss. (The paired estimate of the closed
// model would be biased here: the backlog draining after the window makes
// the control look busier than steady time.)
func openDip(lp *load.Result, shots []Shot, in Input, g Geometry) (KindCost, []ShotCost) {
	from, to := lp.Began.UnixNano(), lp.Ended.UnixNano()
	edge := int64(PhaseEdge(lp.Ended.Sub(lp.Began)))
	var starts []int64
	for _, s := range shots {
		if s.Kind == KindReload && s.Start >= from && s.Start < to {
			starts = append(starts, s.Start-int64(g.Lead))
		}
	}
	slices.Sort(starts)
	ends := completionTimes(lp.Recs)
	intended := make([]int64, 0, len(lp.Recs))
	for _, r := range lp.Recs {
		intended = append(intended, lp.Intended(r))
	}
	slices.Sort(intended)
	count := func(xs []int64, a, b int64) float64 {
		lo, _ := slices.BinarySearch(xs, a)
		hi, _ := slices.BinarySearch(xs, b)
		return float64(hi - lo)
	}
	rate := float64(lp.Phase.Rate)
	var costs []ShotCost
	dropped := 0
	for i, a := range starts {
		h := int64(OpenHorizon)
		if i+1 < len(starts) {
			h = min(h, starts[i+1]-a)
		}
		b := a + h
		if a < from+edge || b > to-edge || h < int64(100*time.Millisecond) || rate <= 0 {
			dropped++
			continue
		}
		offered, done := count(intended, a, b), count(ends, a, b)
		costs = append(costs, ShotCost{Kind: KindReload, At: a + int64(g.Lead), WindowMs: float64(h) / 1e6,
			Observed: done, Expected: offered, LostMs: (offered - done) / rate * 1e3, GCMs: stats.Num(math.NaN())})
	}
	kc := Aggregate(KindReload, costs, in.Sample, in.TargetCPUs)
	kc.Dropped = dropped
	return kc, costs
}

func reloads(in Input, shots []Shot, spans []Span) ReloadSummary {
	rs := ReloadSummary{Controls: map[string]int{}}
	applied := map[int64]strategies.Event{}
	for _, e := range in.Events {
		if e.Outcome == strategies.Applied {
			if _, dup := applied[e.Version]; !dup {
				applied[e.Version] = e
			}
		}
	}
	rejectHashes := map[string]bool{}
	for _, w := range in.Writes {
		if w.Kind == KindReject {
			rejectHashes[w.Hash] = true
		}
	}
	for _, e := range in.Events {
		if e.Outcome == strategies.Rejected && inSpans(spans, e.ReadStart.UnixNano()) && !rejectHashes[e.Hash] {
			rs.Rejected++
		}
	}
	var detect, applyUs []float64
	for _, w := range in.Writes {
		if !inSpans(spans, w.End.UnixNano()) {
			continue
		}
		if w.Kind != "" && w.Kind != KindReload {
			rs.Controls[w.Kind]++
			continue
		}
		rs.Written++
		e, ok := applied[w.Version]
		if !ok {
			rs.NotApplied++
			continue
		}
		rs.Applied++
		detect = append(detect, float64(e.ApplyEnd.Sub(w.End)))
		applyUs = append(applyUs, float64(e.ApplyDuration()))
	}
	rs.DetectionMs = Summarize(detect, 1e-6)
	rs.ApplyUs = Summarize(applyUs, 1e-3)
	return rs
}

// Pause is one GC stop-the-world pause estimated from the sampler.
type Pause struct {
	At  int64         // sample time, Unix ns (the pause ended within the preceding sample period)
	Dur time.Duration // bucket midpoint
}

// Pauses lists the GC pauses the sampler saw.
func Pauses(samples []telemetry.Sample) []Pause {
	var out []Pause
	for _, smp := range samples {
		for _, b := range smp.GCPauses {
			for i := uint64(0); i < b.Count; i++ {
				out = append(out, Pause{At: smp.Time, Dur: time.Duration(b.Mid() * 1e9)})
			}
		}
	}
	return out
}

func pauses(samples []telemetry.Sample, reg Regions) SplitPauses {
	var sp SplitPauses
	for _, p := range Pauses(samples) {
		var ps *PauseStats
		switch {
		case reg.Window.Contains(p.At):
			ps = &sp.Window
		case reg.Steady.Contains(p.At):
			ps = &sp.Steady
		default:
			continue
		}
		ps.Count++
		ms := p.Dur.Seconds() * 1e3
		ps.TotalMs += ms
		ps.MaxMs = math.Max(ps.MaxMs, ms)
	}
	sp.Window.SecondsObs = reg.Window.Total().Seconds()
	sp.Steady.SecondsObs = reg.Steady.Total().Seconds()
	if sp.Window.SecondsObs > 0 {
		sp.Window.MsPerS = sp.Window.TotalMs / sp.Window.SecondsObs
	}
	if sp.Steady.SecondsObs > 0 {
		sp.Steady.MsPerS = sp.Steady.TotalMs / sp.Steady.SecondsObs
	}
	return sp
}

func waiting(samples []telemetry.Sample, reg Regions) SplitGauge {
	var g SplitGauge
	var ws, ss float64
	for _, smp := range samples {
		v := float64(smp.Waiting)
		var gs *GaugeStats
		var sum *float64
		switch {
		case reg.Window.Contains(smp.Time):
			gs, sum = &g.Window, &ws
		case reg.Steady.Contains(smp.Time):
			gs, sum = &g.Steady, &ss
		default:
			continue
		}
		gs.Samples++
		gs.Peak = math.Max(gs.Peak, v)
		*sum += v
	}
	if g.Window.Samples > 0 {
		g.Window.Mean = ws / float64(g.Window.Samples)
	}
	if g.Steady.Samples > 0 {
		g.Steady.Mean = ss / float64(g.Steady.Samples)
	}
	return g
}

// mutexWait attributes each sample period's growth of the cumulative
// /sync/mutex/wait/total to windows or steady time, in ms of waiting per
// second.
func mutexWait(samples []telemetry.Sample, reg Regions) SplitRate {
	var r SplitRate
	var wWait, sWait, wDur, sDur float64
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		d := float64(b.Time-a.Time) / 1e9
		growth := (b.MutexWait - a.MutexWait) * 1e3
		switch {
		case reg.Window.Contains(b.Time):
			wWait, wDur = wWait+growth, wDur+d
		case reg.Steady.Contains(b.Time):
			sWait, sDur = sWait+growth, sDur+d
		}
	}
	if wDur > 0 {
		r.Window = wWait / wDur
	}
	if sDur > 0 {
		r.Steady = sWait / sDur
	}
	return r
}

// schedWait merges the sampler's /sched/latencies deltas (how long
// goroutines waited, runnable, for a CPU) inside and outside windows. On a
// one-CPU target this is where a reload's work shows: requests do not block
// on a lock the writer holds, they wait for the CPU the writer holds.
func schedWait(samples []telemetry.Sample, reg Regions) SplitHist {
	var w, s []telemetry.Bucket
	for _, smp := range samples {
		switch {
		case reg.Window.Contains(smp.Time):
			w = append(w, smp.SchedLatency...)
		case reg.Steady.Contains(smp.Time):
			s = append(s, smp.SchedLatency...)
		}
	}
	return SplitHist{Window: histStats(w), Steady: histStats(s)}
}

func histStats(bs []telemetry.Bucket) HistStats {
	var hs HistStats
	sb := make([]stats.Bucket, 0, len(bs))
	for _, b := range bs {
		hs.Count += b.Count
		sb = append(sb, stats.Bucket{Lo: b.Lo, Hi: b.Hi, Count: b.Count})
	}
	if hs.Count == 0 {
		return hs
	}
	hs.P50Us = stats.HistQuantile(sb, 0.5) * 1e6
	hs.P99Us = stats.HistQuantile(sb, 0.99) * 1e6
	hs.MaxUs = stats.HistQuantile(sb, 1) * 1e6
	return hs
}
