package ledger

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/perf/benchmath"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/fsmount"
	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/harness/viperenv"
)

// micro builds a Micro from benchmark → unit → median.
func micro(vals map[string]map[string]float64) *Micro {
	m := &Micro{Stats: map[string]map[string]benchmath.Summary{}, N: map[string]int{}}
	for n, units := range vals {
		m.Stats[n] = map[string]benchmath.Summary{}
		for u, v := range units {
			m.Stats[n][u] = benchmath.Summary{Center: v}
		}
		m.N[n] = 6
	}
	return m
}

func sec(ns float64) map[string]float64 { return map[string]float64{"sec/op": ns * 1e-9} }

// run builds a compare run whose first point holds the given metric stats.
func run(metrics map[string]map[string]*compare.Stat, dip *compare.DipComparison) *compare.Run {
	pt := compare.Point{Metrics: map[string]*compare.MetricResult{}, Dip: dip}
	for name, by := range metrics {
		pt.Metrics[name] = &compare.MetricResult{Strategies: by}
	}
	return &compare.Run{Baseline: "atomic", Strategies: []string{"atomic", "lockmap"}, Keys: 10000, ReloadEvery: "500ms", Points: []compare.Point{pt}}
}

func st(median float64, verdict string, values ...float64) *compare.Stat {
	if len(values) == 0 {
		values = []float64{median}
	}
	return &compare.Stat{Median: median, Lo: median, Hi: median, Values: values, Verdict: verdict}
}

func est(v, lo, hi float64) stats.Estimate { return stats.Estimate{Value: v, Lo: lo, Hi: hi} }

func dips(by map[string]stats.Estimate) *compare.DipComparison {
	dc := &compare.DipComparison{SampleMs: 1000, Strategies: map[string]*compare.DipStat{}, AAFloorPP: 0.2}
	for s, e := range by {
		dc.Strategies[s] = &compare.DipStat{Reload: analysis.KindCost{N: 50, DipPP: e, LostMs: e.Scale(10), GCMs: stats.NoEstimate()}}
	}
	return dc
}

func empty() *Inputs {
	return &Inputs{Sweeps: map[string]*compare.Run{}, Bench: map[string]*bench.Summary{}, Plans: map[string]*BenchPlan{}, Detect: &detect.Matrix{}}
}

func with(f func(in *Inputs)) *Inputs {
	in := empty()
	f(in)
	return in
}

func benchRun(blocked, stw int, waitWindow, waitSteady float64) *bench.Summary {
	s := &bench.Summary{}
	s.Results.Traces = []analysis.TraceWindow{{CoversSpan: true, LockBlocked: blocked, STWCount: stw}}
	s.Results.MutexWait = analysis.SplitRate{Window: waitWindow, Steady: waitSteady}
	return s
}

func shareRun(share stats.Estimate) *bench.Summary {
	s := &bench.Summary{}
	s.Goroutines.Profiles, s.Goroutines.DuringReload = 20, 10
	s.Goroutines.ShareDuringReload = share
	s.Goroutines.DuringTotal = stats.Num(math.NaN())
	return s
}

func f64(v float64) *float64 { return &v }

// cell builds a detect cell that ran trials trials.
func cell(fs, pattern, col string, trials, missed, torn int, lat ...float64) detect.Cell {
	c := detect.Cell{FS: fs, Pattern: pattern, Column: col, Changes: true, Trials: trials, Missed: missed, Torn: torn, MissedFirst: missed, LatencyMS: lat}
	if len(lat) > 0 {
		c.P99MS = f64(stats.Quantile(lat, 0.99))
	}
	return c
}

func matrix(cells []detect.Cell, rows ...detect.Row) *detect.Matrix {
	m := &detect.Matrix{Cells: cells, Rows: rows, Params: detect.Params{PollIntervalMS: 100}}
	m.Machine.Kernel = "6.18.0"
	for _, f := range []string{fsmount.Disk, fsmount.Tmpfs, fsmount.Overlay, fsmount.FuseRemote} {
		m.FileSystems = append(m.FileSystems, fsmount.Info{Name: f})
	}
	return m
}

func detectIn(m *detect.Matrix) *Inputs { return with(func(in *Inputs) { in.Detect = m }) }

