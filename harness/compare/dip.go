package compare

import (
	"encoding/json"
	"math"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/stats"
)

// DipStat is one strategy's reload cost with every round's shots pooled
// (package analysis: each reload against adjacent steady time), its stages,
// and how it differs from the baseline's.
type DipStat struct {
	Reload    analysis.KindCost `json:"reload"`
	Identical analysis.KindCost `json:"identical"`
	Reject    analysis.KindCost `json:"reject"`
	Stages    []analysis.Stage  `json:"stages"`
	// Diff is this strategy's dip minus the baseline's, in percentage
	// points, with an interval; P its two-sided p-value (normal
	// approximation) and PHolm P adjusted across the strategies (Holm).
	Diff    stats.Estimate `json:"diff_pp"`
	P       stats.Num      `json:"p"`
	PHolm   stats.Num      `json:"p_holm"`
	Verdict string         `json:"verdict"` // "baseline", "better", "worse", "no difference"
	// External marks an external target's runs (an anchor): it has no CPU
	// accounting, controls or stages, so those fields are null.
	External bool `json:"external,omitempty"`
}

// MarshalJSON encodes the stat; an external target's CPU accounting and
// stages, which it cannot have, are null rather than zero.
func (d DipStat) MarshalJSON() ([]byte, error) {
	type plain DipStat // no methods: no recursion
	b, err := json.Marshal(plain(d))
	if err != nil || !d.External {
		return b, err
	}
	return bench.NullJSONKeys(b, "reload.cpu_ms", "identical.cpu_ms", "reject.cpu_ms", "stages")
}

// DipComparison is the QPS dip of every strategy at one point.
type DipComparison struct {
	SampleMs   float64             `json:"qps_sample_ms"`
	TargetCPUs int                 `json:"target_cpus"`
	Strategies map[string]*DipStat `json:"strategies"` // the A/A repeat included, under its own name
	// AADiff is the baseline's dip minus its A/A repeat's: what noise alone
	// made of two pooled estimates of the same strategy.
	AADiff stats.Estimate `json:"aa_diff_pp"`
	// AAFloorPP is the half-width of AADiff's 95% interval: the smallest
	// difference between two strategies this comparison can tell from
	// noise, in percentage points.
	AAFloorPP stats.Num `json:"aa_floor_pp"`
	// WidestPP is the widest half-width of any strategy's own dip interval:
	// the resolution of a single strategy's dip.
	WidestPP stats.Num `json:"widest_half_width_pp"`
}

// closedShots and openShots select a run's shot costs: the closed-model
// phase's (every kind) or the open-model phase's (reloads).
func closedShots(s bench.Summary) []analysis.ShotCost { return s.Results.Throughput.Shots }
func openShots(s bench.Summary) []analysis.ShotCost   { return s.Results.Latency.Shots }

