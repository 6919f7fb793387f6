package analysis

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

// Shot kinds: what the harness asked of the target at one instant. A real
// reload and its controls run through the same trigger and pipeline, so
// their differences isolate the pipeline's stages.
const (
	// KindReload: new content, read, parsed, validated and applied.
	KindReload = "reload"
	// KindIdentical: the serving content written again; the trigger fires,
	// the pipeline reads and hashes it and drops it (notice + read).
	KindIdentical = "identical"
	// KindReject: new content that parses to its last line and then fails
	// validation (a duplicate key there): read, parsed, validated, not
	// applied.
	KindReject = "reject"
	// KindBurn: a sham reload that only spends a known CPU time on the
	// target (calibration; POST /debug/burn).
	KindBurn = "burn"
)

// ShotKinds lists the kinds in report order.
var ShotKinds = []string{KindReload, KindIdentical, KindReject, KindBurn}

// Shot is one instant at which the target did reload work (or sham work)
// whose throughput cost is to be estimated.
type Shot struct {
	Kind     string              `json:"kind"`
	Version  int64               `json:"version,omitempty"`
	Phase    string              `json:"phase,omitempty"`
	Start    int64               `json:"start"`              // the target began the work (pipeline ReadStart), Unix ns
	End      int64               `json:"end"`                // and ended it (pipeline Finished), Unix ns
	CPU      strategies.StageCPU `json:"cpu"`                // the target's own accounting of the work's CPU
	Injected time.Duration       `json:"injected_ns"`        // KindBurn: the CPU time asked for
	WriteEnd int64               `json:"write_end,omitzero"` // when the harness's write returned (0 for shams)
}

// Geometry places a shot's window and its controls. The window R is
// [Start − Lead, End + Tail): the work itself, plus a tail for what it
// leaves behind (the garbage collection its allocations trigger, a queue
// draining). Its control C is adjacent steady time of the same total
// length, half right before R and half right after it, so a slow drift of
// the machine's speed cancels to first order.
type Geometry struct {
	Lead time.Duration `json:"lead_ns"`
	Tail time.Duration `json:"tail_ns"`
}

// DefaultGeometry is the geometry every bench, compare and calibrate run
// uses: the work itself, 10 ms before it (the trigger's own wake-up) and
// 40 ms after it (the garbage collection a parse brings on starts while
// the parse allocates and is over within a few ms of its end on this
// target).

// QPSSample is the QPS sample a dip is a share of: one second, the
// granularity at which load testers print QPS. A reload that costs 3 ms of
// the target's throughput makes the second that holds it 0.3% lower.
const QPSSample = time.Second

// The tail is short on purpose: the per-shot noise grows with the window's
// length, and every run checks that a window with a 4× longer tail finds
// no more cost (ThroughputSummary.LongTail).
var DefaultGeometry = Geometry{Lead: 10 * time.Millisecond, Tail: 40 * time.Millisecond}

// shotSpans is one shot's window and controls.
type shotSpans struct {
	shot    *Shot
	r       Span
	c       [2]Span
	dropped string // why the shot cannot be used, "" if it can
}

// spans computes every shot's window and controls within the phase span,
// and drops a shot whose window or controls overlap another shot's window
// or leave the phase (with the edges trimmed: the attack's ramp-up and tail
// are not steady state).
func (g Geometry) spans(shots []Shot, phase Span) []shotSpans {
	out := make([]shotSpans, len(shots))
	for i := range shots {
		s := &shots[i]
		r := Span{s.Start - int64(g.Lead), s.End + int64(g.Tail)}
		half := (r.To - r.From) / 2
		out[i] = shotSpans{shot: s, r: r, c: [2]Span{{r.From - half, r.From}, {r.To, r.To + half}}}
	}
	// Shots are sorted by Start; compare each with its neighbours until
	// they are too far apart to overlap.
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return out[order[a]].r.From < out[order[b]].r.From })
	for k, i := range order {
		a := &out[i]
		lo, hi := a.c[0].From, a.c[1].To
		if lo < phase.From || hi > phase.To {
			a.dropped = "window or control outside the phase"
			continue
		}
		for _, step := range []int{-1, 1} {
			for m := k + step; m >= 0 && m < len(order); m += step {
				b := &out[order[m]]
				if b.r.To <= lo-int64(time.Second) || b.r.From >= hi+int64(time.Second) {
					break
				}
				if b.r.From < hi && b.r.To > lo {
					a.dropped = "another shot's window overlaps this one's window or controls"
				}
			}
		}
	}
	return out
}