// ledgerCase is one input to one judge and the verdict the rule gives it.
type ledgerCase struct {
	name string
	id   string
	in   *Inputs
	want string
}

func find(t *testing.T, claims []Claim, id string) Claim {
	t.Helper()
	for _, c := range claims {
		if c.ID == id {
			return c
		}
	}
	require.Failf(t, "no such row", "%s", id)
	return Claim{}
}

func perfCases() []ledgerCase {
	capacity := func(a, l float64, verdict string) map[string]map[string]*compare.Stat {
		return map[string]map[string]*compare.Stat{"capacity": {"atomic": st(a, "baseline"), "lockmap": st(l, verdict)}}
	}
	getMicro := func(atomicNs, lockNs float64) *Micro {
		return micro(map[string]map[string]float64{"Get/store=atomic/writer=100ms-2": sec(atomicNs), "Get/store=lockmap/writer=100ms-2": sec(lockNs)})
	}
	apply := func(atomicNs, atomicB, lockNs, lockB float64) *Micro {
		return micro(map[string]map[string]float64{
			"Apply/store=atomic/keys=1k":   {"sec/op": atomicNs * 1e-9, "B/op": atomicB, "allocs/op": 0},
			"Apply/store=lockmap/keys=1k":  {"sec/op": lockNs * 1e-9, "B/op": lockB, "allocs/op": 1},
			"Apply/store=lockmap/keys=10k": {"sec/op": 10 * lockNs * 1e-9, "B/op": lockB, "allocs/op": 1},
		})
	}
	table := func(gl, gs, ga, al, as, aa float64) *Micro {
		return micro(map[string]map[string]float64{
			"Get/store=lockmap/writer=none-2": sec(gl), "Get/store=syncmap/writer=none-2": sec(gs), "Get/store=atomic/writer=none-2": sec(ga),
			"Apply/store=lockmap/keys=10k": sec(al), "Apply/store=syncmap/keys=10k": sec(as), "Apply/store=atomic/keys=10k": sec(aa),
		})
	}
	torn := func(atomicTorn float64) *compare.Run {
		return run(map[string]map[string]*compare.Stat{"torn": {"atomic": st(atomicTorn, "baseline", atomicTorn, 0), "syncmap": st(5, "worse")}}, nil)
	}
	walk := func(w, wd, df float64) *Micro {
		return micro(map[string]map[string]float64{"Walk/way=filepath.Walk-2": sec(w * 1e6), "Walk/way=filepath.WalkDir-2": sec(wd * 1e6), "Walk/way=os.DirFS+fs.WalkDir-2": sec(df * 1e6)})
	}
	configMap := func(pollMissed int, pollLat float64, s1Missed int) *Inputs {
		lat := []float64{pollLat, pollLat, pollLat}
		return detectIn(matrix([]detect.Cell{
			cell(fsmount.Tmpfs, "k8s-configmap", "poll", 10, pollMissed, 0, lat...),
			cell(fsmount.Tmpfs, "k8s-configmap", "fsnotify", 10, s1Missed, 0),
		}))
	}
	return []ledgerCase{
		{"every strategy below 0.3 pp", "P1", with(func(in *Inputs) {
			in.Compare = run(nil, dips(map[string]stats.Estimate{"atomic": est(0.1, 0.05, 0.2), "lockmap": est(0.15, 0.1, 0.25)}))
		}), Confirmed},
		{"every strategy above 0.3 pp", "P1", with(func(in *Inputs) {
			in.Compare = run(nil, dips(map[string]stats.Estimate{"atomic": est(2.8, 2.6, 3), "lockmap": est(3.1, 2.7, 3.5)}))
		}), Refuted},
		{"one below, one above", "P1", with(func(in *Inputs) {
			in.Compare = run(nil, dips(map[string]stats.Estimate{"atomic": est(0.1, 0.05, 0.2), "lockmap": est(3.1, 2.7, 3.5)}))
		}), Depends},
		{"no pooled dip", "P1", with(func(in *Inputs) { in.Compare = run(nil, nil) }), NotReproducible},

		{"both gaps as large as the article's", "P2", with(func(in *Inputs) {
			in.Compare, in.Micro = run(capacity(180000, 10000, "worse"), nil), getMicro(5, 90)
		}), Confirmed},
		{"no gap anywhere", "P2", with(func(in *Inputs) {
			in.Compare, in.Micro = run(capacity(10000, 9900, "no difference"), nil), getMicro(5, 6)
		}), Refuted},
		{"only the bare Get shows it", "P2", with(func(in *Inputs) {
			in.Compare, in.Micro = run(capacity(10000, 9900, "no difference"), nil), getMicro(5, 80)
		}), Depends},
		{"no data", "P2", empty(), NotReproducible},

		{"both switch costs as the article's", "P3", with(func(in *Inputs) { in.Micro = apply(9, 0, 900, 48) }), Confirmed},
		{"only the atomic side", "P3", with(func(in *Inputs) { in.Micro = apply(9, 0, 32000, 0) }), Depends},
		{"neither side", "P3", with(func(in *Inputs) { in.Micro = apply(200, 16, 32000, 0) }), Refuted},
		{"no Apply benchmarks", "P3", empty(), NotReproducible},

		{"the table's order and no torn snapshot", "P4", with(func(in *Inputs) {
			in.Micro, in.Compare = table(100, 3, 5, 400e3, 2.3e6, 8), torn(0)
		}), Confirmed},
		{"every column the other way", "P4", with(func(in *Inputs) {
			in.Micro, in.Compare = table(1, 10, 5, 400e3, 1, 8), torn(3)
		}), Refuted},
		{"reads fastest for the snapshot", "P4", with(func(in *Inputs) {
			in.Micro, in.Compare = table(100, 15, 5, 400e3, 2.3e6, 8), torn(0)
		}), Depends},
		{"no data", "P4", empty(), NotReproducible},

		{"the article's speed-up, from os.DirFS", "P5", with(func(in *Inputs) { in.Micro = walk(42, 30, 18) }), Confirmed},
		{"the speed-up comes from WalkDir", "P5", with(func(in *Inputs) { in.Micro = walk(42, 15, 18) }), Depends},
		{"no speed-up", "P5", with(func(in *Inputs) { in.Micro = walk(10, 9, 12) }), Refuted},
		{"no Walk benchmarks", "P5", empty(), NotReproducible},

		{"traces show GC and the lock", "P6", with(func(in *Inputs) {
			in.Bench["lockparse"], in.Bench["atomic"] = benchRun(20, 3, 500, 0.1), benchRun(0, 3, 0.01, 0.01)
		}), Confirmed},
		{"traces show GC only, though the lock waits", "P6", with(func(in *Inputs) {
			in.Bench["lockparse"], in.Bench["atomic"] = benchRun(0, 3, 500, 0.1), benchRun(0, 3, 0.01, 0.01)
		}), Depends},
		{"traces show neither", "P6", with(func(in *Inputs) {
			in.Bench["lockparse"], in.Bench["atomic"] = benchRun(0, 0, 500, 0.1), benchRun(0, 0, 0.01, 0.01)
		}), Refuted},
		{"no bench runs", "P6", empty(), NotReproducible},

		{"as the article's table", "P7", configMap(0, 120, 2), Confirmed},
		{"polling misses, fast, scheme 1 always fails", "P7", configMap(3, 50, 10), Refuted},
		{"polling never misses, scheme 1 always fails", "P7", configMap(0, 50, 10), Depends},
		{"no ConfigMap cells", "P7", detectIn(matrix(nil)), NotReproducible},

		{"share above 70%", "P8", with(func(in *Inputs) { in.Bench["lockparse"] = shareRun(est(0.85, 0.8, 0.9)) }), Confirmed},
		{"share below 70%", "P8", with(func(in *Inputs) { in.Bench["lockparse"] = shareRun(est(0.32, 0.23, 0.4)) }), Refuted},
		{"share straddles 70%", "P8", with(func(in *Inputs) { in.Bench["lockparse"] = shareRun(est(0.7, 0.6, 0.8)) }), Depends},
		{"no lockparse run", "P8", empty(), NotReproducible},
	}
}

