package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

const ms = int64(time.Millisecond)

// testGeometry is the geometry the tests' numbers are worked out for.
var testGeometry = Geometry{Lead: 20 * time.Millisecond, Tail: 100 * time.Millisecond}

func TestWindowsMergeAndContain(t *testing.T) {
	t.Parallel()
	w := NewWindows([]int64{1000 * ms, 1300 * ms, 3000 * ms}, 100*time.Millisecond, 400*time.Millisecond)
	require.Equal(t, Windows{{900 * ms, 1700 * ms}, {2900 * ms, 3400 * ms}}, w)
	tests := []struct {
		at   int64
		want bool
	}{{899 * ms, false}, {900 * ms, true}, {1699 * ms, true}, {1700 * ms, false}, {3000 * ms, true}, {5000 * ms, false}}
	for _, tt := range tests {
		assert.Equal(t, tt.want, w.Contains(tt.at), "t=%dms", tt.at/ms)
	}
	assert.Equal(t, 1300*time.Millisecond, w.Within(Span{0, 10000 * ms}))
	assert.Equal(t, 1300*time.Millisecond, w.Total())
	assert.Equal(t, 300*time.Millisecond, w.Within(Span{1500 * ms, 3000 * ms}), "200 ms of the first window, 100 ms of the second")
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = float64(1000 - i) // 1..1000, unsorted
	}
	q := Summarize(xs, 1)
	assert.Equal(t, 1000, q.N)
	assert.InDelta(t, 500.5, q.P50, 1e-9, "type-7 median of an even count")
	assert.InDelta(t, 990.01, q.P99, 1e-9)
	assert.InDelta(t, 999.001, q.P999, 1e-9)
	assert.Equal(t, 1000.0, q.Max)
	assert.InDelta(t, 500.5, q.Mean, 1e-9)
	assert.Equal(t, Quantiles{}, Summarize(nil, 1))
	assert.Equal(t, 1, Summarize([]float64{math.NaN(), 2}, 1).N, "NaN is no measurement")
}

// world builds a closed-model phase of 6 s at 10 completions per ms (plus
// a linear drift of drift completions per ms per second), in which the
// target does nothing useful during each busy interval: every shot there
// costs exactly its busy time.
type world struct {
	t0    time.Time
	drift float64
	busy  []Span // offsets from t0, ns
}

func (w world) phase() *load.Result {
	res := &load.Result{Phase: load.Phase{Name: "throughput"}, Began: w.t0, Ended: w.t0.Add(6 * time.Second)}
	seq := uint64(0)
	carry := 0.0
	for m := int64(0); m < 6000; m++ {
		busy := false
		for _, b := range w.busy {
			if m*ms >= b.From && m*ms < b.To {
				busy = true
			}
		}
		if busy {
			continue
		}
		carry += 10 + w.drift*float64(m)/1000
		for ; carry >= 1; carry-- {
			res.Recs = append(res.Recs, load.Record{Seq: seq, Start: w.t0.UnixNano() + m*ms, Latency: 1000, Code: 200, Err: -1})
			seq++
		}
	}
	return res
}

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// shotEvents returns a write and the matching pipeline event for each busy
// interval, as kind, taking cpu of CPU.
func (w world) shotEvents(kinds []string, cpu time.Duration) ([]Write, []strategies.Event) {
	var writes []Write
	var events []strategies.Event
	outcome := map[string]strategies.Outcome{KindReload: strategies.Applied, KindIdentical: strategies.Unchanged, KindReject: strategies.Rejected}
	for i, b := range w.busy {
		kind := kinds[i%len(kinds)]
		v := int64(i + 2)
		h := hashOf(fmt.Sprint(kind, v))
		start, end := w.t0.Add(time.Duration(b.From)), w.t0.Add(time.Duration(b.To))
		writes = append(writes, Write{Version: v, Kind: kind, Hash: h, Phase: "throughput", Start: start.Add(-5 * time.Millisecond), End: start.Add(-4 * time.Millisecond)})
		e := strategies.Event{Seq: uint64(i + 1), Outcome: outcome[kind], Version: v, Hash: h, ReadStart: start, Finished: end,
			CPU: strategies.StageCPU{Measured: true, Read: cpu / 10, Parse: cpu * 8 / 10, Apply: cpu / 10}}
		if kind == KindReload {
			e.ApplyStart, e.ApplyEnd = end.Add(-time.Millisecond), end
		}
		events = append(events, e)
	}
	return writes, events
}

