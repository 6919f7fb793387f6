package analysis

import (
	"math"
	"sort"
	"time"

	"reloadlab/harness/load"
	"reloadlab/strategies"
	"reloadlab/targets/telemetry"
)

// BinWidth is the width of throughput bins.
const BinWidth = 100 * time.Millisecond

// Bootstrap resamples for the QPS-dip confidence interval.
const Bootstrap = 2000

// Write is one config change the harness made.
type Write struct {
	Version int64     `json:"version"`
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
	Samples    []telemetry.Sample
	Traces     []TraceWindow
}

// Summary is the analysed run. Durations are reported in the units their
// JSON names say.
type Summary struct {
	Throughput ThroughputSummary `json:"throughput"`
	Latency    LatencySummary    `json:"latency"`
	Reloads    ReloadSummary     `json:"reloads"`
	Torn       TornSummary       `json:"torn"`
	GC         SplitPauses       `json:"gc_pauses"`
	Blocked    SplitGauge        `json:"blocked_goroutines"`
	SchedWait  SplitHist         `json:"sched_wait"` // /sched/latencies: runnable → running
	MutexWait  SplitRate         `json:"mutex_wait_ms_per_s"`
	Traces     []TraceWindow     `json:"traces"`
}

// ThroughputSummary covers the closed-model phase.
type ThroughputSummary struct {
	Seconds      float64  `json:"seconds"`
	Requests     int      `json:"requests"`
	Errors       int      `json:"errors"`
	CapacityRPS  float64  `json:"capacity_rps"` // completed requests per second over the phase
	SteadyRPS    float64  `json:"steady_rps"`   // mean of the steady bins
	WindowRPS    float64  `json:"window_rps"`   // mean of the window bins
	QPSDip       Estimate `json:"qps_dip"`      // fraction; see the package doc
	WindowBins   int      `json:"window_bins"`
	SteadyBins   int      `json:"steady_bins"`
	WindowShare  float64  `json:"window_share"` // fraction of the phase inside windows
	ReloadsInRun int      `json:"reloads"`
}

// LatencySummary covers the open-model phase; values in milliseconds.
type LatencySummary struct {
	RateRPS          int       `json:"rate_rps"`
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
}

// ReloadSummary covers every change the harness wrote during the measured
// phases (throughput and latency): Written = Applied + NotApplied.
// ApplyUs covers every apply that started in those phases.
type ReloadSummary struct {
	Written     int       `json:"written"`
	Applied     int       `json:"applied"` // written versions that were applied
	Rejected    int       `json:"rejected"`
	NotApplied  int       `json:"not_applied"` // written versions never applied (superseded before the trigger fired, or missed)
	DetectionMs Quantiles `json:"detection_ms"`
	ApplyUs     Quantiles `json:"apply_us"`
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

// HistStats summarises a histogram's samples (values in µs, each valued at
// its bucket's upper bound, so quantiles are upper estimates).
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
	applies := applyTimes(in.Events)
	win := NewWindows(applies, WindowBefore, WindowAfter)

	if tp := in.Throughput; tp != nil && len(tp.Recs) > 0 {
		s.Throughput = throughput(tp, win, applies)
	}
	if lp := in.Latency; lp != nil && len(lp.Recs) > 0 {
		s.Latency = latency(lp, win, applies)
	}
	s.Reloads = reloads(in)
	for _, ph := range []*load.Result{in.Throughput, in.Latency} {
		if ph == nil {
			continue
		}
		for _, r := range ph.Recs {
			if r.Torn {
				s.Torn.Requests++
				if win.Contains(r.Start) {
					s.Torn.InWindow++
				} else {
					s.Torn.Steady++
				}
			}
		}
	}
	span := measuredSpan(in)
	s.GC = pauses(in.Samples, win, span)
	s.Blocked = waiting(in.Samples, win, span)
	s.SchedWait = schedWait(in.Samples, win, span)
	s.MutexWait = mutexWait(in.Samples, win, span)
	s.Traces = in.Traces
	return s
}

