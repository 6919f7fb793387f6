package plots

import (
	"bytes"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"

	"github.com/reloadlab/reloadlab/harness/stats"
)

// The lab's typical run: 60 s, two phases with a short pause between them,
// a reload every 0.5 s.
func labTimeline(title string) Timeline {
	tl := Timeline{Title: title, Phases: []Phase{{"throughput (closed model)", 0, 29.5}, {"latency (open model, 3000 req/s)", 30.5, 60}}}
	for x := 0.25; x < 60; x += 0.5 {
		tl.Reloads = append(tl.Reloads, x)
	}
	return tl
}

func inPhase(x float64) bool { return x < 29.5 || x >= 30.5 }

// sinceReload returns the seconds since the latest reload at or before x.
func sinceReload(x float64) float64 {
	r := math.Floor((x-0.25)/0.5)*0.5 + 0.25
	if r > x {
		return math.Inf(1)
	}
	return x - r
}

// latencies is n requests over 60 s: log-normal around 1 ms, ten times
// slower in the 20 ms after a reload, and rare 50 ms outliers.
func latencies(n int) []XY {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]XY, 0, n)
	for i := range n {
		x := float64(i) * 60 / float64(n)
		if !inPhase(x) {
			continue
		}
		ms := math.Exp(rng.NormFloat64()*0.35) * 0.9
		if sinceReload(x) < 0.02 {
			ms *= 10
		}
		if rng.IntN(5000) == 0 {
			ms = 50 + rng.Float64()*30
		}
		out = append(out, XY{x, ms})
	}
	return out
}

// percentiles bins requests by 250 ms and returns the p50 and p99 lines.
func percentiles(req []XY) (p50, p99 []XY) {
	bins := map[int][]float64{}
	for _, r := range req {
		b := int(r.X / 0.25)
		bins[b] = append(bins[b], r.Y)
	}
	for b := 0; b < 240; b++ {
		v := bins[b]
		if len(v) == 0 {
			continue
		}
		slices.Sort(v)
		x := float64(b)*0.25 + 0.125
		p50 = append(p50, XY{x, stats.QuantileSorted(v, 0.5)})
		p99 = append(p99, XY{x, stats.QuantileSorted(v, 0.99)})
	}
	return p50, p99
}

func throughputBins() []XY {
	rng := rand.New(rand.NewPCG(3, 4))
	var out []XY
	for i := range 600 {
		x := float64(i)/10 + 0.05
		if !inPhase(x) {
			continue
		}
		v := 21000 + rng.NormFloat64()*600
		if x >= 30.5 {
			v = 3000 + rng.NormFloat64()*40
		}
		if sinceReload(x) < 0.1 {
			v *= 0.7
		}
		out = append(out, XY{x, v})
	}
	return out
}

func gcPauses() []XY {
	rng := rand.New(rand.NewPCG(5, 6))
	var out []XY
	for x := 0.1; x < 60; x += 0.3 + rng.Float64()*0.2 {
		us := 40 + rng.ExpFloat64()*80
		if rng.IntN(40) == 0 {
			us = 3000 + rng.Float64()*4000
		}
		out = append(out, XY{x, us})
	}
	return out
}

func waiting(step float64, scale float64) []XY {
	rng := rand.New(rand.NewPCG(7, 8))
	var out []XY
	for x := 0.0; x < 60; x += step {
		if !inPhase(x) {
			continue
		}
		v := math.Round(scale * (3 + rng.Float64()*4))
		if sinceReload(x) < 0.03 {
			v += math.Round(scale * 40 * rng.Float64())
		}
		out = append(out, XY{x, v})
	}
	return out
}

// figureCase is one call of a figure function.
type figureCase struct {
	name   string
	height int // expected PNG height; 0: the default 600
	// twice renders the figure a second time to check the bytes are the
	// same; set on the realistic cases and a few edge cases only, as
	// rendering under the race detector is slow.
	twice  bool
	render func(path string) error
}