// ShotCost is one shot's paired estimate.
type ShotCost struct {
	Kind     string        `json:"kind"`
	Version  int64         `json:"version,omitempty"`
	At       int64         `json:"at"`        // Start, Unix ns
	WindowMs float64       `json:"window_ms"` // |R|
	Observed float64       `json:"observed"`  // requests completed in R
	Expected float64       `json:"expected"`  // requests completed in C (|C| = |R|)
	LostMs   float64       `json:"lost_ms"`   // (Expected − Observed) ÷ steady rate, ms of the target's whole capacity
	GCMs     stats.Num     `json:"gc_ms"`     // GC CPU in R minus in C, ms (NaN without samples)
	CPU      stageMs       `json:"cpu_ms"`    // the target's own accounting, ms
	Injected time.Duration `json:"injected_ns,omitzero"`
}

// stageMs is a StageCPU in milliseconds (means, in aggregates).
type stageMs struct {
	Read  float64 `json:"read"`
	Parse float64 `json:"parse"`
	Apply float64 `json:"apply"`
	Extra float64 `json:"extra"`
	Total float64 `json:"total"`
}

func toStageMs(c strategies.StageCPU) stageMs {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return stageMs{ms(c.Read), ms(c.Parse), ms(c.Apply), ms(c.Extra), ms(c.Total())}
}

// ShotCosts estimates every usable shot's cost from the completion times
// of a closed-model phase (sorted, Unix ns; only successful requests) and
// the target's samples (for GC CPU). It returns the costs, the steady rate
// they were converted with (requests per second over all controls), and
// how many shots of each kind were dropped.
func (g Geometry) ShotCosts(shots []Shot, ends []int64, phase Span, samples []telemetry.Sample) (costs []ShotCost, steadyRPS float64, dropped map[string]int) {
	dropped = map[string]int{}
	sp := g.spans(shots, phase)
	count := func(s Span) float64 {
		lo := sort.Search(len(ends), func(i int) bool { return ends[i] >= s.From })
		hi := sort.Search(len(ends), func(i int) bool { return ends[i] >= s.To })
		return float64(hi - lo)
	}
	var ctrlReq, ctrlNs float64
	for _, s := range sp {
		if s.dropped != "" {
			continue
		}
		ctrlReq += count(s.c[0]) + count(s.c[1])
		ctrlNs += float64(s.c[0].Dur() + s.c[1].Dur())
	}
	if ctrlNs == 0 || ctrlReq == 0 {
		for _, s := range sp {
			dropped[s.shot.Kind]++
		}
		return nil, math.NaN(), dropped
	}
	steadyRPS = ctrlReq / ctrlNs * 1e9
	gc := newCumulative(samples, func(s telemetry.Sample) float64 { return s.GCCPU })
	for _, s := range sp {
		if s.dropped != "" {
			dropped[s.shot.Kind]++
			continue
		}
		obs := count(s.r)
		// |C| equals |R| up to a nanosecond of rounding; scale exactly.
		exp := (count(s.c[0]) + count(s.c[1])) * float64(s.r.Dur()) / float64(s.c[0].Dur()+s.c[1].Dur())
		c := ShotCost{
			Kind: s.shot.Kind, Version: s.shot.Version, At: s.shot.Start, WindowMs: float64(s.r.Dur()) / 1e6,
			Observed: obs, Expected: exp, LostMs: (exp - obs) / steadyRPS * 1e3,
			GCMs: stats.Num(math.NaN()), CPU: toStageMs(s.shot.CPU), Injected: s.shot.Injected,
		}
		if gc != nil {
			c.GCMs = stats.Num(1e3 * (gc.over(s.r) - gc.over(s.c[0]) - gc.over(s.c[1])))
		}
		costs = append(costs, c)
	}
	return costs, steadyRPS, dropped
}

// cumulative interpolates a cumulative counter sampled over time.
type cumulative struct {
	t []int64
	v []float64
}

func newCumulative(samples []telemetry.Sample, value func(telemetry.Sample) float64) *cumulative {
	if len(samples) < 2 {
		return nil
	}
	c := &cumulative{}
	for _, s := range samples {
		c.t = append(c.t, s.Time)
		c.v = append(c.v, value(s))
	}
	return c
}

// at returns the counter's value at t by linear interpolation.
func (c *cumulative) at(t int64) float64 {
	i := sort.Search(len(c.t), func(i int) bool { return c.t[i] >= t })
	switch {
	case i == 0:
		return c.v[0]
	case i == len(c.t):
		return c.v[len(c.v)-1]
	}
	t0, t1 := c.t[i-1], c.t[i]
	f := float64(t-t0) / float64(t1-t0)
	return c.v[i-1] + f*(c.v[i]-c.v[i-1])
}

func (c *cumulative) over(s Span) float64 { return c.at(s.To) - c.at(s.From) }