func busyEvery(first, every, dur time.Duration, n int) []Span {
	var out []Span
	for i := 0; i < n; i++ {
		from := int64(first + time.Duration(i)*every)
		out = append(out, Span{from, from + int64(dur)})
	}
	return out
}

func TestPairedEstimateRecoversAKnownCost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		drift float64
		busy  time.Duration
	}{
		{"flat", 0, 10 * time.Millisecond},
		{"drifting machine", 3, 10 * time.Millisecond},
		{"large cost", 0, 40 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := world{t0: time.Unix(1_700_000_000, 0), drift: tt.drift, busy: busyEvery(1200*time.Millisecond, 500*time.Millisecond, tt.busy, 7)}
			writes, events := w.shotEvents([]string{KindReload}, tt.busy)
			s := Analyze(Input{Geometry: testGeometry, Throughput: w.phase(), Writes: writes, Events: events, TargetCPUs: 1})
			rk := s.Throughput.Kind(KindReload)
			require.NotNil(t, rk)
			assert.Equal(t, 7, rk.N)
			want := float64(tt.busy) / 1e6
			assert.InDelta(t, want, rk.LostMs.Value, want*0.05, "lost ms per reload")
			assert.InDelta(t, 100*want/1000, rk.DipPP.Value, 100*want/1000*0.05, "dip = lost ÷ the 1 s QPS sample")
			assert.InDelta(t, 100*want/1000, float64(rk.PredictedPP), 1e-9, "the pipeline's own CPU predicts the same")
			assert.InDelta(t, 10+tt.drift*3, float64(s.Throughput.SteadyRPS)/1000, 1.5)
			assert.Len(t, s.Throughput.Shots, 7)
		})
	}
}

func TestShotsThatOverlapAreDropped(t *testing.T) {
	t.Parallel()
	w := world{t0: time.Unix(1_700_000_000, 0), busy: []Span{
		{1500 * ms, 1510 * ms}, {1600 * ms, 1610 * ms}, // too close: each one's control holds the other's window
		{3000 * ms, 3010 * ms},
		{100 * ms, 110 * ms}, // inside the trimmed edge of the phase
	}}
	writes, events := w.shotEvents([]string{KindReload}, 10*time.Millisecond)
	s := Analyze(Input{Geometry: testGeometry, Throughput: w.phase(), Writes: writes, Events: events, TargetCPUs: 1})
	rk := s.Throughput.Kind(KindReload)
	require.NotNil(t, rk)
	assert.Equal(t, 1, rk.N)
	assert.Equal(t, 3, rk.Dropped)
}

func TestDecomposeWithControls(t *testing.T) {
	t.Parallel()
	// reload 12 ms, identical 2 ms, reject 9 ms, interleaved.
	t0 := time.Unix(1_700_000_000, 0)
	var busy []Span
	var kinds []string
	costs := map[string]time.Duration{KindReload: 12 * time.Millisecond, KindIdentical: 2 * time.Millisecond, KindReject: 9 * time.Millisecond}
	order := []string{KindReload, KindIdentical, KindReject}
	for i := 0; i < 9; i++ {
		k := order[i%3]
		from := int64(1200*time.Millisecond + time.Duration(i)*450*time.Millisecond)
		busy = append(busy, Span{from, from + int64(costs[k])})
		kinds = append(kinds, k)
	}
	w := world{t0: t0, busy: busy}
	writes, events := w.shotEvents(kinds, 0)
	s := Analyze(Input{Geometry: testGeometry, Throughput: w.phase(), Writes: writes, Events: events, TargetCPUs: 1})
	require.Len(t, s.Throughput.Stages, 4)
	byName := map[string]Stage{}
	for _, st := range s.Throughput.Stages {
		byName[st.Name] = st
	}
	assert.InDelta(t, 2, byName["notice + read + hash"].FromControls.Value, 0.2)
	assert.InDelta(t, 7, byName["parse + validate"].FromControls.Value, 0.3)
	assert.InDelta(t, 3, byName["apply / swap"].FromControls.Value, 0.3)
	assert.False(t, byName["garbage collection"].FromControls.Valid(), "no control isolates GC")
	for _, k := range order {
		kc := s.Throughput.Kind(k)
		require.NotNil(t, kc, k)
		assert.Equal(t, 3, kc.N, k)
	}
	assert.Equal(t, 3, s.Reloads.Written, "controls are not reloads")
	assert.Equal(t, map[string]int{KindIdentical: 3, KindReject: 3}, s.Reloads.Controls)
	assert.Zero(t, s.Reloads.Rejected, "a rejected control is not a rejected reload")
}