// figures lists one realistic call per figure, then the edge cases.
func figures() []figureCase {
	req := latencies(200_000)
	p50, p99 := percentiles(req)
	bins := throughputBins()
	var rows []Row
	for i, s := range []string{"lockmap", "syncmap", "atomic", "robust"} {
		tl := labTimeline("")
		scaled := make([]XY, len(bins))
		for j, b := range bins {
			scaled[j] = XY{b.X, b.Y * (0.8 + 0.1*float64(i))}
		}
		rows = append(rows, Row{Name: s, Throughput: scaled, LockWait: waiting(0.01, 3-float64(i)*0.6), Reloads: tl.Reloads})
	}
	nan, inf := math.NaN(), math.Inf(1)
	return []figureCase{
		{"latency", 0, true, func(p string) error {
			return Latency(p, labTimeline("atomic — request latency (reloads marked)"), req, p50, p99)
		}},
		{"latency-500k", 0, false, func(p string) error {
			return Latency(p, labTimeline("500k requests"), latencies(500_000), nil, nil)
		}},
		{"latency-empty", 0, false, func(p string) error { return Latency(p, Timeline{}, nil, nil, nil) }},
		{"latency-single", 0, false, func(p string) error { return Latency(p, Timeline{Title: "one request"}, []XY{{1, 2}}, nil, nil) }},
		{"latency-zeros-nan", 0, false, func(p string) error {
			return Latency(p, labTimeline("zeros, negatives, NaN"), []XY{{1, 0}, {2, -1}, {3, nan}, {inf, 1}, {4, 1}, {5, 3}}, []XY{{1, 0}}, nil)
		}},
		{"latency-all-zero", 0, false, func(p string) error {
			return Latency(p, Timeline{Title: "all zero"}, []XY{{1, 0}, {2, 0}}, nil, nil)
		}},
		{"throughput", 0, true, func(p string) error {
			return Throughput(p, labTimeline("atomic — completed requests per 100 ms bin"), bins)
		}},
		{"throughput-empty", 0, false, func(p string) error { return Throughput(p, Timeline{}, nil) }},
		{"throughput-single", 0, false, func(p string) error { return Throughput(p, labTimeline("one bin"), []XY{{1, 5}}) }},
		{"throughput-nan", 0, false, func(p string) error {
			return Throughput(p, Timeline{Title: "NaN"}, []XY{{nan, 1}, {1, nan}, {2, 3}, {3, 4}})
		}},
		{"gc-pauses", 0, true, func(p string) error {
			return GCPauses(p, labTimeline("atomic — GC stop-the-world pauses"), gcPauses())
		}},
		{"gc-pauses-narrow", 0, false, func(p string) error {
			return GCPauses(p, Timeline{Title: "narrow"}, []XY{{1, 100}, {2, 150}, {3, 0}, {4, 120}})
		}},
		{"gc-pauses-zeros", 0, false, func(p string) error {
			return GCPauses(p, Timeline{Title: "zeros on a log axis"}, []XY{{1, 0}, {2, 10}, {3, 5000}, {4, -3}})
		}},
		{"gc-pauses-empty", 0, false, func(p string) error { return GCPauses(p, labTimeline(""), nil) }},
		{"blocked", 0, true, func(p string) error {
			return Blocked(p, labTimeline("atomic — waiting goroutines"),
				Series{Name: "/sched/goroutines/waiting (10 ms)", Points: waiting(0.01, 1)}, Series{Name: "lock-blocked (traces)", Points: waiting(0.1, 0.5)})
		}},
		{"blocked-many", 0, false, func(p string) error {
			var ss []Series
			for i := range 12 {
				ss = append(ss, Series{Name: "goroutines blocked in lock number " + strconv.Itoa(i), Points: waiting(0.5, float64(i+1))})
			}
			return Blocked(p, Timeline{Title: strings.Repeat("a very long title that has to wrap onto a second line ", 3), XLabel: "seconds since the A/A pair began (s)"}, ss...)
		}},
		{"blocked-none", 0, false, func(p string) error { return Blocked(p, labTimeline("no series")) }},
		{"blocked-empty-series", 0, false, func(p string) error {
			return Blocked(p, Timeline{}, Series{Name: "waiting"}, Series{Name: "one", Points: []XY{{2, 7}}})
		}},
		{"stacked", 0, true, func(p string) error {
			return Stacked(p, labTimeline("lockparse — goroutines blocked on locks"), []Panel{
				{Title: "lock wait", YLabel: "ms/s", Series: []Series{{Name: "lock wait (ms per s)", Points: waiting(0.1, 0.2)}}},
				{Title: "goroutines", YLabel: "goroutines", Series: []Series{
					{Name: "in a lock (goroutine profiles)", Points: waiting(0.5, 0.5), Dots: true},
					{Name: "all waiting (idle connections included)", Points: waiting(0.01, 1)}}},
			})
		}},
		{"stacked-empty", 0, false, func(p string) error {
			return Stacked(p, Timeline{}, []Panel{{Title: "nothing"}, {Title: "still nothing", Series: []Series{{Name: "x"}}}})
		}},
		{"stacked-none", 0, false, func(p string) error { return Stacked(p, labTimeline("no panels"), nil) }},
		{"calibration", 0, true, func(p string) error {
			return Calibration(p, "Calibration", "injected (pp)", "measured (pp)", []CalPoint{
				{X: 0, Y: 0.02, Lo: -0.2, Hi: 0.24}, {X: 0.1, Y: 0.15, Lo: -0.08, Hi: 0.37}, {X: 0.3, Y: 0.28, Lo: 0.05, Hi: 0.5},
				{X: 1, Y: 1.05, Lo: 0.8, Hi: 1.3}, {X: 3, Y: 2.9, Lo: 2.6, Hi: 3.2}, {X: 10, Y: 10.3, Lo: 9.9, Hi: 10.7}, {X: nan, Y: 1}},
				0.22, &FitLine{Slope: 1.02, Intercept: 0.01, Label: "fit"})
		}},
		{"calibration-empty", 0, false, func(p string) error { return Calibration(p, "", "", "", nil, nan, nil) }},
		{"bars", 0, true, func(p string) error {
			return Bars(p, "Capacity (closed model): median of 5 rounds", "req/s", []Bar{
				{"lockmap", 18200, 17600, 18900}, {"syncmap", 19900, 19000, 20500}, {"atomic", 21400, 20800, 22000},
				{"polling", 21100, 20500, 21900}, {"robust", 21000, nan, nan}, {"signal", nan, nan, nan}})
		}},
		{"bars-negative", 0, false, func(p string) error {
			return Bars(p, "Δ vs A/A", "% change", []Bar{{"a", -3, -5, -1}, {"b", 2, 1, 4}, {"c", 0, 0, 0}}, XLabel("strategy vs lockmap"))
		}},
		{"bars-empty", 0, false, func(p string) error { return Bars(p, "", "", nil) }},
		{"small-multiples", 200 * 4, true, func(p string) error {
			return SmallMultiples(p, "Every strategy, last round: completed req/s and waiting goroutines (reloads marked)", rows)
		}},
		{"small-multiples-one", 0, false, func(p string) error { return SmallMultiples(p, "one row", rows[:1]) }},
		{"small-multiples-empty", 0, false, func(p string) error { return SmallMultiples(p, "", nil) }},
		{"small-multiples-empty-rows", 0, false, func(p string) error {
			return SmallMultiples(p, "rows without data", []Row{{Name: "a"}, {Name: "b", Throughput: []XY{{1, nan}}}})
		}},
		{"lines", 0, true, func(p string) error {
			return Lines(p, "Apply duration vs number of keys (median of 10)", "keys in the config", "apply (µs)", []Series{
				{Name: "lockmap", Points: []XY{{1000, 60}, {10000, 700}, {100000, 11000}}},
				{Name: "lockswap", Points: []XY{{10000, 0.9}, {1000, 0.8}, {100000, 1.1}}},
				{Name: "syncmap", Points: []XY{{1000, 90}, {10000, 1000}, {100000, 16000}}},
				{Name: "atomic", Points: []XY{{1000, 0.5}, {10000, 0.6}, {100000, 0.6}}},
				{Name: "bad", Points: []XY{{0, 1}, {-5, 2}}},
			}, true)
		}},
		{"lines-linear", 0, false, func(p string) error {
			return Lines(p, "linear", "writers", "torn requests (count)", []Series{{Name: "a", Points: []XY{{1, 0}, {2, 3}, {4, 9}}}}, false)
		}},
		{"lines-empty", 0, false, func(p string) error { return Lines(p, "", "", "", nil, true) }},
		{"lines-single", 0, false, func(p string) error {
			return Lines(p, "one", "keys", "µs", []Series{{Name: "a", Points: []XY{{1000, 5}}}}, true)
		}},
		{"distribution", 0, true, func(p string) error {
			rng := rand.New(rand.NewPCG(9, 10))
			gen := func(n int, f func() float64) []float64 {
				out := make([]float64, n)
				for i := range out {
					out[i] = f()
				}
				return out
			}
			return Distribution(p, "Detection latency: last write finished → last version served", "detection latency (ms)", []Group{
				{"fsnotify\n38/40", gen(38, func() float64 { return 100 + rng.Float64()*15 })},
				{"dirwatch\n40/40", gen(40, func() float64 { return 102 + rng.ExpFloat64()*10 })},
				{"poll\n40/40", gen(40, func() float64 { return rng.Float64() * 1000 })},
				{"pollhash\n40/40", gen(40, func() float64 { return 10 + rng.Float64()*1000 })},
				{"signal\n0/40", nil},
				{"robust\n400/400", gen(400, func() float64 { return 0.5 + rng.ExpFloat64()*3 })},
			}, XLabel("trigger (detected/changes)"))
		}},
		{"distribution-linear", 0, false, func(p string) error {
			return Distribution(p, "linear", "ms", []Group{{"a", []float64{1, 2, 3, 4, 5}}, {"b", []float64{7}}, {"c", []float64{nan, 3, 3}}})
		}},
		{"distribution-zeros", 0, false, func(p string) error {
			return Distribution(p, "zeros on a log axis", "ms", []Group{{"a", []float64{0, 0.01, 5}}, {"b", []float64{-1, 100}}})
		}},
		{"distribution-empty", 0, false, func(p string) error { return Distribution(p, "", "", nil) }},
		{"distribution-no-values", 0, false, func(p string) error {
			return Distribution(p, "groups without values", "ms", []Group{{"a", nil}, {"b", []float64{nan}}})
		}},
	}
}

