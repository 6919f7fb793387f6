package report

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/ledger"
	"github.com/reloadlab/reloadlab/harness/mdtable"
	"github.com/reloadlab/reloadlab/harness/stats"
)

// floorText renders an A/A noise floor as the ratios it allows.
func floorText(nf compare.NoiseFloor) string {
	if !fin(float64(nf.Log)) {
		return fmt.Sprintf("±%s (absolute)", g(nf.Absolute))
	}
	up, down := stats.FloorPercent(float64(nf.Log))
	return fmt.Sprintf("+%.0f%% / −%.0f%%", up, down)
}

// dipTableMD renders a comparison's pooled dips and their decomposition.
func dipTableMD(run *compare.Run, dc, open *compare.DipComparison) string {
	if dc == nil {
		return "The comparison holds no pooled QPS dip (made by an older lab version).\n\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**QPS dip per reload** (closed model at saturation; every reload of every round pooled; lost throughput per reload ÷ a %.0f ms QPS sample; the 95%% interval adds the variation between runs to that between reloads). A/A: `%s` against its repeat differs by %s pp; **A/A floor ±%s pp** (the half-width of that difference's interval: the smallest difference between two strategies this comparison resolves); the widest single strategy's interval is ±%s pp.\n\n",
		dc.SampleMs, run.Baseline, estString(dc.AADiff), g(float64(dc.AAFloorPP)), g(float64(dc.WidestPP)))
	b.WriteString("| strategy | reloads | lost per reload (ms) | dip (pp) | predicted by the target's CPU accounting (pp; + GC) | vs baseline (pp), Holm p | dip below capacity, open model (pp) |\n|---|---|---|---|---|---|---|\n")
	for _, s := range run.Strategies {
		ds := dc.Strategies[s]
		if ds == nil {
			continue
		}
		vs := "baseline"
		if ds.Verdict != "baseline" {
			vs = fmt.Sprintf("%s, %s", estString(ds.Diff), g(float64(ds.PHolm)))
			if ds.Verdict == "better" || ds.Verdict == "worse" {
				vs += " **" + ds.Verdict + "**"
			} else {
				vs += " ~"
			}
		}
		od := "–"
		if open != nil && open.Strategies[s] != nil {
			od = estString(open.Strategies[s].Reload.DipPP)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s; %s | %s | %s |\n", s, ds.Reload.N, estString(ds.Reload.LostMs), estString(ds.Reload.DipPP),
			g(float64(ds.Reload.PredictedPP)), g(float64(ds.Reload.PredictedWithGCPP)), vs, od)
	}
	b.WriteString("\n**Where a reload's cost goes** (ms of throughput per reload from the interleaved controls — identical rewrites, rejected parses — and, in parentheses, the target's own CPU accounting: per-thread CPU clock per pipeline stage; GC: the runtime's GC CPU in windows minus controls):\n\n")
	b.WriteString(mdtable.Header(mdtable.With("stage", run.Strategies)...))
	names := []string{"notice + read + hash", "parse + validate", "apply / swap", "garbage collection"}
	for i, n := range names {
		cells := []string{n}
		for _, s := range run.Strategies {
			ds := dc.Strategies[s]
			if ds == nil || i >= len(ds.Stages) {
				cells = append(cells, "–")
				continue
			}
			st := ds.Stages[i]
			cells = append(cells, fmt.Sprintf("%s (%s)", estString(st.FromControls), g(float64(st.CPUMs))))
		}
		b.WriteString(mdtable.Row(cells...))
	}
	cells := []string{"whole reload"}
	for _, s := range run.Strategies {
		if ds := dc.Strategies[s]; ds != nil {
			cells = append(cells, fmt.Sprintf("%s (%s)", estString(ds.Reload.LostMs), g(ds.Reload.CPU.Total)))
		} else {
			cells = append(cells, "–")
		}
	}
	b.WriteString(mdtable.Row(cells...))
	b.WriteString("\n")
	return b.String()
}

