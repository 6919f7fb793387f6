package analysis

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"reloadlab/harness/load"
	"reloadlab/strategies"
	"reloadlab/targets/telemetry"
)

func TestWindowsMergeAndContain(t *testing.T) {
	t.Parallel()
	ms := int64(time.Millisecond)
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
	assert.Equal(t, 300*time.Millisecond, w.Within(Span{1500 * ms, 3000 * ms}), "200 ms of the first window, 100 ms of the second")
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = float64(1000 - i) // 1..1000, unsorted
	}
	q := Summarize(xs, 1)
	assert.Equal(t, Quantiles{N: 1000, P50: 500, P99: 990, P999: 999, Max: 1000, Mean: 500.5}, q)
	assert.Equal(t, Quantiles{}, Summarize(nil, 1))
}

func TestBootstrapDip(t *testing.T) {
	t.Parallel()
	steady := []float64{1000, 1010, 990, 1005, 995, 1000, 1002, 998}
	window := []float64{900, 910, 890, 905, 895}
	e := bootstrapDip(window, steady, 2000)
	assert.InDelta(t, 0.1, e.Value, 0.001)
	assert.Less(t, e.Lo, e.Value)
	assert.Greater(t, e.Hi, e.Value)
	assert.Greater(t, e.Lo, 0.05, "a clear 10% dip has a CI away from zero")
	none := bootstrapDip(steady, steady, 2000)
	assert.Less(t, none.Lo, 0.0)
	assert.Greater(t, none.Hi, 0.0)
	assert.True(t, math.IsNaN(bootstrapDip(nil, steady, 10).Value))
}

// synthetic builds a closed-model phase whose completions drop by half
// during [2.0 s, 2.5 s) after a reload applied at 2.1 s.
func synthetic(t0 time.Time) (*load.Result, []strategies.Event) {
	res := &load.Result{Phase: load.Phase{Name: "throughput"}, Began: t0, Ended: t0.Add(6 * time.Second)}
	seq := uint64(0)
	for ms := int64(0); ms < 6000; ms++ {
		n := 10 // 10 completions per ms = 10k req/s
		if ms >= 2000 && ms < 2500 {
			n = 5
		}
		for i := 0; i < n; i++ {
			res.Recs = append(res.Recs, load.Record{Seq: seq, Start: t0.UnixNano() + ms*1e6, Latency: 1000, Code: 200, Err: -1})
			seq++
		}
	}
	apply := t0.Add(2100 * time.Millisecond)
	ev := []strategies.Event{{Outcome: strategies.Applied, Version: 2, ApplyStart: apply, ApplyEnd: apply.Add(50 * time.Microsecond)}}
	return res, ev
}

func TestAnalyzeThroughputDip(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	tp, events := synthetic(t0)
	write := Write{Version: 2, Start: t0.Add(2000 * time.Millisecond), End: t0.Add(2010 * time.Millisecond)}
	s := Analyze(Input{Throughput: tp, Events: events, Writes: []Write{write, {Version: 3, End: t0.Add(3 * time.Second)}}})
	ts := s.Throughput
	assert.Equal(t, 57500, ts.Requests)
	assert.InDelta(t, 57500.0/6, ts.CapacityRPS, 1)
	assert.InDelta(t, 10000, ts.SteadyRPS, 1)
	assert.InDelta(t, 5000, ts.WindowRPS, 1)
	assert.InDelta(t, 0.5, ts.QPSDip.Value, 0.001)
	assert.Equal(t, 5, ts.WindowBins)
	assert.Equal(t, 1, ts.ReloadsInRun)
	assert.Equal(t, 2, s.Reloads.Written)
	assert.Equal(t, 1, s.Reloads.Applied)
	assert.Equal(t, 1, s.Reloads.NotApplied)
	assert.InDelta(t, 90+0.05, s.Reloads.DetectionMs.P50, 0.001, "write end 2010 ms → apply end 2100.05 ms")
	assert.InDelta(t, 50, s.Reloads.ApplyUs.Max, 0.001)
}