// KindCost is what one kind of shot costs, over all its usable shots.
type KindCost struct {
	Kind      string    `json:"kind"`
	N         int       `json:"n"`         // shots estimated
	Dropped   int       `json:"dropped"`   // shots in the phase's trimmed edges, or whose windows overlapped another's
	Unmatched int       `json:"unmatched"` // writes of this kind the target never ran (not noticed, or merged into another)
	WindowMs  stats.Num `json:"window_ms"` // mean |R|
	// LostMs is the mean lost throughput per shot, in ms of the target's
	// whole capacity, with a 95% interval over the shots (stats.MeanCI).
	LostMs stats.Estimate `json:"lost_ms"`
	// DipPP is LostMs as a share of the QPS sample (QPSSample unless the
	// caller chose otherwise), in percentage points: how much lower the
	// QPS a load tester prints for the second that holds one such shot
	// comes out.
	DipPP stats.Estimate `json:"dip_pp"`
	SDMs  stats.Num      `json:"sd_ms"` // per-shot standard deviation of LostMs
	// CPU is the target's own per-stage accounting, mean per shot.
	CPU stageMs `json:"cpu_ms"`
	// GCMs is the GC CPU (runtime/metrics /cpu/classes/gc/total, an
	// estimate) in windows minus controls, mean per shot with its interval.
	GCMs stats.Estimate `json:"gc_ms"`
	// PredictedPP is the dip the target's own accounting predicts: pipeline
	// CPU ÷ interval ÷ target CPUs; PredictedWithGCPP adds the GC CPU.
	PredictedPP       stats.Num     `json:"predicted_pp"`
	PredictedWithGCPP stats.Num     `json:"predicted_with_gc_pp"`
	Injected          time.Duration `json:"injected_ns,omitzero"`
}

// Aggregate pools shot costs of one kind (and one injected level, for
// burns) into a KindCost; sample is the QPS sample a dip is a share of,
// cpus the target's CPU count.
func Aggregate(kind string, costs []ShotCost, sample time.Duration, cpus int) KindCost {
	kc := KindCost{Kind: kind, LostMs: stats.NoEstimate(), DipPP: stats.NoEstimate(), GCMs: stats.NoEstimate(),
		SDMs: stats.Num(math.NaN()), WindowMs: stats.Num(math.NaN()), PredictedPP: stats.Num(math.NaN()), PredictedWithGCPP: stats.Num(math.NaN())}
	var lost, gc, win []float64
	var cpu stageMs
	for _, c := range costs {
		lost = append(lost, c.LostMs)
		gc = append(gc, float64(c.GCMs))
		win = append(win, c.WindowMs)
		cpu.Read += c.CPU.Read
		cpu.Parse += c.CPU.Parse
		cpu.Apply += c.CPU.Apply
		cpu.Extra += c.CPU.Extra
		cpu.Total += c.CPU.Total
		kc.Injected = c.Injected
	}
	kc.N = len(costs)
	if kc.N == 0 {
		return kc
	}
	n := float64(kc.N)
	kc.CPU = stageMs{cpu.Read / n, cpu.Parse / n, cpu.Apply / n, cpu.Extra / n, cpu.Total / n}
	kc.WindowMs = stats.Num(stats.Mean(win))
	kc.LostMs = stats.MeanCI(lost)
	kc.SDMs = stats.Num(stats.StdDev(lost))
	kc.GCMs = stats.MeanCI(gc)
	if sample > 0 {
		pp := 100 / (float64(sample) / 1e6)
		kc.DipPP = kc.LostMs.Scale(pp)
		if cpus > 0 {
			kc.PredictedPP = stats.Num(kc.CPU.Total / float64(cpus) * pp)
			if stats.Finite(kc.GCMs.Value) {
				kc.PredictedWithGCPP = stats.Num((kc.CPU.Total + kc.GCMs.Value) / float64(cpus) * pp)
			}
		}
	}
	return kc
}

// Stage is one row of the decomposition of a reload's cost.
type Stage struct {
	Name string `json:"name"`
	// FromControls is the stage's lost throughput per reload, ms, as the
	// difference between two kinds of shot (NaN where a kind is missing).
	FromControls stats.Estimate `json:"from_controls_ms"`
	How          string         `json:"how"` // which difference
	// CPUMs is the target's own accounting of the stage's CPU per reload,
	// ms (GC: the runtime's GC CPU in windows minus controls).
	CPUMs stats.Num `json:"cpu_ms"`
}