// loadSections are the sections on the load half's resolution and
// evidence: calibration, load levels, lock blocking, shared CPUs.
func loadSections(in *Inputs) string {
	var b strings.Builder
	b.WriteString(calibrationSection(in))
	b.WriteString(utilizationSection(in))
	b.WriteString(blockingSection(in))
	b.WriteString(sharedSection(in))
	return b.String()
}

func calibrationSection(in *Inputs) string {
	cal := in.Calibrate
	if cal == nil {
		return "\n### 3.1.1 What the QPS-dip estimator resolves\n\nNot run: `make calibrate` writes `results/calibrate`, and `make report` then includes it here.\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n### 3.1.1 What the QPS-dip estimator resolves\n\nCommand: `make calibrate` (`%s`, %s). Sham reloads that spend an exact CPU time in the saturated target (`POST /debug/burn`), levels in shuffled blocks with zero-cost controls, %d shots per level, measured exactly as reloads are. **%s.**\n\n",
		cal.Command, cal.Elapsed, cal.ShotsPerLevel, cal.Verdict)
	b.WriteString("| injected (pp) | measured (pp) [95% CI] | shots | interval excludes 0 |\n|---|---|---|---|\n")
	for _, l := range cal.Levels {
		fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", g(l.InjectedPct), estString(l.MeasuredPP), l.N, yes(l.Excludes0, "yes", "no"))
	}
	res := "none of the injected levels"
	if fin(float64(cal.ResolutionPP)) {
		res = g(float64(cal.ResolutionPP)) + " pp"
	}
	fmt.Fprintf(&b, "\n`aa_floor_pp` = **%s** (half-width of the zero-cost level's interval); `resolution_pp` = **%s** (the smallest injected effect whose interval excludes 0). At this noise ±0.3 pp takes about %.0f shots per level.",
		g(float64(cal.AAFloorPP)), res, float64(cal.ShotsFor03))
	if run := in.Compare; run != nil && len(run.Points) > 0 && run.Points[0].Dip != nil {
		dc := run.Points[0].Dip
		floor := float64(dc.AAFloorPP)
		switch {
		case fin(floor) && floor <= ledger.DipLimitPP:
			fmt.Fprintf(&b, " In `make compare` the pooled A/A floor is ±%s pp: two strategies whose dips differ by 0.3 pp can be told apart.", g(floor))
		case fin(floor):
			fmt.Fprintf(&b, " In `make compare` the pooled A/A floor is ±%s pp, above 0.3 pp: a difference of 0.3 pp between two strategies is not resolved there; each strategy's own interval is at most ±%s pp.", g(floor), g(float64(dc.WidestPP)))
			if base := dc.Strategies[run.Baseline]; base != nil && base.Reload.N > 0 {
				need := float64(base.Reload.N) * (floor / ledger.DipLimitPP) * (floor / ledger.DipLimitPP)
				rounds := need / (float64(base.Reload.N) / float64(run.Repeat))
				fmt.Fprintf(&b, " Reaching ±0.3 pp for a difference would take about %.0f reloads per strategy instead of %d (about %.0f rounds instead of %d, the noise per reload being what it was).", need, base.Reload.N, math.Ceil(rounds), run.Repeat)
			}
		}
	}
	b.WriteString("\n\n")
	if loop := in.CalLoop; loop != nil {
		fmt.Fprintf(&b, "The shams above spin on a locked OS thread until its CPU clock has advanced, as the reload pipeline's own accounting locks its thread. The same calibration with shams that spend their CPU in a calibrated loop, no thread locked (`make calibrate-loop`, `%s`): **%s.**", loop.Command, loop.Verdict)
		var diffs []string
		for _, l := range in.Calibrate.Levels {
			for _, m := range loop.Levels {
				if m.InjectedMs == l.InjectedMs && l.InjectedMs > 0 {
					diffs = append(diffs, fmt.Sprintf("%s pp: %s locked vs %s loop", g(l.InjectedPct), estString(l.MeasuredPP), estString(m.MeasuredPP)))
				}
			}
		}
		if len(diffs) > 0 {
			fmt.Fprintf(&b, " Level by level: %s.", strings.Join(diffs, "; "))
		}
		b.WriteString("\n\n")
	}
	if exists(filepath.Join(in.Root, "calibrate", "calibration.png")) {
		b.WriteString("![calibration](results/calibrate/calibration.png)\n")
	}
	return b.String()
}