func TestMatchShots(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	at := func(msec int) time.Time { return t0.Add(time.Duration(msec) * time.Millisecond) }
	same := hashOf("v1")
	writes := []Write{
		{Version: 2, Kind: KindReload, Hash: hashOf("v2"), Start: at(100)},
		{Version: 2, Kind: KindIdentical, Hash: same, Start: at(600)},
		{Version: 2, Kind: KindIdentical, Hash: same, Start: at(1100)}, // never noticed
		{Version: 3, Kind: KindReject, Hash: hashOf("bad3"), Start: at(1600)},
		{Version: 4, Hash: hashOf("v4"), Start: at(2100)}, // empty kind reads as reload
	}
	events := []strategies.Event{
		{Outcome: strategies.Unchanged, Hash: same, ReadStart: at(50), Finished: at(51)}, // before the write: not it
		{Outcome: strategies.Applied, Version: 2, Hash: hashOf("v2"), ReadStart: at(200), Finished: at(215)},
		{Outcome: strategies.Unchanged, Hash: same, ReadStart: at(700), Finished: at(701)},
		{Outcome: strategies.Rejected, Hash: hashOf("bad3"), ReadStart: at(1700), Finished: at(1712)},
		{Outcome: strategies.Applied, Version: 4, Hash: hashOf("v4"), ReadStart: at(2200), Finished: at(2215)},
	}
	shots, unmatched := MatchShots(writes, events)
	require.Len(t, shots, 4)
	assert.Equal(t, []string{KindReload, KindIdentical, KindReject, KindReload}, []string{shots[0].Kind, shots[1].Kind, shots[2].Kind, shots[3].Kind})
	assert.Equal(t, at(700).UnixNano(), shots[1].Start)
	assert.Equal(t, map[string]int{KindIdentical: 1}, unmatched)
}

func TestBurnLevelsAreSeparateKinds(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	levels := []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond}
	var busy []Span
	var shams []Shot
	for i := 0; i < 9; i++ {
		l := levels[i%3]
		from := int64(1200*time.Millisecond + time.Duration(i)*450*time.Millisecond)
		busy = append(busy, Span{from, from + int64(l)})
		shams = append(shams, Shot{Kind: KindBurn, Injected: l, Start: t0.UnixNano() + from, End: t0.UnixNano() + from + int64(l)})
	}
	w := world{t0: t0, busy: busy}
	s := Analyze(Input{Geometry: testGeometry, Throughput: w.phase(), Shams: shams, TargetCPUs: 1})
	var got []time.Duration
	for _, k := range s.Throughput.Kinds {
		require.Equal(t, KindBurn, k.Kind)
		got = append(got, k.Injected)
		assert.InDelta(t, float64(k.Injected)/1e6, k.LostMs.Value, 0.5, "level %s", k.Injected)
	}
	assert.Equal(t, levels, got, "one kind per level, in order")
	assert.Nil(t, s.Throughput.Kind(KindReload))
	assert.False(t, s.Throughput.ReloadDip().Valid())
}

func TestAnalyzeLatencySplitsAndCorrects(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	lp := &load.Result{Phase: load.Phase{Name: "latency", Rate: 1000}, Began: t0, Ended: t0.Add(4 * time.Second)}
	for i := uint64(0); i < 4000; i++ {
		start := t0.UnixNano() + int64(i)*1e6
		lat := int64(time.Millisecond)
		if i >= 2000 && i < 2050 {
			// the sender stalled: these went out 50 ms late, and were fast
			start += int64(50 * time.Millisecond)
		}
		lp.Recs = append(lp.Recs, load.Record{Seq: i, Start: start, Latency: lat, Code: 200, Err: -1})
	}
	h := hashOf("v2")
	writes := []Write{{Version: 2, Kind: KindReload, Hash: h, Start: t0.Add(1990 * time.Millisecond), End: t0.Add(1991 * time.Millisecond)}}
	events := []strategies.Event{{Outcome: strategies.Applied, Version: 2, Hash: h, ReadStart: t0.Add(2 * time.Second),
		Finished: t0.Add(2030 * time.Millisecond), ApplyStart: t0.Add(2029 * time.Millisecond), ApplyEnd: t0.Add(2030 * time.Millisecond)}}
	s := Analyze(Input{Geometry: testGeometry, Latency: lp, Writes: writes, Events: events, TargetCPUs: 1})
	l := s.Latency
	assert.InDelta(t, 1, l.Window.P99, 0.001, "measured latency hides the stall")
	assert.Greater(t, l.WindowCorrected.P99, 40.0, "corrected latency shows it")
	assert.InDelta(t, 1, l.SteadyCorrected.P99, 0.001)
	assert.Equal(t, 4000, l.OverallMeasured.N)
	assert.Equal(t, 150, l.Window.N, "requests intended in [1.98 s, 2.13 s)")
	assert.Equal(t, 150, l.Steady.N, "and in its two 75 ms controls")
	assert.Equal(t, 1, l.ReloadsInRun)
	assert.Equal(t, 1, s.Reloads.Applied)
	assert.InDelta(t, 39, s.Reloads.DetectionMs.P50, 1e-6, "write end → apply end")
}