func TestAnalyzeLatencySplitsAndCorrects(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	lp := &load.Result{Phase: load.Phase{Name: "latency", Rate: 1000}, Began: t0, Ended: t0.Add(4 * time.Second)}
	for i := uint64(0); i < 4000; i++ {
		start := t0.UnixNano() + int64(i)*1e6
		lat := int64(time.Millisecond)
		if i >= 2000 && i < 2100 {
			// the sender stalled: these went out 50 ms late, and were fast
			start += int64(50 * time.Millisecond)
		}
		lp.Recs = append(lp.Recs, load.Record{Seq: i, Start: start, Latency: lat, Code: 200, Err: -1})
	}
	apply := t0.Add(2 * time.Second)
	s := Analyze(Input{Latency: lp, Events: []strategies.Event{{Outcome: strategies.Applied, ApplyStart: apply, ApplyEnd: apply}}})
	l := s.Latency
	assert.InDelta(t, 1, l.Window.P99, 0.001, "measured latency hides the stall")
	assert.InDelta(t, 51, l.WindowCorrected.P99, 0.001, "corrected latency shows it")
	assert.InDelta(t, 1, l.SteadyCorrected.P99, 0.001)
	assert.Equal(t, 4000, l.OverallMeasured.N)
	assert.Equal(t, 500, l.Window.N, "requests intended in [1.9 s, 2.4 s)")
}

func TestAnalyzeSamples(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	tp, events := synthetic(t0)
	var samples []telemetry.Sample
	for i := 0; i < 600; i++ {
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		smp := telemetry.Sample{Seq: uint64(i + 1), Time: at.UnixNano(), Waiting: 40, MutexWait: float64(i) * 0.0001}
		if at.After(t0.Add(2100*time.Millisecond)) && at.Before(t0.Add(2200*time.Millisecond)) {
			smp.Waiting = 70
			smp.GCPauses = []telemetry.Bucket{{Lo: 0.0001, Hi: 0.0003, Count: 1}}
		}
		samples = append(samples, smp)
	}
	s := Analyze(Input{Throughput: tp, Events: events, Samples: samples})
	assert.Equal(t, 70.0, s.Blocked.Window.Peak)
	assert.Equal(t, 40.0, s.Blocked.Steady.Peak)
	assert.Greater(t, s.Blocked.Window.Mean, s.Blocked.Steady.Mean)
	assert.Equal(t, 0, s.GC.Steady.Count)
	assert.Positive(t, s.GC.Window.Count)
	assert.InDelta(t, 0.2, s.GC.Window.MaxMs, 1e-5)
	assert.InDelta(t, 10, s.MutexWait.Steady, 0.01, "0.1 ms per 10 ms sample = 10 ms/s")

	series := MakeSeries([]*load.Result{tp}, []int64{events[0].ApplyStart.UnixNano()}, samples)
	assert.Equal(t, []float64{2.1}, series.Reloads)
	assert.NotEmpty(t, series.Throughput)
	assert.NotEmpty(t, series.P99)
	assert.LessOrEqual(t, len(series.Requests), maxRequestPoints+1)
	assert.Len(t, series.GCPauses, s.GC.Window.Count)
}

func TestEstimateJSONNaN(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(Estimate{Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN()})
	require.NoError(t, err)
	assert.JSONEq(t, `{"value":null,"ci_lo":null,"ci_hi":null}`, string(data))
	var back Estimate
	require.NoError(t, json.Unmarshal(data, &back))
	assert.False(t, back.Valid())
	data, err = json.Marshal(Estimate{Value: 0.1, Lo: 0.05, Hi: 0.2})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, Estimate{Value: 0.1, Lo: 0.05, Hi: 0.2}, back)
}

func TestSchedWaitSplit(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	tp, events := synthetic(t0)
	var samples []telemetry.Sample
	for i := 0; i < 600; i++ {
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		smp := telemetry.Sample{Time: at.UnixNano(), SchedLatency: []telemetry.Bucket{{Lo: 1e-6, Hi: 2e-6, Count: 99}}}
		if at.After(t0.Add(2100*time.Millisecond)) && at.Before(t0.Add(2150*time.Millisecond)) {
			smp.SchedLatency = append(smp.SchedLatency, telemetry.Bucket{Lo: 0.008, Hi: 0.016, Count: 100})
		}
		samples = append(samples, smp)
	}
	s := Analyze(Input{Throughput: tp, Events: events, Samples: samples})
	assert.InDelta(t, 2, s.SchedWait.Steady.P99Us, 1e-9)
	assert.InDelta(t, 16000, s.SchedWait.Window.MaxUs, 1e-6, "an 11 ms parse holding the only CPU shows as a long runnable wait")
	assert.Greater(t, s.SchedWait.Window.P99Us, s.SchedWait.Steady.P99Us)
}
