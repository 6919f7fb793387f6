package analysis

import (
	"slices"
	"time"

	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/targets/telemetry"
)

// Point is one plotted point: X in seconds since the origin, Y in the
// series' unit.
type Point struct{ X, Y float64 }

// Series holds the timelines a run's figures draw, X in seconds since
// Origin.
type Series struct {
	Origin      time.Time
	Requests    []Point // sampled per-request latency, ms
	P50, P99    []Point // per LatencyBin, ms
	Throughput  []Point // completed req/s per BinWidth bin
	GCPauses    []Point // each pause, µs
	Waiting     []Point // /sched/goroutines/waiting (idle keep-alive connections included)
	MutexWait   []Point // growth of /sync/mutex/wait/total per 100 ms bin, ms of waiting per second
	Reloads     []float64
	PhaseBounds []PhaseBound
}

// PhaseBound is one phase's extent in seconds since the origin.
type PhaseBound struct {
	Name       string
	Start, End float64
}

// LatencyBin is the bin width of the latency percentile lines.
const LatencyBin = 250 * time.Millisecond

// maxRequestPoints bounds the per-request scatter.
const maxRequestPoints = 50_000

// MakeSeries computes the plotted timelines of phases (in run order),
// reload instants (Unix ns) and samples.
func MakeSeries(phases []*load.Result, applies []int64, samples []telemetry.Sample) Series {
	var s Series
	var live []*load.Result
	for _, ph := range phases {
		if ph != nil && len(ph.Recs) > 0 {
			live = append(live, ph)
		}
	}
	if len(live) == 0 {
		return s
	}
	s.Origin = live[0].Began
	o := s.Origin.UnixNano()
	sec := func(t int64) float64 { return float64(t-o) / 1e9 }
	end := live[len(live)-1].Ended.UnixNano()

	total := 0
	for _, ph := range live {
		total += len(ph.Recs)
		s.PhaseBounds = append(s.PhaseBounds, PhaseBound{ph.Phase.Name, sec(ph.Began.UnixNano()), sec(ph.Ended.UnixNano())})
	}
	every := max(1, (total+maxRequestPoints-1)/maxRequestPoints)
	n := 0
	lbin := int64(LatencyBin)
	nb := int((end-o)/lbin) + 1
	perBin := make([][]float64, nb)
	for _, ph := range live {
		for _, r := range ph.Recs {
			if r.Err >= 0 {
				continue
			}
			ms := float64(r.Latency) / 1e6
			if n%every == 0 {
				s.Requests = append(s.Requests, Point{sec(r.Start), ms})
			}
			n++
			if i := (r.Start - o) / lbin; r.Start >= o && i < int64(nb) {
				perBin[i] = append(perBin[i], ms)
			}
		}
		starts, rps := Bins(ph.Recs, ph.Began.UnixNano(), ph.Ended.UnixNano())
		for i := range starts {
			s.Throughput = append(s.Throughput, Point{sec(starts[i]) + BinWidth.Seconds()/2, rps[i]})
		}
	}
	for i, vals := range perBin {
		if len(vals) < 10 {
			continue
		}
		slices.Sort(vals)
		x := (float64(i) + 0.5) * LatencyBin.Seconds()
		s.P50 = append(s.P50, Point{x, stats.QuantileSorted(vals, 0.5)})
		s.P99 = append(s.P99, Point{x, stats.QuantileSorted(vals, 0.99)})
	}
	for _, p := range Pauses(samples) {
		if p.At >= o && p.At <= end {
			s.GCPauses = append(s.GCPauses, Point{sec(p.At), float64(p.Dur) / 1e3})
		}
	}
	for _, smp := range samples {
		if smp.Time >= o && smp.Time <= end {
			s.Waiting = append(s.Waiting, Point{sec(smp.Time), float64(smp.Waiting)})
		}
	}
	s.MutexWait = MutexWaitBins(samples, o, o, end)
	for _, t := range applies {
		if t >= o && t <= end {
			s.Reloads = append(s.Reloads, sec(t))
		}
	}
	return s
}

// MutexWaitBins returns the growth of the cumulative mutex-wait counter in
// BinWidth bins over [from, to] (Unix ns), in ms of waiting per second,
// each placed at its bin's middle in seconds since origin. Bins without
// samples on both sides are skipped.
func MutexWaitBins(samples []telemetry.Sample, origin, from, to int64) []Point {
	cum := newCumulative(samples, func(s telemetry.Sample) float64 { return s.MutexWait })
	if cum == nil {
		return nil
	}
	first, last := max(from, samples[0].Time), min(to, samples[len(samples)-1].Time)
	w := int64(BinWidth)
	var out []Point
	for t := first; t+w <= last; t += w {
		ms := cum.over(Span{t, t + w}) * 1e3
		out = append(out, Point{float64(t+w/2-origin) / 1e9, ms / BinWidth.Seconds()})
	}
	return out
}