// Decompose splits a reload's cost into stages: notice + read (identical
// rewrites), parse + validate (rejected parses minus identical rewrites),
// apply (reloads minus rejected parses), and the garbage collection the
// reload's allocations bring on (from the runtime's GC CPU). by holds the
// shot costs by kind.
func Decompose(by map[string][]ShotCost, reload KindCost) []Stage {
	diff := func(a, b string) stats.Estimate {
		if len(by[a]) < 2 {
			return stats.NoEstimate()
		}
		if b == "" {
			return stats.MeanCI(lost(by[a]))
		}
		if len(by[b]) < 2 {
			return stats.NoEstimate()
		}
		return DiffMeans(lost(by[a]), lost(by[b]))
	}
	return []Stage{
		{Name: "notice + read + hash", FromControls: diff(KindIdentical, ""), How: "identical rewrites", CPUMs: stats.Num(reload.CPU.Read)},
		{Name: "parse + validate", FromControls: diff(KindReject, KindIdentical), How: "rejected parses − identical rewrites", CPUMs: stats.Num(reload.CPU.Parse)},
		{Name: "apply / swap", FromControls: diff(KindReload, KindReject), How: "reloads − rejected parses", CPUMs: stats.Num(reload.CPU.Apply)},
		{Name: "garbage collection", FromControls: stats.NoEstimate(), How: "runtime GC CPU, windows − controls", CPUMs: stats.Num(reload.GCMs.Value)},
	}
}

func lost(cs []ShotCost) []float64 {
	out := make([]float64, len(cs))
	for i, c := range cs {
		out[i] = c.LostMs
	}
	return out
}

// LostOf returns the LostMs of each cost.
func LostOf(cs []ShotCost) []float64 { return lost(cs) }

// DiffMeans returns mean(a) − mean(b) with an interval whose half-width
// combines the two means' (stats.MeanCI) in quadrature, as for independent
// samples.
func DiffMeans(a, b []float64) stats.Estimate {
	ea, eb := stats.MeanCI(a), stats.MeanCI(b)
	if !ea.Valid() || !eb.Valid() {
		return stats.NoEstimate()
	}
	d := ea.Value - eb.Value
	h := math.Hypot(ea.HalfWidth(), eb.HalfWidth())
	return stats.Estimate{Value: d, Lo: d - h, Hi: d + h}
}

// ByKind groups costs by kind, keeping order.
func ByKind(costs []ShotCost) map[string][]ShotCost {
	out := map[string][]ShotCost{}
	for _, c := range costs {
		out[c.Kind] = append(out[c.Kind], c)
	}
	return out
}

// MatchShots pairs every write the harness made with the pipeline run that
// processed it: the first run that started after the write began, read
// the same content (hash), and ended as the kind expects (applied,
// unchanged, rejected). Writes no run matches are counted as unmatched by
// kind.
func MatchShots(writes []Write, events []strategies.Event) (shots []Shot, unmatched map[string]int) {
	unmatched = map[string]int{}
	want := map[string]strategies.Outcome{KindReload: strategies.Applied, KindIdentical: strategies.Unchanged, KindReject: strategies.Rejected}
	evs := slices.Clone(events)
	sort.Slice(evs, func(i, j int) bool { return evs[i].ReadStart.Before(evs[j].ReadStart) })
	used := make([]bool, len(evs))
	ws := slices.Clone(writes)
	sort.Slice(ws, func(i, j int) bool { return ws[i].Start.Before(ws[j].Start) })
	for _, w := range ws {
		kind := w.Kind
		if kind == "" {
			kind = KindReload
		}
		outcome, ok := want[kind]
		if !ok || w.Hash == "" {
			continue
		}
		i := sort.Search(len(evs), func(i int) bool { return !evs[i].ReadStart.Before(w.Start) })
		found := false
		for ; i < len(evs); i++ {
			e := evs[i]
			if used[i] || e.Hash != w.Hash || e.Outcome != outcome || e.Finished.IsZero() {
				continue
			}
			used[i] = true
			shots = append(shots, Shot{Kind: kind, Version: w.Version, Phase: w.Phase, Start: e.ReadStart.UnixNano(),
				End: e.Finished.UnixNano(), CPU: e.CPU, WriteEnd: w.End.UnixNano()})
			found = true
			break
		}
		if !found {
			unmatched[kind]++
		}
	}
	sort.Slice(shots, func(i, j int) bool { return shots[i].Start < shots[j].Start })
	return shots, unmatched
}

// Regions are the reload windows (R of every usable reload shot) and their
// controls (C), as sorted disjoint spans, for splitting other measurements
// (latency, GC pauses, lock waits) between reload time and steady time.
type Regions struct {
	Window Windows
	Steady Windows
}

// ShotRegions returns the regions of the usable shots of kind within the
// phase spans.
func (g Geometry) ShotRegions(shots []Shot, kind string, phases []Span) Regions {
	var rs, cs []Span
	for _, ph := range phases {
		var in []Shot
		for _, s := range shots {
			if s.Start >= ph.From && s.Start < ph.To {
				in = append(in, s)
			}
		}
		for _, s := range g.spans(in, ph) {
			if s.dropped != "" || s.shot.Kind != kind {
				continue
			}
			rs = append(rs, s.r)
			cs = append(cs, s.c[0], s.c[1])
		}
	}
	return Regions{Window: merge(rs), Steady: merge(cs)}
}