func utilizationSection(in *Inputs) string {
	u := in.Sweeps["util"]
	if u == nil {
		return "\n### 3.1.2 Both readings of \"QPS fluctuation\"\n\nNot run: `make utilization` writes `results/compare-sweep-util`, and `make report` then includes it here.\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n### 3.1.2 Both readings of \"QPS fluctuation\"\n\nCommand: `make utilization` (`%s`, %d rounds, %s). Below capacity a fixed offered rate is served whatever a reload costs, so the cost shows as latency; at saturation it shows as lost throughput. Each run measures its capacity in a closed-model phase, then offers the swept share of it in an open-model phase (%s of CPU work per request puts the target's capacity well within the load generator's reach).\n\n",
		u.Command, u.Repeat, u.Elapsed, u.RequestWork)
	b.WriteString("| load |")
	for _, s := range u.Strategies {
		fmt.Fprintf(&b, " %s: dip (pp) | %s: p99 in windows vs controls (ms) |", s, s)
	}
	b.WriteString("\n|---|")
	for range u.Strategies {
		b.WriteString("---|---|")
	}
	b.WriteString("\n")
	for _, pt := range u.Points {
		fmt.Fprintf(&b, "| %s of capacity |", pctString(pt.Value))
		one := &compare.Run{Points: []compare.Point{pt}}
		for _, s := range u.Strategies {
			d := "–"
			if pt.OpenDip != nil && pt.OpenDip.Strategies[s] != nil {
				d = estString(pt.OpenDip.Strategies[s].Reload.DipPP)
			}
			w, st := stat(one, "reload-p99", s), stat(one, "steady-p99", s)
			lat := "–"
			if w != nil && st != nil {
				lat = fmt.Sprintf("%s vs %s", g(w.Median), g(st.Median))
			}
			fmt.Fprintf(&b, " %s | %s |", d, lat)
		}
		b.WriteString("\n")
	}
	b.WriteString("| saturation (closed model) |")
	for _, s := range u.Strategies {
		d := "–"
		if run := in.Compare; run != nil && len(run.Points) > 0 && run.Points[0].Dip != nil && run.Points[0].Dip.Strategies[s] != nil {
			d = estString(run.Points[0].Dip.Strategies[s].Reload.DipPP) + " (`make compare`)"
		}
		fmt.Fprintf(&b, " %s | – |", d)
	}
	b.WriteString("\n\n")
	for _, f := range []string{"sweep-qps-dip.png", "sweep-reload-p99.png"} {
		if exists(filepath.Join(in.Root, "compare-sweep-util", f)) {
			fmt.Fprintf(&b, "![%s](results/compare-sweep-util/%s)\n", f, f)
		}
	}
	return b.String()
}