func detectCases() []ledgerCase {
	vimDir := func(missed int) []detect.Cell {
		return []detect.Cell{cell(fsmount.Disk, "vim", "dirwatch", 10, missed, 0), cell(fsmount.Disk, "vim", "fsnotify", 10, 10, 0)}
	}
	s1 := func(pattern string, missed int) *Inputs {
		return detectIn(matrix([]detect.Cell{cell(fsmount.Disk, pattern, "fsnotify", 10, missed, 0)}))
	}
	configMapStart := func(failed int) *Inputs {
		c := cell(fsmount.Tmpfs, "k8s-configmap", "dirwatch", 10, 0, 0)
		c.StartFailed = failed
		return detectIn(matrix([]detect.Cell{c}))
	}
	slow := func(pattern, col string, torn int) *Inputs {
		return detectIn(matrix([]detect.Cell{cell(fsmount.Disk, pattern, col, 10, 0, torn)}))
	}
	poller := func(col string, cells ...[3]float64) *Inputs {
		var cs []detect.Cell
		for i, c := range cells {
			cs = append(cs, cell(fsmount.Disk, []string{"rename", "inplace", "vim"}[i], col, 10, int(c[0]), int(c[1]), c[2]))
		}
		return detectIn(matrix(cs))
	}
	watchLimit := func(applies bool, host int, addErr string) *Inputs {
		m := matrix(nil)
		m.WatchLimit = &detect.WatchLimit{LimitSet: 8, WatchesAdded: 8, LimitApplies: applies, HostMaxUserWatches: host, AddError: addErr, Errno: "ENOSPC"}
		if !applies {
			m.WatchLimit.WatchesAdded = 20
		}
		return detectIn(m)
	}
	overlay := func(diskMissed, overlayMissed int, sameEvents bool) *Inputs {
		ev := map[string]int{"CREATE config.yaml": 10}
		oev := ev
		if !sameEvents {
			oev = map[string]int{"WRITE config.yaml": 10}
		}
		return detectIn(matrix([]detect.Cell{cell(fsmount.Disk, "rename", "dirwatch", 10, diskMissed, 0), cell(fsmount.Overlay, "rename", "dirwatch", 10, overlayMissed, 0)},
			detect.Row{FS: fsmount.Disk, Pattern: "rename", Trials: 10, DirEvents: ev}, detect.Row{FS: fsmount.Overlay, Pattern: "rename", Trials: 10, DirEvents: oev}))
	}
	nfs := func(missed int) *Inputs {
		return detectIn(matrix([]detect.Cell{cell(fsmount.FuseRemote, "rename", "dirwatch", 10, missed, 0)}, detect.Row{FS: fsmount.FuseRemote, Pattern: "rename", Trials: 10, NoEvents: 10}))
	}
	overflow := func(reported bool, noise, limit int) *Inputs {
		m := matrix(nil)
		m.Overflow = &detect.Overflow{MaxQueuedEvents: limit, NoiseEvents: noise, Columns: []detect.OverflowColumn{{Column: "dirwatch", OverflowReported: reported}}}
		return detectIn(m)
	}
	fileEvents := func(ev map[string]int) *Inputs {
		return detectIn(matrix(nil, detect.Row{FS: fsmount.Disk, Pattern: "inplace", Trials: 10, FileEvents: ev}))
	}
	dupes := func(patterns ...string) *Inputs {
		var cs []detect.Cell
		var rows []detect.Row
		for _, p := range patterns {
			c := cell(fsmount.Disk, p, detect.ColViper, 10, 0, 0)
			c.Duplicates = 3
			cs = append(cs, c)
			ev := map[string]int{"WRITE config.yaml": 10}
			if p == "rename" {
				ev = map[string]int{"CREATE config.yaml": 10, "CREATE config.yaml.tmp": 10}
			}
			rows = append(rows, detect.Row{FS: fsmount.Disk, Pattern: p, Trials: 10, DirEvents: ev})
		}
		return detectIn(matrix(cs, rows...))
	}
	configMapEvents := func(ev map[string]int) *Inputs {
		return detectIn(matrix(nil, detect.Row{FS: fsmount.Tmpfs, Pattern: "k8s-configmap", Trials: 10, DirEvents: ev}))
	}
	oldOverlay := func(kernel string, missed int) *Inputs {
		m := matrix([]detect.Cell{cell(fsmount.Overlay, "rename", "dirwatch", 100, missed, 0)})
		m.Machine.Kernel = kernel
		return detectIn(m)
	}
	burst := func(missed int) *Inputs {
		return detectIn(matrix([]detect.Cell{cell(fsmount.Disk, "burst", "dirwatch", 10, 0, 0), cell(fsmount.Disk, "burst", detect.ColKoanf, 10, missed, 0)}))
	}
	loop := func(overflow bool) *Inputs {
		m := matrix(nil)
		m.ArticleLoop = &detect.ArticleLoop{Iterations: 1000, MaxQueuedEvents: 16384, Runs: []detect.ArticleLoopRun{{Name: "stalled", Events: 3000, Overflow: overflow}}}
		return detectIn(m)
	}
	instances := func(applies, perInstance bool) *Inputs {
		m := matrix(nil)
		m.InstanceLimit = &detect.InstanceLimit{LimitSet: 4, InstancesCreated: 4, InitError: "inotify_init1: too many open files", Errno: "EMFILE", LimitApplies: applies,
			Columns: []detect.InstanceLimitColumn{{Column: "poll", Outcome: detect.OutcomeFallbackPolling, Applied: true, LatencyMS: f64(120)}, {Column: "dirwatch", Outcome: detect.OutcomeFailAtStart}}}
		m.WatchLimit = &detect.WatchLimit{LimitSet: 8, WatchesAdded: 8, LimitApplies: true, Columns: []detect.WatchLimitColumn{{Column: "dirwatch", Applied: perInstance}}}
		return detectIn(m)
	}
	none := detectIn(matrix(nil))
	return []ledgerCase{
		{"the save is perceived", "D1", detectIn(matrix(vimDir(0))), Refuted},
		{"no watch perceives a vim save", "D1", detectIn(matrix(vimDir(10))), Confirmed},
		{"no vim cells", "D1", none, NotReproducible},

		{"enforced, 8192, silent", "D2", watchLimit(true, 8192, ""), Confirmed},
		{"enforced, not 8192, an error", "D2", watchLimit(true, 192000, "inotify_add_watch: no space left on device"), Depends},
		{"not enforced, not 8192, an error", "D2", watchLimit(false, 192000, "inotify_add_watch: no space left on device"), Refuted},
		{"experiment did not run", "D2", none, NotReproducible},

		{"scheme 1 catches renames", "D3", s1("rename", 0), Confirmed},
		{"scheme 1 misses renames", "D3", s1("rename", 10), Refuted},
		{"no rename cells", "D3", none, NotReproducible},

		{"no watch registers", "D4", configMapStart(10), Confirmed},
		{"watches register", "D4", configMapStart(0), Refuted},
		{"no ConfigMap cells", "D4", none, NotReproducible},

		{"scheme 1 never misses", "D5", s1("delete-create", 0), Confirmed},
		{"scheme 1 misses", "D5", s1("delete-create", 4), Refuted},
		{"scheme 1 did not run", "D5", none, NotReproducible},

		{"no torn file", "D6", slow("inplace-slow", "fsnotify", 0), Confirmed},
		{"a torn file", "D6", slow("inplace-slow", "fsnotify", 2), Refuted},
		{"inplace-slow did not run", "D6", none, NotReproducible},

		{"poll fine everywhere", "D7", poller("poll", [3]float64{0, 0, 120}, [3]float64{0, 0, 130}), Confirmed},
		{"poll fails in one cell", "D7", poller("poll", [3]float64{0, 0, 120}, [3]float64{3, 0, 130}), Depends},
		{"poll fails everywhere", "D7", poller("poll", [3]float64{0, 0, 900}, [3]float64{3, 0, 130}), Refuted},
		{"poll did not run", "D7", none, NotReproducible},

		{"pollhash fine everywhere", "D8", poller("pollhash", [3]float64{0, 0, 120}, [3]float64{0, 0, 130}), Confirmed},
		{"pollhash slow in one cell", "D8", poller("pollhash", [3]float64{0, 0, 250}, [3]float64{0, 0, 130}), Depends},
		{"pollhash fails everywhere", "D8", poller("pollhash", [3]float64{0, 0, 250}, [3]float64{0, 2, 130}), Refuted},
		{"pollhash did not run", "D8", none, NotReproducible},

		{"signal never fails", "D9", poller("signal", [3]float64{0, 0, 1}, [3]float64{0, 0, 1}), Confirmed},
		{"signal fails once", "D9", poller("signal", [3]float64{0, 0, 1}, [3]float64{1, 0, 1}), Depends},
		{"signal fails everywhere", "D9", poller("signal", [3]float64{0, 1, 1}, [3]float64{1, 0, 1}), Refuted},
		{"signal did not run", "D9", none, NotReproducible},
		{"signal fails only where no watcher can follow", "D9", func() *Inputs {
			m := matrix([]detect.Cell{cell(fsmount.Disk, "rename", "signal", 10, 0, 0, 1), cell(fsmount.Disk, "bindmount-file-rename", "signal", 10, 10, 0)})
			m.Patterns = []detect.PatternInfo{{Name: "rename"}, {Name: "bindmount-file-rename", CannotFollow: "the mount pins the old inode"}}
			return detectIn(m)
		}(), Confirmed},

		{"overlay as disk", "D10", overlay(0, 0, true), Refuted},
		{"overlay loses events", "D10", overlay(0, 5, false), Confirmed},
		{"overlay misses more with the same events", "D10", overlay(0, 5, true), Depends},
		{"overlay did not run", "D10", detectIn(&detect.Matrix{}), NotReproducible},

		{"nothing caught on NFS", "D11", nfs(10), Confirmed},
		{"a change caught on NFS", "D11", nfs(0), Depends},
		{"fuse-remote did not run", "D11", none, NotReproducible},

		{"overflow, silent", "D12", overflow(false, 20000, 16384), Confirmed},
		{"overflow, reported", "D12", overflow(true, 20000, 16384), Depends},
		{"no overflow and nobody told", "D12", overflow(false, 100, 16384), Depends},
		{"experiment did not run", "D12", none, NotReproducible},

		{"only create and delete-self events", "D13", fileEvents(map[string]int{"CREATE config.yaml": 10}), Confirmed},
		{"write events", "D13", fileEvents(map[string]int{"WRITE config.yaml": 10}), Refuted},
		{"no file witness", "D13", none, NotReproducible},

		{"duplicates only with a create", "D14", dupes("rename"), Confirmed},
		{"duplicates only from writes", "D14", dupes("inplace"), Refuted},
		{"duplicates from both", "D14", dupes("rename", "inplace"), Depends},
		{"no duplicates", "D14", none, NotReproducible},

		{"a move-in on the config", "D15", configMapEvents(map[string]int{"CREATE config.yaml": 10}), Confirmed},
		{"a move-in on ..data only", "D15", configMapEvents(map[string]int{"CREATE ..data": 10, "REMOVE ..2026": 10}), Depends},
		{"no move-in", "D15", configMapEvents(map[string]int{"WRITE ..data": 10}), Refuted},
		{"k8s-configmap did not run", "D15", none, NotReproducible},

		{"kernel 4.18, 17% missed", "D16", oldOverlay("4.18.0-372", 17), Confirmed},
		{"kernel 4.18, nothing missed", "D16", oldOverlay("4.18.0-372", 0), Refuted},
		{"a current kernel", "D16", oldOverlay("6.18.0", 17), NotReproducible},

		{"nothing lost in bursts", "D17", burst(0), Refuted},
		{"a consumer loses the last write", "D17", burst(3), Depends},
		{"burst did not run", "D17", none, NotReproducible},

		{"the loop overflows", "D18", loop(true), Confirmed},
		{"the loop does not overflow", "D18", loop(false), Refuted},
		{"experiment did not run", "D18", none, NotReproducible},

		{"capped instances, per-instance watches", "D19", instances(true, true), Confirmed},
		{"capped instances, per-user watches", "D19", instances(true, false), Depends},
		{"neither", "D19", instances(false, false), Refuted},
		{"experiment did not run", "D19", none, NotReproducible},
	}
}