func TestAnalyzeSamples(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	w := world{t0: t0, busy: busyEvery(1500*time.Millisecond, time.Second, 10*time.Millisecond, 4)}
	writes, events := w.shotEvents([]string{KindReload}, 10*time.Millisecond)
	var samples []telemetry.Sample
	gc := 0.0
	for i := 0; i < 600; i++ {
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		off := at.Sub(t0) % time.Second
		smp := telemetry.Sample{Seq: uint64(i + 1), Time: at.UnixNano(), Waiting: 40, MutexWait: float64(i) * 0.0001}
		if off >= 500*time.Millisecond && off < 600*time.Millisecond && at.After(t0.Add(time.Second)) {
			smp.Waiting = 70
			smp.GCPauses = []telemetry.Bucket{{Lo: 0.0001, Hi: 0.0003, Count: 1}}
			gc += 0.0005 // 0.5 ms of GC CPU per 10 ms sample, 5 ms per reload
		}
		smp.GCCPU = gc
		samples = append(samples, smp)
	}
	s := Analyze(Input{Geometry: testGeometry, Throughput: w.phase(), Writes: writes, Events: events, Samples: samples, TargetCPUs: 1})
	assert.Equal(t, 70.0, s.Blocked.Window.Peak)
	assert.Equal(t, 40.0, s.Blocked.Steady.Peak)
	assert.Zero(t, s.GC.Steady.Count)
	assert.Positive(t, s.GC.Window.Count)
	assert.InDelta(t, 0.2, s.GC.Window.MaxMs, 1e-5)
	assert.InDelta(t, 10, s.MutexWait.Steady, 0.01, "0.1 ms per 10 ms sample = 10 ms/s")
	rk := s.Throughput.Kind(KindReload)
	require.NotNil(t, rk)
	assert.InDelta(t, 5, rk.GCMs.Value, 0.6, "GC CPU in windows minus controls")
	assert.InDelta(t, (10+rk.GCMs.Value)/1000*100, float64(rk.PredictedWithGCPP), 1e-9)

	series := MakeSeries([]*load.Result{w.phase()}, []int64{events[0].ApplyStart.UnixNano()}, samples)
	assert.Equal(t, []float64{1.509}, series.Reloads, "marks at apply start")
	assert.NotEmpty(t, series.Throughput)
	assert.NotEmpty(t, series.MutexWait)
	for _, p := range series.MutexWait {
		assert.InDelta(t, 10, p.Y, 0.01)
	}
	assert.LessOrEqual(t, len(series.Requests), maxRequestPoints+1)
}

func TestSchedWaitSplit(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	w := world{t0: t0, busy: busyEvery(2100*time.Millisecond, time.Second, 10*time.Millisecond, 1)}
	writes, events := w.shotEvents([]string{KindReload}, 10*time.Millisecond)
	var samples []telemetry.Sample
	for i := 0; i < 600; i++ {
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		smp := telemetry.Sample{Time: at.UnixNano(), SchedLatency: []telemetry.Bucket{{Lo: 1e-6, Hi: 2e-6, Count: 99}}}
		if at.After(t0.Add(2100*time.Millisecond)) && at.Before(t0.Add(2150*time.Millisecond)) {
			smp.SchedLatency = append(smp.SchedLatency, telemetry.Bucket{Lo: 0.008, Hi: 0.016, Count: 100})
		}
		samples = append(samples, smp)
	}
	s := Analyze(Input{Geometry: testGeometry, Throughput: w.phase(), Writes: writes, Events: events, Samples: samples, TargetCPUs: 1})
	assert.InDelta(t, 2, s.SchedWait.Steady.P99Us, 1e-9)
	assert.InDelta(t, 16000, s.SchedWait.Window.MaxUs, 1e-6, "a parse holding the only CPU shows as a long runnable wait")
	assert.Greater(t, s.SchedWait.Window.P99Us, s.SchedWait.Steady.P99Us)
}