// poolDips pools every run's shots (chosen by pick) per strategy and
// compares each strategy's reload dip with the baseline's. Point estimates
// are the means of every pooled shot; intervals and p-values come from
// stats.TwoLevelMean and stats.DiffTwoLevel, which add the variance
// between runs to the variance between shots: a run whose machine happened
// to be slower moves all its shots together.
func poolDips(runs map[string][]bench.Summary, strats []string, baseline string, pick func(bench.Summary) []analysis.ShotCost) *DipComparison {
	dc := &DipComparison{SampleMs: float64(analysis.QPSSample) / 1e6, Strategies: map[string]*DipStat{}, AADiff: stats.NoEstimate(),
		AAFloorPP: stats.Num(math.NaN()), WidestPP: stats.Num(math.NaN())}
	scale := 100 / dc.SampleMs
	shots := map[string]map[string][]analysis.ShotCost{} // strategy → kind → every shot
	groups := map[string]map[string][][]float64{}        // strategy → kind → per-run lost ms
	external := map[string]bool{}
	for name, ss := range runs {
		var all []analysis.ShotCost
		groups[name] = map[string][][]float64{}
		for _, s := range ss {
			external[name] = external[name] || s.External != nil
			cs := pick(s)
			all = append(all, cs...)
			for kind, kc := range analysis.ByKind(cs) {
				groups[name][kind] = append(groups[name][kind], analysis.LostOf(kc))
			}
			if s.GOMAXPROCS > 0 {
				dc.TargetCPUs = s.GOMAXPROCS
			}
		}
		shots[name] = analysis.ByKind(all)
	}
	twoLevel := func(kc *analysis.KindCost, g [][]float64) {
		if kc.N == 0 {
			return
		}
		e, _ := stats.TwoLevelMean(g)
		kc.LostMs, kc.DipPP = e, e.Scale(scale)
	}
	diff := func(a, b [][]float64) (stats.Estimate, float64) { return stats.DiffTwoLevel(a, b) }
	widest := math.NaN()
	for name, by := range shots {
		g := groups[name]
		ds := &DipStat{
			Reload:    analysis.Aggregate(analysis.KindReload, by[analysis.KindReload], analysis.QPSSample, dc.TargetCPUs),
			Identical: analysis.Aggregate(analysis.KindIdentical, by[analysis.KindIdentical], analysis.QPSSample, dc.TargetCPUs),
			Reject:    analysis.Aggregate(analysis.KindReject, by[analysis.KindReject], analysis.QPSSample, dc.TargetCPUs),
			Diff:      stats.NoEstimate(), P: stats.Num(math.NaN()), PHolm: stats.Num(math.NaN()),
		}
		twoLevel(&ds.Reload, g[analysis.KindReload])
		twoLevel(&ds.Identical, g[analysis.KindIdentical])
		twoLevel(&ds.Reject, g[analysis.KindReject])
		if external[name] {
			// No CPU accounting to predict from, no controls to split by.
			ds.External = true
			ds.Reload.PredictedPP, ds.Reload.PredictedWithGCPP = stats.Num(math.NaN()), stats.Num(math.NaN())
		} else if ds.Reload.N > 0 {
			ds.Stages = analysis.Decompose(by, ds.Reload)
			// The stages' intervals too: differences between kinds, run by run.
			if len(ds.Stages) == 4 {
				ds.Stages[0].FromControls = ds.Identical.LostMs
				ds.Stages[1].FromControls, _ = diff(g[analysis.KindReject], g[analysis.KindIdentical])
				ds.Stages[2].FromControls, _ = diff(g[analysis.KindReload], g[analysis.KindReject])
			}
		}
		if h := ds.Reload.DipPP.HalfWidth(); stats.Finite(h) && !(h <= widest) {
			widest = h
		}
		dc.Strategies[name] = ds
	}
	dc.WidestPP = stats.Num(widest)
	if _, ok := shots[aaName(baseline)]; ok {
		d, _ := diff(groups[baseline][analysis.KindReload], groups[aaName(baseline)][analysis.KindReload])
		dc.AADiff = d.Scale(scale)
		dc.AAFloorPP = stats.Num(dc.AADiff.HalfWidth())
	}
	var names []string
	var ps []float64
	for _, name := range strats {
		ds := dc.Strategies[name]
		if ds == nil {
			continue
		}
		if name == baseline {
			ds.Verdict, ds.Diff, ds.P, ds.PHolm = "baseline", stats.Estimate{}, 1, 1
			continue
		}
		d, p := diff(groups[name][analysis.KindReload], groups[baseline][analysis.KindReload])
		ds.Diff, ds.P = d.Scale(scale), stats.Num(p)
		names = append(names, name)
		ps = append(ps, p)
	}
	for i, adj := range stats.Holm(ps) {
		ds := dc.Strategies[names[i]]
		ds.PHolm = stats.Num(adj)
		switch {
		case !stats.Finite(adj) || adj >= Alpha:
			ds.Verdict = "no difference"
		case ds.Diff.Value < 0:
			ds.Verdict = "better"
		default:
			ds.Verdict = "worse"
		}
	}
	return dc
}