func blockingSection(in *Inputs) string {
	lp := in.Bench["lockparse"]
	var b strings.Builder
	b.WriteString("\n### 3.1.3 Goroutines that really block: `lockparse`\n\n")
	if lp == nil {
		b.WriteString("Not run: `make bench STRATEGY=lockparse` writes `results/lockparse`.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "`lockparse` is the article's chapter 4.4 `Reload`: the parse and the rebuild inside the global write lock. Command: `%s` (`%s`).\n\n", cmdBench("lockparse"), lp.Made)
	rows := [][2]string{}
	add := func(k, v string) { rows = append(rows, [2]string{k, v}) }
	gs := lp.Goroutines
	add("goroutine profiles that caught a reload (of all taken)", fmt.Sprintf("%d of %d (%d during the parse inside the lock)", gs.DuringReload, gs.Profiles, gs.DuringParse))
	add("share of all goroutines in RWMutex.RLock/Lock or Mutex.Lock, during reloads", pctEstString(gs.ShareDuringReload))
	add("the same, counted over HTTP connection goroutines only", pctEstString(gs.ServingShareDuringReload))
	add("the same, between reloads", pctEstString(gs.ShareSteady))
	add("most goroutines in a lock in one profile", fmt.Sprintf("%d (%.0f%%)", gs.MaxInLock, 100*gs.MaxShare))
	var blocked, covered int
	for _, t := range lp.Results.Traces {
		if t.CoversSpan {
			covered++
			blocked += t.LockBlocked
		}
	}
	add("goroutines blocked on a sync mutex in trace windows", fmt.Sprintf("%d over %d traced reloads", blocked, covered))
	add("lock wait (runtime/metrics), reload windows vs steady", fmt.Sprintf("%s vs %s ms/s", g(lp.Results.MutexWait.Window), g(lp.Results.MutexWait.Steady)))
	add("apply (lock held for the parse) p50", fmt.Sprintf("%s µs", g(lp.Results.Reloads.ApplyUs.P50)))
	if at := in.Bench["atomic"]; at != nil {
		add("atomic, same figures: share in a lock during reloads; lock wait in windows", fmt.Sprintf("%s; %s ms/s", pctEstString(at.Goroutines.ShareDuringReload), g(at.Results.MutexWait.Window)))
	}
	b.WriteString("| | |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], r[1])
	}
	b.WriteString("\n")
	if run := in.Compare; run != nil && len(run.Points) > 0 {
		if st := stat(run, "mutex-wait-window", "lockparse"); st != nil {
			fmt.Fprintf(&b, "In `make compare` lockparse's lock wait in reload windows is %s ms/s (median over rounds) against %s ms/s for atomic.\n\n", ci(st), ci(stat(run, "mutex-wait-window", run.Baseline)))
		}
	}
	if exists(filepath.Join(in.Root, "lockparse", "blocked-goroutines.png")) {
		b.WriteString("![lockparse blocked goroutines](results/lockparse/blocked-goroutines.png)\n")
	}
	return b.String()
}

func sharedSection(in *Inputs) string {
	sh := in.Shared
	var b strings.Builder
	b.WriteString("\n### 3.1.4 The target on both CPUs\n\n")
	if sh == nil {
		b.WriteString("Not run: `make compare-shared` writes `results/compare-shared-cpus`.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "Command: `make compare-shared` (`%s`, %d rounds, %s): the target and the load generator both on CPUs %v, so readers on one CPU can wait on a lock the other CPU's writer holds. **What sharing confounds:** the two processes compete for the same CPUs, so capacity, dip and latency mix the target's costs with the load generator's (a reload's CPU may come out of the load generator's share instead of the requests'), and nothing here is comparable with the pinned runs above.\n\n",
		sh.Command, sh.Repeat, sh.Elapsed, sh.TargetCPUs)
	if len(sh.Points) > 0 {
		b.WriteString(dipTableMD(sh, firstPoint(sh).Dip, firstPoint(sh).OpenDip))
		b.WriteString(mdtable.Header(mdtable.With("metric", sh.Strategies)...))
		for _, m := range []string{"capacity", "reload-p99", "mutex-wait-window", "apply"} {
			var title, unit string
			for _, mi := range sh.Metrics {
				if mi.Name == m {
					title, unit = mi.Title, mi.Unit
				}
			}
			cells := []string{fmt.Sprintf("%s (%s)", title, unit)}
			for _, s := range sh.Strategies {
				st := stat(sh, m, s)
				cell := ci(st)
				if st != nil && (st.Verdict == "better" || st.Verdict == "worse") {
					cell += " **" + st.Verdict + "**"
				}
				cells = append(cells, cell)
			}
			b.WriteString(mdtable.Row(cells...))
		}
		b.WriteString("\n")
	}
	return b.String()
}