func TestAnalyzeEmpty(t *testing.T) {
	t.Parallel()
	s := Analyze(Input{})
	assert.Empty(t, s.Throughput.Kinds)
	assert.False(t, s.Throughput.ReloadDip().Valid())
	kc := Aggregate(KindReload, nil, time.Second, 1)
	assert.Zero(t, kc.N)
	assert.False(t, kc.LostMs.Valid())
}

func TestOpenModelDipIsZeroWhenTheBacklogDrains(t *testing.T) {
	t.Parallel()
	// 1000 req/s offered; a 20 ms reload holds every request that arrives
	// during it, and they all complete when it ends: nothing is lost, the
	// cost shows as latency only.
	t0 := time.Unix(1_700_000_000, 0)
	lp := &load.Result{Phase: load.Phase{Name: "latency", Rate: 1000}, Began: t0, Ended: t0.Add(6 * time.Second)}
	busy := []Span{}
	for i := 0; i < 8; i++ {
		from := int64(time.Second) + int64(i)*int64(500*time.Millisecond)
		busy = append(busy, Span{from, from + 20*ms})
	}
	for i := uint64(0); i < 6000; i++ {
		start := int64(i) * ms
		end := start + ms/2
		for _, b := range busy {
			if start >= b.From && start < b.To {
				end = b.To + ms/2
			}
		}
		lp.Recs = append(lp.Recs, load.Record{Seq: i, Start: t0.UnixNano() + start, Latency: end - start, Code: 200, Err: -1})
	}
	w := world{t0: t0, busy: busy}
	writes, events := w.shotEvents([]string{KindReload}, 20*time.Millisecond)
	s := Analyze(Input{Geometry: testGeometry, Latency: lp, Writes: writes, Events: events, TargetCPUs: 1})
	d := s.Latency.Dip
	require.Equal(t, 8, d.N)
	assert.InDelta(t, 0, d.LostMs.Value, 0.5, "below capacity the requests are served late, not lost")
	assert.Greater(t, s.Latency.Window.P99, 10.0, "the cost shows as latency")
	assert.Less(t, s.Latency.Steady.P99, 1.0)
	assert.Len(t, s.Latency.Shots, 8)
}

func TestDefaultGeometryAndLongTail(t *testing.T) {
	t.Parallel()
	w := world{t0: time.Unix(1_700_000_000, 0), busy: busyEvery(1200*time.Millisecond, 500*time.Millisecond, 10*time.Millisecond, 7)}
	writes, events := w.shotEvents([]string{KindReload}, 10*time.Millisecond)
	s := Analyze(Input{Throughput: w.phase(), Writes: writes, Events: events, TargetCPUs: 1})
	assert.Equal(t, DefaultGeometry, s.Throughput.Geometry, "a zero geometry means the default")
	assert.Equal(t, float64(4*DefaultGeometry.Tail)/1e6, s.Throughput.LongTailMs)
	rk := s.Throughput.Kind(KindReload)
	require.NotNil(t, rk)
	assert.InDelta(t, rk.LostMs.Value, s.Throughput.LongTail.Value, 0.5, "a cost inside the window: a longer tail finds no more")
}

func TestOpenModelDipCountsABacklogThatDoesNotDrain(t *testing.T) {
	t.Parallel()
	// Past capacity: the requests that arrive during a 20 ms reload only
	// complete 600 ms later, beyond the horizon: 20 ms of offered load lost.
	t0 := time.Unix(1_700_000_000, 0)
	lp := &load.Result{Phase: load.Phase{Name: "latency", Rate: 1000}, Began: t0, Ended: t0.Add(8 * time.Second)}
	var busy []Span
	for i := 0; i < 6; i++ {
		from := int64(time.Second) + int64(i)*int64(time.Second)
		busy = append(busy, Span{from, from + 20*ms})
	}
	for i := uint64(0); i < 8000; i++ {
		start := int64(i) * ms
		end := start + ms/2
		for _, b := range busy {
			if start >= b.From && start < b.To {
				end = b.To + 600*ms
			}
		}
		lp.Recs = append(lp.Recs, load.Record{Seq: i, Start: t0.UnixNano() + start, Latency: end - start, Code: 200, Err: -1})
	}
	w := world{t0: t0, busy: busy}
	writes, events := w.shotEvents([]string{KindReload}, 20*time.Millisecond)
	s := Analyze(Input{Latency: lp, Writes: writes, Events: events, TargetCPUs: 1})
	d := s.Latency.Dip
	require.Equal(t, 6, d.N)
	assert.InDelta(t, 20, d.LostMs.Value, 1, "the 20 requests offered during the reload were not served within the horizon")
	assert.InDelta(t, 2, d.DipPP.Value, 0.1)
}