func TestFigures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	demo := os.Getenv("PLOTS_DEMO_DIR")
	for _, tt := range figures() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tt.name+".png")
			require.NoError(t, tt.render(path))
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			cfg, err := png.DecodeConfig(bytes.NewReader(data))
			require.NoError(t, err)
			want := tt.height
			if want == 0 {
				want = 600
			}
			assert.Equal(t, 1000, cfg.Width)
			if tt.name == "small-multiples" {
				assert.GreaterOrEqual(t, cfg.Height, want, "200 px per row plus the header")
				assert.Less(t, cfg.Height, want+150)
			} else {
				assert.Equal(t, want, cfg.Height)
			}
			assert.Less(t, len(data), 1<<20, "a figure stays under 1 MB")
			_, err = os.Stat(path + ".tmp")
			assert.True(t, os.IsNotExist(err), "no temporary file is left behind")

			if tt.twice {
				again := filepath.Join(dir, tt.name+"-again.png")
				require.NoError(t, tt.render(again))
				data2, err := os.ReadFile(again)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(data, data2), "the same input renders the same bytes")
			}

			if demo != "" { // PLOTS_DEMO_DIR=/tmp/plots-demo: keep the figures to look at
				out := demo
				if !tt.twice {
					out = filepath.Join(demo, "edge-cases")
				}
				require.NoError(t, os.MkdirAll(out, 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(out, tt.name+".png"), data, 0o644))
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "x.png")
	for name, err := range map[string]error{
		"latency":      Latency(missing, Timeline{}, nil, nil, nil),
		"bars":         Bars(missing, "t", "u", nil),
		"multiples":    SmallMultiples(missing, "t", []Row{{Name: "a"}}),
		"empty path":   Throughput("", Timeline{}, nil),
		"distribution": Distribution(missing, "t", "ms", nil),
	} {
		require.Error(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), "plots: "), "%s: %v", name, err)
	}
}

func TestRenderReplacesFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.png")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, Throughput(path, Timeline{}, []XY{{0, 1}, {1, 2}}))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = png.DecodeConfig(bytes.NewReader(data))
	require.NoError(t, err)
}

func TestMinMaxKeepsExtremes(t *testing.T) {
	t.Parallel()
	pts := make([]XY, 100_001)
	for i := range pts {
		pts[i] = XY{float64(i), 10}
	}
	pts[31_337].Y = 1000 // a spike
	pts[77_777].Y = -5   // a dip
	out := minMax(pts, 1000)
	assert.LessOrEqual(t, len(out), 1000)
	assert.Contains(t, out, pts[31_337])
	assert.Contains(t, out, pts[77_777])
	assert.True(t, slices.IsSortedFunc(out, cmpX), "order is kept")
	assert.Equal(t, pts[:10], minMax(pts[:10], 1000), "small inputs pass through")
}

func TestSampleKeepsSlowest(t *testing.T) {
	t.Parallel()
	pts := make([]XY, 500_000)
	for i := range pts {
		pts[i] = XY{float64(i), 1}
	}
	for _, i := range []int{5, 123_457, 499_999} {
		pts[i].Y = 80
	}
	out, k := sample(pts, 6000)
	assert.LessOrEqual(t, len(out), 6000+2)
	assert.Greater(t, k, 1)
	for _, i := range []int{5, 123_457, 499_999} {
		assert.Contains(t, out, pts[i])
	}
	same, k := sample(pts[:100], 6000)
	assert.Equal(t, 1, k)
	assert.Len(t, same, 100)
}