func envCases() []ledgerCase {
	viper := func(sources ...string) *Inputs {
		return with(func(in *Inputs) {
			in.ViperEnv = &viperenv.Result{ViperVersion: "v1.21.0"}
			for i, s := range sources {
				got := map[string]string{viperenv.SourceFile: "3000", viperenv.SourceEnv: "5000"}[s]
				in.ViperEnv.Cases = append(in.ViperEnv.Cases, viperenv.Case{Name: []string{"article-order", "setenv-after-get"}[i], FileValue: "3000", EnvValue: "5000",
					Got: got, Source: s, ArticleExpects: viperenv.SourceFile})
			}
		})
	}
	return []ledgerCase{
		{"viper returns the file's value", "E1", viper(viperenv.SourceFile, viperenv.SourceFile), Confirmed},
		{"viper returns the environment's", "E1", viper(viperenv.SourceEnv, viperenv.SourceEnv), Refuted},
		{"one order each", "E1", viper(viperenv.SourceFile, viperenv.SourceEnv), Depends},
		{"no results", "E1", empty(), NotReproducible},
	}
}

// TestJudges drives every judge through each of its branches, missing data
// included.
func TestJudges(t *testing.T) {
	cases := append(append(append(perfCases(), detectCases()...), envCases()...), fleetCases()...)
	for _, tc := range cases {
		t.Run(tc.id+"/"+tc.name, func(t *testing.T) {
			c := find(t, Claims(tc.in), tc.id)
			assert.Equal(t, tc.want, c.Verdict, "because: %s\nmeasured: %s", c.Because, c.Measured)
			if tc.want == Depends || tc.want == NotReproducible {
				assert.NotEmpty(t, c.Because, "a %s verdict says why", tc.want)
			}
		})
	}
}

