package calibrate

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/harness/target"
)

// Tracing-cost schedule defaults.
const (
	// DefaultTracingPairs is how many on/off block pairs the tracing phase
	// runs (QuickTracingPairs with Quick).
	DefaultTracingPairs = 15
	QuickTracingPairs   = 3
	// TracingBlock is one block's length; TracingSettle the part of each
	// block after a switch that is not counted (the recorder's start and
	// stop themselves, and requests in flight across the switch).
	TracingBlock  = 2 * time.Second
	TracingSettle = 250 * time.Millisecond
)

// TracingCost is what running the target's flight recorder (runtime/trace
// in flight-recorder mode, as make bench's diagnosis phase does) costs its
// capacity: the closed model runs on, while the harness switches the
// recorder on and off in blocks of equal length, in ABBA order (off-on,
// on-off, …) so that a drift cancels; each pair gives one ratio of
// completed requests, on ÷ off.
type TracingCost struct {
	Pairs    int     `json:"pairs"`
	BlockMs  float64 `json:"block_ms"`
	SettleMs float64 `json:"settle_ms"`
	// OffRPS and OnRPS are the medians over blocks of the completed
	// requests per second with the recorder off and on.
	OffRPS stats.Num `json:"off_rps"`
	OnRPS  stats.Num `json:"on_rps"`
	// CostPct is the capacity lost with the recorder on, in percent of the
	// capacity with it off: 100 × (1 − exp(mean log ratio)), with the 95%
	// interval of the mean over pairs.
	CostPct stats.Estimate `json:"cost_pct"`
	// Ratios are the pairs' on ÷ off ratios, in schedule order.
	Ratios []float64 `json:"ratios"`
}

// tracingBlock is one block of the schedule as it ran.
type tracingBlock struct {
	on         bool
	start, end int64 // Unix ns
}

// measureTracing runs the tracing phase on a started target and returns the
// cost of its flight recorder.
func measureTracing(ctx context.Context, base string, client *target.Client, workers, pairs int, logf func(string, ...any)) (*TracingCost, error) {
	var (
		mu     sync.Mutex
		blocks []tracingBlock
	)
	order := make([]bool, 0, 2*pairs)
	for i := 0; i < pairs; i++ {
		on := i%2 == 1 // ABBA: off-on, on-off, off-on, …
		order = append(order, on, !on)
	}
	lead := time.Second
	logf("tracing cost: %d pairs of %s blocks, flight recorder off and on in ABBA order (about %s)", pairs, TracingBlock, (time.Duration(len(order))*TracingBlock + 2*lead).Round(time.Second))
	switchCtx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		first := time.Now().Add(lead)
		recording := false
		defer func() {
			if recording {
				_ = client.StopFlightRecorder(context.WithoutCancel(ctx))
			}
		}()
		for i, on := range order {
			select {
			case <-switchCtx.Done():
				return
			case <-time.After(time.Until(first.Add(time.Duration(i) * TracingBlock))):
			}
			if on != recording {
				var err error
				if on {
					err = client.StartFlightRecorder(switchCtx, 0, 0, 0, 0)
				} else {
					err = client.StopFlightRecorder(switchCtx)
				}
				if err != nil {
					if switchCtx.Err() == nil {
						errc <- fmt.Errorf("calibrate: tracing block %d: %w", i+1, err)
					}
					return
				}
				recording = on
			}
			start := first.Add(time.Duration(i) * TracingBlock)
			mu.Lock()
			blocks = append(blocks, tracingBlock{on: on, start: start.UnixNano(), end: start.Add(TracingBlock).UnixNano()})
			mu.Unlock()
		}
	}()
	res, err := load.Run(ctx, base, load.Phase{Name: "tracing", Duration: time.Duration(len(order))*TracingBlock + 2*lead, Workers: uint64(workers)}, nil)
	stop()
	if serr := <-errc; serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if len(blocks) < len(order) {
		return nil, fmt.Errorf("calibrate: tracing phase ran %d of %d blocks", len(blocks), len(order))
	}
	return tracingCost(res.Recs, blocks), nil
}

// tracingCost counts each block's completed requests and pairs them.
func tracingCost(recs []load.Record, blocks []tracingBlock) *TracingCost {
	counts := make([]float64, len(blocks))
	settle := int64(TracingSettle)
	for _, r := range recs {
		if r.Err >= 0 || r.Code != 200 {
			continue
		}
		end := r.End()
		for i, b := range blocks {
			if end >= b.start+settle && end < b.end {
				counts[i]++
				break
			}
		}
	}
	secs := float64(blocks[0].end-blocks[0].start-settle) / 1e9
	tc := &TracingCost{Pairs: len(blocks) / 2, BlockMs: float64(TracingBlock) / 1e6, SettleMs: float64(TracingSettle) / 1e6}
	var on, off, logs []float64
	for i := 0; i+1 < len(blocks); i += 2 {
		a, b := blocks[i], blocks[i+1]
		ca, cb := counts[i], counts[i+1]
		if a.on {
			a, b, ca, cb = b, a, cb, ca
		}
		off, on = append(off, ca/secs), append(on, cb/secs)
		if ca > 0 && cb > 0 {
			tc.Ratios = append(tc.Ratios, cb/ca)
			logs = append(logs, math.Log(cb/ca))
		}
	}
	tc.OffRPS, tc.OnRPS = stats.Num(stats.Median(off)), stats.Num(stats.Median(on))
	m := stats.MeanCI(logs)
	cost := func(l float64) float64 { return 100 * (1 - math.Exp(l)) }
	tc.CostPct = stats.Estimate{Value: cost(m.Value), Lo: cost(m.Hi), Hi: cost(m.Lo)}
	return tc
}