func TestClean(t *testing.T) {
	t.Parallel()
	var d drops
	in := []XY{{3, 1}, {1, math.NaN()}, {math.Inf(-1), 2}, {2, 0}, {1, 5}}
	out := clean(in, &d)
	assert.Equal(t, []XY{{1, 5}, {2, 0}, {3, 1}}, out)
	assert.Equal(t, XY{3, 1}, in[0], "the input is not modified")
	out = positiveY(out, &d)
	assert.Equal(t, []XY{{1, 5}, {3, 1}}, out)
	assert.Equal(t, []string{"note: 2 NaN/Inf values dropped; 1 value ≤ 0 dropped (log y axis)"}, d.notes())
}

func TestSegmentsSplitAtGaps(t *testing.T) {
	t.Parallel()
	var pts []XY
	for x := 0.0; x < 10; x += 0.1 {
		pts = append(pts, XY{x, 1})
	}
	for x := 20.0; x < 30; x += 0.1 {
		pts = append(pts, XY{x, 1})
	}
	segs := segments(pts)
	require.Len(t, segs, 2)
	assert.Len(t, segments(pts[:1]), 1)
	assert.Empty(t, segments(nil))
}

func TestTicks(t *testing.T) {
	t.Parallel()
	labels := func(ticks []plot.Tick) []string {
		var out []string
		for _, t := range ticks {
			if t.Label != "" {
				out = append(out, t.Label)
			}
		}
		return out
	}
	lin := func(lo, hi float64) []string { return labels(linearTicks{}.Ticks(lo, hi)) }
	log := func(lo, hi float64) []string { return labels(logTicks{}.Ticks(lo, hi)) }
	assert.Equal(t, []string{"0", "10", "20", "30", "40", "50", "60"}, lin(0, 60))
	assert.Equal(t, []string{"0.00", "0.05", "0.10", "0.15", "0.20", "0.25", "0.30"}, lin(0, 0.3))
	assert.Equal(t, []string{"0", "25", "50", "75", "100", "125"}, lin(0, 140))
	assert.Equal(t, []string{"-2", "0", "2", "4", "6", "8"}, lin(-3, 8))
	assert.Equal(t, []string{"0.0", "2.5", "5.0", "7.5", "10.0", "12.5"}, lin(0, 14))
	assert.Equal(t, []string{"0", "5000", "10000", "15000", "20000", "25000"}, lin(0, 25000))
	assert.Equal(t, []string{"0.01", "0.1", "1", "10", "100"}, log(0.01, 100))
	assert.Equal(t, []string{"1", "2", "5", "10", "20", "50", "100"}, log(1, 100))
	assert.Equal(t, []string{"1000", "2000", "5000", "10000", "20000", "50000", "100000"}, log(1000, 100000))
	assert.Equal(t, []string{"0.001", "0.01", "0.1", "1", "10", "100", "1000", "10000", "100000", "1e6"}, log(0.001, 1e6), "wide: decades only")
	assert.Empty(t, lin(1, 1))
	assert.Empty(t, log(0, 10))
}

func TestFormat(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{0: "0", 1e-5: "1e-5", 0.001: "0.001", 12345: "12345", 1e6: "1e6", 2.5e7: "2.5e7"} {
		assert.Equal(t, want, formatNum(v), "%v", v)
	}
	for v, want := range map[float64]string{12345: "12345", 123.4: "123", 12.34: "12.3", 0.01234: "0.0123", -1.5: "-1.5", 2: "2", -3: "-3", 0.5: "0.5", 0: "0"} {
		assert.Equal(t, want, formatSig(v), "%v", v)
	}
}

func TestSetLogRange(t *testing.T) {
	t.Parallel()
	p := newPlot("", "")
	setLog(&p.Y, span{lo: 0.3, hi: 45, ok: true})
	assert.Equal(t, 0.1, p.Y.Min)
	assert.Equal(t, 100.0, p.Y.Max)
	setLog(&p.Y, span{lo: 100, hi: 100, ok: true})
	assert.Equal(t, 10.0, p.Y.Min)
	assert.Equal(t, 1000.0, p.Y.Max)
	setLog(&p.Y, span{})
	assert.Equal(t, 1.0, p.Y.Min)
	assert.Equal(t, 10.0, p.Y.Max)
}