// TestEveryRowsVerdictFollowsItsData checks, for every ledger row, that
// the table above holds inputs giving it at least two different verdicts,
// one of them for missing data: no row reads the same whatever the data.
func TestEveryRowsVerdictFollowsItsData(t *testing.T) {
	cases := append(append(append(perfCases(), detectCases()...), envCases()...), fleetCases()...)
	verdicts := map[string]map[string]bool{}
	for _, tc := range cases {
		if verdicts[tc.id] == nil {
			verdicts[tc.id] = map[string]bool{}
		}
		verdicts[tc.id][tc.want] = true
	}
	for _, c := range Claims(empty()) {
		seen := verdicts[c.ID]
		assert.GreaterOrEqual(t, len(seen), 3, "%s: the table must reach at least three verdicts (missing data and two from data)", c.ID)
		assert.True(t, seen[NotReproducible], "%s: missing data must be tested", c.ID)
	}
}

// TestRowsAreComplete checks the shape every row has, on empty and on
// nil inputs: a rule, a verdict from the vocabulary, and no panic.
func TestRowsAreComplete(t *testing.T) {
	for _, in := range []*Inputs{empty(), {Detect: nil}} {
		claims := Claims(in)
		require.NotEmpty(t, claims)
		ids := map[string]bool{}
		for _, c := range claims {
			assert.False(t, ids[c.ID], "duplicate row %s", c.ID)
			ids[c.ID] = true
			assert.NotEmpty(t, c.Rule, "%s has no rule", c.ID)
			assert.Contains(t, Verdicts(), c.Verdict, c.ID)
			assert.Equal(t, NotReproducible, c.Verdict, "%s on empty inputs", c.ID)
			assert.NotEmpty(t, c.Because, c.ID)
		}
	}
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parts []part
		want  string
	}{
		{"all hold", []part{{what: "a", known: true, holds: true}, {what: "b", known: true, holds: true}}, Confirmed},
		{"none holds", []part{{what: "a", known: true}, {what: "b", known: true}}, Refuted},
		{"one each", []part{{what: "a", known: true, holds: true}, {what: "b", known: true}}, Depends},
		{"unknown parts do not count", []part{{what: "a", known: true, holds: true}, {what: "b"}}, Confirmed},
		{"nothing known", []part{{what: "a"}}, NotReproducible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Claim
			c.decide(tc.parts...)
			assert.Equal(t, tc.want, c.Verdict)
			assert.NotEmpty(t, c.Because)
		})
	}
}

func TestWilson(t *testing.T) {
	lo, hi := wilson(17, 100)
	assert.InDelta(t, 0.109, lo, 0.002)
	assert.InDelta(t, 0.255, hi, 0.002)
	lo, hi = wilson(0, 10)
	assert.Equal(t, 0.0, lo)
	assert.InDelta(t, 0.278, hi, 0.002)
	lo, _ = wilson(0, 0)
	assert.True(t, math.IsNaN(lo))
}

func TestCompressCells(t *testing.T) {
	got := compressCells([]string{"disk/a/x", "disk/b/x", "tmpfs/a/x", "disk/a/y", "overflow/koanf", "disk/a/x"})
	assert.Equal(t, []string{"disk/{a,b}/x", "tmpfs/a/x", "disk/a/y", "overflow/koanf"}, got)
}
