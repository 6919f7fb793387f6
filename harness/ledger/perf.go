package ledger

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/mdtable"
	"github.com/reloadlab/reloadlab/harness/stats"
)

// Commands that produce each results directory.
const (
	cmdCompare = "make compare"
	cmdDetect  = "make detect"
	cmdMicro   = "make micro"
)

func cmdBench(s string) string { return "make bench STRATEGY=" + s }

// Stat returns a strategy's statistics for a compare metric at the
// comparison's first point (nil when the results lack it).
func Stat(run *compare.Run, metric, strategy string) *compare.Stat {
	if run == nil || len(run.Points) == 0 {
		return nil
	}
	mr := run.Points[0].Metrics[metric]
	if mr == nil {
		return nil
	}
	return mr.Strategies[strategy]
}

func stat(run *compare.Run, metric, strategy string) *compare.Stat {
	return Stat(run, metric, strategy)
}

func fin(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// FormatNum formats a figure for prose with three significant figures (at
// most; none after the point from 100 on), "n/a" when it is not finite.
func FormatNum(v float64) string {
	if !fin(v) {
		return "n/a"
	}
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func g(v float64) string { return FormatNum(v) }

// FormatStat formats a compare statistic as "median [lo, hi]".
func FormatStat(st *compare.Stat) string {
	if st == nil || !fin(st.Median) {
		return "n/a"
	}
	return fmt.Sprintf("%s [%s, %s]", g(st.Median), g(st.Lo), g(st.Hi))
}

func ci(st *compare.Stat) string { return FormatStat(st) }

// DipLimitPP is the article's bound on QPS fluctuation, in percentage
// points of a 1 s QPS sample.
const DipLimitPP = 0.3

// dipState classifies a dip estimate against DipLimitPP: "holds" (the whole
// interval below it), "fails" (above it), "unresolved" (straddling it), or
// "" when there is no estimate.
func dipState(e stats.Estimate) string {
	switch {
	case !e.Valid():
		return ""
	case e.Hi < DipLimitPP:
		return "holds"
	case e.Lo > DipLimitPP:
		return "fails"
	}
	return "unresolved"
}

// loadLevel is one load level's pooled dips.
type loadLevel struct {
	name string
	dip  *compare.DipComparison
	run  *compare.Run
	pt   *compare.Point
}

// loadLevels lists the load levels the results measured: saturation from
// make compare, then each utilization of make utilization.
func loadLevels(in *Inputs) []loadLevel {
	var out []loadLevel
	if in.Compare != nil && len(in.Compare.Points) > 0 && in.Compare.Points[0].Dip != nil {
		out = append(out, loadLevel{"saturation (closed model)", in.Compare.Points[0].Dip, in.Compare, &in.Compare.Points[0]})
	}
	if u := in.Sweeps["util"]; u != nil {
		for i := range u.Points {
			pt := &u.Points[i]
			if pt.OpenDip != nil {
				out = append(out, loadLevel{fmt.Sprintf("%s of capacity (open model)", pctString(pt.Value)), pt.OpenDip, u, pt})
			}
		}
	}
	return out
}

func pctString(v string) string {
	var f float64
	if _, err := fmt.Sscan(v, &f); err != nil {
		return v
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

func claimQPS(in *Inputs) Claim {
	c := Claim{ID: "P1", Section: "title and chapter 4.1", Command: cmdCompare + "; make utilization; make calibrate",
		Claim: "Zero-downtime reload keeps QPS fluctuation under 0.3% in load tests.",
		Rule:  "at a load level a strategy holds the claim when its dip interval (lost throughput per reload ÷ the QPS sample a load tester prints, 1 s) lies below 0.3 pp, fails it when the interval lies above, and is unresolved when it straddles 0.3 pp; confirmed when every strategy holds it at every level measured, refuted when every strategy fails it at every level, depends otherwise"}
	levels := loadLevels(in)
	if len(levels) == 0 {
		c.Verdict, c.Because = NotReproducible, "results/compare holds no pooled QPS dip (made by an older lab version: run `make compare`)"
		return c
	}
	var parts, holds, fails, unresolved []string
	total, nHold, nFail := 0, 0, 0
	for _, lv := range levels {
		var cells []string
		for _, s := range lv.run.Strategies {
			ds := lv.dip.Strategies[s]
			if ds == nil {
				continue
			}
			e := ds.Reload.DipPP
			st := dipState(e)
			if st == "" {
				continue
			}
			total++
			cells = append(cells, fmt.Sprintf("%s %s", s, estString(e)))
			where := s + " at " + lv.name
			switch st {
			case "holds":
				nHold++
				holds = append(holds, where)
			case "fails":
				nFail++
				fails = append(fails, where)
			default:
				unresolved = append(unresolved, where)
			}
		}
		floor := ""
		if fin(float64(lv.dip.AAFloorPP)) {
			floor = fmt.Sprintf(" (A/A floor ±%.2f pp)", float64(lv.dip.AAFloorPP))
		}
		parts = append(parts, fmt.Sprintf("at %s: %s%s", lv.name, strings.Join(cells, ", "), floor))
	}
	measured := fmt.Sprintf("Dip per reload, in pp of a %s QPS sample, every reload of every round pooled, 95%% interval: %s.", mdtable.Millis(levels[0].dip.SampleMs), strings.Join(parts, "; "))
	if base := levels[0]; base.name == "saturation (closed model)" {
		if ds := base.dip.Strategies[base.run.Baseline]; ds != nil && ds.Reload.LostMs.Valid() {
			measured += fmt.Sprintf(" At saturation a reload costs %s its %s ms of throughput (the target's own accounting: %.1f ms of pipeline CPU, +%s ms GC).",
				base.run.Baseline, estString(ds.Reload.LostMs), ds.Reload.CPU.Total, g(ds.Reload.GCMs.Value))
		}
	}
	if cal := in.Calibrate; cal != nil {
		measured += fmt.Sprintf(" Calibration (`make calibrate`): injected sham costs are recovered with slope %s; A/A floor ±%s pp with %d shots; smallest injected effect resolved %s pp.",
			estString(cal.Fit.Slope), g(float64(cal.AAFloorPP)), cal.ShotsPerLevel, g(float64(cal.ResolutionPP)))
	}
	if u := in.Sweeps["util"]; u != nil {
		var lat []string
		for _, pt := range u.Points {
			w, st := stat(&compare.Run{Points: []compare.Point{pt}}, "reload-p99", u.Baseline), stat(&compare.Run{Points: []compare.Point{pt}}, "steady-p99", u.Baseline)
			if w != nil && st != nil {
				lat = append(lat, fmt.Sprintf("%s: %s vs %s ms", pctString(pt.Value), g(w.Median), g(st.Median)))
			}
		}
		if len(lat) > 0 {
			measured += fmt.Sprintf(" Below capacity the cost shows as latency instead: %s's p99 in reload windows vs their controls, %s.", u.Baseline, strings.Join(lat, "; "))
		}
	}
	c.Measured = measured
	switch {
	case total == 0:
		c.Verdict, c.Because = NotReproducible, "no strategy has a dip estimate with an interval"
	case nHold == total:
		c.Verdict = Confirmed
	case nFail == total:
		c.Verdict = Refuted
	default:
		c.Verdict = Depends
		c.Because = fmt.Sprintf("holds for %s; fails for %s; unresolved for %s", list(holds), list(fails), list(unresolved))
	}
	return c
}

// estString formats an estimate as "v [lo, hi]".
func estString(e stats.Estimate) string {
	if !fin(e.Value) {
		return "n/a"
	}
	if !e.Valid() {
		return g(e.Value)
	}
	return fmt.Sprintf("%s [%s, %s]", g(e.Value), g(e.Lo), g(e.Hi))
}

// pprofShareLimit is the article's share of goroutines in Mutex.Lock.
const pprofShareLimit = 0.70

func claimPprofShare(in *Inputs) Claim {
	c := Claim{ID: "P8", Section: "chapter 4.4", Command: cmdBench("lockparse"),
		Claim: "With the parse inside the global write lock (its Reload snippet), a pprof goroutine profile finds more than 70% of goroutines in sync.Mutex.Lock.",
		Rule:  "confirmed when the 95% interval of the share of goroutines in a lock call, over goroutine profiles that caught lockparse's reload, lies above 70%; refuted when it lies below; depends when it straddles 70%"}
	lp := in.Bench["lockparse"]
	if lp == nil {
		c.Verdict, c.Because = NotReproducible, "results/lockparse is missing (run `make bench STRATEGY=lockparse`)"
		return c
	}
	gs := lp.Goroutines
	if gs.DuringReload == 0 || !gs.ShareDuringReload.Valid() {
		c.Verdict, c.Because = NotReproducible, fmt.Sprintf("none of the %d goroutine profiles of results/lockparse caught a reload in progress (two are needed for an interval)", gs.Profiles)
		return c
	}
	e := gs.ShareDuringReload
	c.Measured = fmt.Sprintf("Goroutine profiles (debug=1) taken back to back under the closed model (%s workers): in the %d that caught lockparse's reload in progress (%d with the parse running inside the write lock), %.0f%% [%.0f, %.0f] of all goroutines sat in sync.(*RWMutex).RLock/Lock or sync.(*Mutex).Lock (at most %d in one profile, %.0f%% of its goroutines); counted over HTTP connection goroutines only, %s; in the %d profiles between reloads, %s.",
		in.workers("lockparse"), gs.DuringReload, gs.DuringParse, 100*e.Value, 100*e.Lo, 100*e.Hi, gs.MaxInLock, 100*gs.MaxShare,
		pctEstString(gs.ServingShareDuringReload), gs.Profiles-gs.DuringReload, pctEstString(gs.ShareSteady))
	if at := in.Bench["atomic"]; at != nil && at.Goroutines.DuringReload > 0 {
		c.Measured += fmt.Sprintf(" atomic, for contrast: %s during its reloads.", pctEstString(at.Goroutines.ShareDuringReload))
	}
	if fin(float64(gs.DuringTotal)) {
		c.Measured += fmt.Sprintf(" What those profiles held, on average: %.0f goroutines, of which %.0f in a lock call, %.0f HTTP connection goroutines (net/http.(*conn).serve) and %.0f net/http background readers (one per request inside a handler), the rest the runtime's and the lab's own.",
			float64(gs.DuringTotal), float64(gs.DuringInLock), float64(gs.DuringServing), float64(gs.DuringBgReaders))
	}
	switch {
	case e.Lo > pprofShareLimit:
		c.Verdict = Confirmed
	case e.Hi < pprofShareLimit:
		c.Verdict = Refuted
		c.Because = fmt.Sprintf("the share is %.0f%% [%.0f, %.0f], below 70%%", 100*e.Value, 100*e.Lo, 100*e.Hi)
		if t := float64(gs.DuringTotal); fin(t) && t > 0 {
			c.Because += fmt.Sprintf("; even if every HTTP connection goroutine waited in the lock, the share would be %.0f%% of the %.0f goroutines, since net/http's background readers (%.0f) and the runtime's goroutines stay in the count", 100*float64(gs.DuringServing)/t, t, float64(gs.DuringBgReaders))
		}
	default:
		c.Verdict = Depends
		c.Because = fmt.Sprintf("the share's interval %.0f…%.0f%% straddles 70%%", 100*e.Lo, 100*e.Hi)
	}
	return c
}

func pctEstString(e stats.Estimate) string { return e.Format(100, 0, "%") }

func claimPprofTrace(in *Inputs) Claim {
	locked := "lockparse"
	if in.Bench[locked] == nil {
		locked = "lockmap"
	}
	c := Claim{ID: "P6", Section: "chapter 4.4", Command: cmdBench(locked) + "; " + cmdBench("atomic"),
		Claim: "pprof + execution traces locate the GC jitter and the blocked goroutines of a reload.",
		Rule:  "two parts from the flight-recorder windows around reloads: the traces hold stop-the-world ranges (GC located), and they count more goroutines blocked on a sync mutex under the strategy that locks (lockparse, else lockmap) than under atomic, decided only when runtime/metrics shows lock waits to locate (more than twice steady and above 0.1 ms/s in reload windows); confirmed when both hold, refuted when neither, depends when one"}
	lm, at := in.Bench[locked], in.Bench["atomic"]
	if lm == nil || at == nil {
		return c.missing("results/lockparse (or lockmap) and results/atomic are missing (run `make bench STRATEGY=lockparse` and `make bench STRATEGY=atomic`)")
	}
	count := func(s *bench.Summary) (traces, blocked, stw int, frames map[string]bool) {
		frames = map[string]bool{}
		for _, t := range s.Results.Traces {
			if !t.CoversSpan {
				continue
			}
			traces++
			blocked += t.LockBlocked
			stw += t.STWCount
			for _, f := range t.Frames {
				frames[f] = true
			}
		}
		return
	}
	tl, bl, sl, fl := count(lm)
	ta, ba, sa, _ := count(at)
	var fs []string
	for f := range fl {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	c.Measured = fmt.Sprintf("Flight-recorder windows around reloads (%d keys): %s %d goroutines blocked on a sync mutex over %d traced reloads (frames: %s), %d stop-the-world ranges; atomic %d blocked over %d, %d stop-the-world ranges. runtime/metrics lock wait (throughput and latency phases): %s %.3f ms/s in reload windows vs %.3f steady; atomic %.3f vs %.3f. Target GOMAXPROCS %d.",
		lm.Keys, locked, bl, tl, list(fs), sl, ba, ta, sa, locked,
		lm.Results.MutexWait.Window, lm.Results.MutexWait.Steady, at.Results.MutexWait.Window, at.Results.MutexWait.Steady, lm.GOMAXPROCS)
	lockWaits := lm.Results.MutexWait.Window > 2*lm.Results.MutexWait.Steady && lm.Results.MutexWait.Window > 0.1
	if tl == 0 || ta == 0 {
		return c.missing("no trace window covered a reload")
	}
	gc := part{what: "the traces locate GC pauses", known: true, holds: sl > 0, why: fmt.Sprintf("%d stop-the-world ranges over %d traced reloads", sl, tl)}
	blocked := part{what: "the traces locate goroutines blocked on the config lock", known: lockWaits, holds: bl > ba,
		why: fmt.Sprintf("%d blocked under %s vs %d under atomic", bl, locked, ba)}
	if !lockWaits {
		blocked.why = fmt.Sprintf("runtime/metrics found no lock wait to locate: %.3f ms/s in reload windows vs %.3f steady", lm.Results.MutexWait.Window, lm.Results.MutexWait.Steady)
	}
	c.decide(gc, blocked)
	if lockWaits && bl <= ba {
		c.Interpretation = "a few traced reloads need not catch a lock wait: with one CPU for the target the apply usually holds both the write lock and the CPU, so readers rarely get to block; the cumulative runtime/metrics counter finds the waits where a handful of traces did not"
	}
	return c
}

// cellAgg sums detect cells.
type cellAgg struct {
	trials, missed int
	lat            []float64
}

func pctMissed(a *cellAgg) string {
	if a == nil || a.trials == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(a.missed)/float64(a.trials))
}

// quantile returns the p-quantile of xs (stats.Quantile; NaN for none).
func quantile(xs []float64, p float64) float64 { return stats.Quantile(xs, p) }