func applyTimes(events []strategies.Event) []int64 {
	var out []int64
	for _, e := range events {
		if e.Outcome == strategies.Applied && !e.ApplyStart.IsZero() {
			out = append(out, e.ApplyStart.UnixNano())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
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

func countIn(applies []int64, s Span) int {
	n := 0
	for _, t := range applies {
		if t >= s.From && t < s.To {
			n++
		}
	}
	return n
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

func throughput(tp *load.Result, win Windows, applies []int64) ThroughputSummary {
	from, to := tp.Began.UnixNano(), tp.Ended.UnixNano()
	ts := ThroughputSummary{Seconds: tp.Ended.Sub(tp.Began).Seconds(), Requests: len(tp.Recs)}
	ts.Errors = len(tp.Recs) - tp.Completed()
	ts.CapacityRPS = float64(tp.Completed()) / ts.Seconds
	// Skip the edges (a second, or a tenth of a short phase): connection
	// ramp-up and the attack's tail are not steady state.
	edge := min(int64(time.Second), (to-from)/10)
	starts, rps := Bins(tp.Recs, from+edge, to-edge)
	var wb, sb []float64
	for i, st := range starts {
		if win.Contains(st + int64(BinWidth)/2) {
			wb = append(wb, rps[i])
		} else {
			sb = append(sb, rps[i])
		}
	}
	ts.WindowBins, ts.SteadyBins = len(wb), len(sb)
	ts.WindowRPS, ts.SteadyRPS = mean(wb), mean(sb)
	ts.QPSDip = bootstrapDip(wb, sb, Bootstrap)
	ts.WindowShare = win.Within(Span{from, to}).Seconds() / ts.Seconds
	ts.ReloadsInRun = countIn(applies, Span{from, to})
	return ts
}

func latency(lp *load.Result, win Windows, applies []int64) LatencySummary {
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
		if win.Contains(lp.Intended(r)) {
			wm, wc = append(wm, m), append(wc, c)
		} else {
			sm, sc = append(sm, m), append(sc, c)
		}
	}
	const ms = 1e-6
	ls.Steady, ls.Window = Summarize(sm, ms), Summarize(wm, ms)
	ls.SteadyCorrected, ls.WindowCorrected = Summarize(sc, ms), Summarize(wc, ms)
	ls.OverallMeasured, ls.OverallCorrected = Summarize(am, ms), Summarize(ac, ms)
	ls.ReloadsInRun = countIn(applies, Span{lp.Began.UnixNano(), lp.Ended.UnixNano()})
	return ls
}

func reloads(in Input) ReloadSummary {
	var rs ReloadSummary
	spans := measuredSpan(in)
	applied := map[int64]strategies.Event{}
	var applyUs []float64
	for _, e := range in.Events {
		switch e.Outcome {
		case strategies.Applied:
			if _, dup := applied[e.Version]; !dup {
				applied[e.Version] = e
			}
			if inSpans(spans, e.ApplyStart.UnixNano()) {
				applyUs = append(applyUs, float64(e.ApplyDuration()))
			}
		case strategies.Rejected:
			if inSpans(spans, e.ReadStart.UnixNano()) {
				rs.Rejected++
			}
		}
	}
	var detect []float64
	for _, w := range in.Writes {
		if !inSpans(spans, w.End.UnixNano()) {
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

func pauses(samples []telemetry.Sample, win Windows, spans []Span) SplitPauses {
	var sp SplitPauses
	for _, p := range Pauses(samples) {
		if !inSpans(spans, p.At) {
			continue
		}
		ps := &sp.Steady
		if win.Contains(p.At) {
			ps = &sp.Window
		}
		ps.Count++
		ms := p.Dur.Seconds() * 1e3
		ps.TotalMs += ms
		ps.MaxMs = math.Max(ps.MaxMs, ms)
	}
	var total, inWin time.Duration
	for _, s := range spans {
		total += s.Dur()
		inWin += win.Within(s)
	}
	sp.Window.SecondsObs = inWin.Seconds()
	sp.Steady.SecondsObs = (total - inWin).Seconds()
	if sp.Window.SecondsObs > 0 {
		sp.Window.MsPerS = sp.Window.TotalMs / sp.Window.SecondsObs
	}
	if sp.Steady.SecondsObs > 0 {
		sp.Steady.MsPerS = sp.Steady.TotalMs / sp.Steady.SecondsObs
	}
	return sp
}

func waiting(samples []telemetry.Sample, win Windows, spans []Span) SplitGauge {
	var g SplitGauge
	var ws, ss float64
	for _, smp := range samples {
		if !inSpans(spans, smp.Time) {
			continue
		}
		v := float64(smp.Waiting)
		gs, sum := &g.Steady, &ss
		if win.Contains(smp.Time) {
			gs, sum = &g.Window, &ws
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
func mutexWait(samples []telemetry.Sample, win Windows, spans []Span) SplitRate {
	var r SplitRate
	var wWait, sWait, wDur, sDur float64
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		if !inSpans(spans, b.Time) {
			continue
		}
		d := float64(b.Time-a.Time) / 1e9
		growth := (b.MutexWait - a.MutexWait) * 1e3
		if win.Contains(b.Time) {
			wWait, wDur = wWait+growth, wDur+d
		} else {
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
func schedWait(samples []telemetry.Sample, win Windows, spans []Span) SplitHist {
	var w, s []telemetry.Bucket
	for _, smp := range samples {
		if !inSpans(spans, smp.Time) {
			continue
		}
		if win.Contains(smp.Time) {
			w = append(w, smp.SchedLatency...)
		} else {
			s = append(s, smp.SchedLatency...)
		}
	}
	return SplitHist{Window: histStats(w), Steady: histStats(s)}
}

func histStats(bs []telemetry.Bucket) HistStats {
	sort.Slice(bs, func(i, j int) bool { return bs[i].Hi < bs[j].Hi })
	var hs HistStats
	for _, b := range bs {
		hs.Count += b.Count
	}
	if hs.Count == 0 {
		return hs
	}
	q := func(p float64) float64 {
		need := uint64(math.Ceil(p * float64(hs.Count)))
		var acc uint64
		for _, b := range bs {
			acc += b.Count
			if acc >= need {
				return b.Hi * 1e6
			}
		}
		return bs[len(bs)-1].Hi * 1e6
	}
	hs.P50Us, hs.P99Us, hs.MaxUs = q(0.5), q(0.99), bs[len(bs)-1].Hi*1e6
	return hs
}
