package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/harness/target"
)

// goroutineEvery is the pause between two goroutine profiles in the
// goroutines phase.
const goroutineEvery = 5 * time.Millisecond

// Stack frames that classify a goroutine in a profile.
const (
	frameReload    = "github.com/reloadlab/reloadlab/strategies.(*Reloader).Reload" // inside a pipeline run
	frameStorePkg  = "github.com/reloadlab/reloadlab/strategies/store."             // inside the config store
	frameLockParse = "github.com/reloadlab/reloadlab/strategies/store.(*LockParse).ApplyRaw"
	frameConnServe = "net/http.(*conn).serve"
	frameBgRead    = "net/http.(*connReader).backgroundRead"
)

// lockFrames are the functions a goroutine blocked on a sync lock sits in.
var lockFrames = []string{"sync.(*RWMutex).RLock", "sync.(*RWMutex).Lock", "sync.(*Mutex).Lock", "sync.(*Mutex).lockSlow"}

// GoroutineSample is what one goroutine profile (debug=1) says.
type GoroutineSample struct {
	At           time.Time `json:"at"`             // when the harness received it
	Total        int       `json:"total"`          // goroutines in the profile
	InLock       int       `json:"in_lock"`        // blocked in sync.(*RWMutex).RLock/Lock or sync.(*Mutex).Lock
	InConfigLock int       `json:"in_config_lock"` // of those, waiting on the config store's lock
	Serving      int       `json:"serving"`        // goroutines of HTTP connections (net/http.(*conn).serve), idle or not
	BgReaders    int       `json:"bg_readers"`     // net/http's per-request background readers (one per request in a handler)
	Reloading    bool      `json:"reloading"`      // a goroutine was inside a reload pipeline run
	HoldingParse bool      `json:"holding_parse"`  // a goroutine was parsing inside the store's lock (lockparse)
}

// Share returns InLock ÷ Total.
func (g GoroutineSample) Share() float64 {
	if g.Total == 0 {
		return math.NaN()
	}
	return float64(g.InLock) / float64(g.Total)
}

// ParseGoroutineProfile reads a goroutine profile in the text format
// (/debug/pprof/goroutine?debug=1): records of "N @ addresses" followed by
// "#\taddr\tfunction+off\tfile:line" frames.
func ParseGoroutineProfile(r io.Reader) (GoroutineSample, error) {
	var g GoroutineSample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	count := 0
	var frames []string
	flush := func() {
		if count == 0 {
			return
		}
		g.Total += count
		inLock, config := false, false
		for _, f := range frames {
			switch f {
			case frameConnServe:
				g.Serving += count
			case frameBgRead:
				g.BgReaders += count
			}
			for _, lf := range lockFrames {
				if f == lf {
					inLock = true
				}
			}
			if strings.HasPrefix(f, frameStorePkg) {
				config = true
			}
			switch f {
			case frameReload:
				g.Reloading = true
			case frameLockParse:
				g.HoldingParse = true
			}
		}
		if inLock {
			g.InLock += count
			if config {
				g.InConfigLock += count
			}
		}
		count, frames = 0, frames[:0]
	}
	sawHeader := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "goroutine profile:"):
			sawHeader = true
		case strings.HasPrefix(line, "#"):
			fields := strings.Split(line, "\t")
			if len(fields) >= 3 && count > 0 {
				fn := fields[2]
				if i := strings.LastIndex(fn, "+0x"); i > 0 {
					fn = fn[:i]
				}
				frames = append(frames, fn)
			}
		case strings.Contains(line, " @ "):
			flush()
			n, err := strconv.Atoi(strings.TrimSpace(line[:strings.Index(line, " @ ")]))
			if err != nil {
				return g, fmt.Errorf("bench: goroutine profile record %q: %w", line, err)
			}
			count = n
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return g, fmt.Errorf("bench: read goroutine profile: %w", err)
	}
	if !sawHeader {
		return g, fmt.Errorf("bench: not a goroutine profile in the debug=1 text format")
	}
	// A goroutine blocked on the lock a parsing holder holds is waiting
	// for that holder: a holder mid-parse is itself not blocked.
	return g, nil
}

// goroutineSampler takes goroutine profiles back to back (a pause apart)
// until stopped.
type goroutineSampler struct {
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	samples []GoroutineSample
	err     error
}

func startGoroutineSampler(ctx context.Context, c *target.Client, every time.Duration) *goroutineSampler {
	ctx, cancel := context.WithCancel(ctx)
	gs := &goroutineSampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(gs.done)
		q := url.Values{"debug": {"1"}}
		for ctx.Err() == nil {
			var buf bytes.Buffer
			if err := c.Profile(ctx, "goroutine", q, &buf); err != nil {
				if ctx.Err() == nil {
					gs.fail(err)
				}
				return
			}
			g, err := ParseGoroutineProfile(&buf)
			if err != nil {
				gs.fail(err)
				return
			}
			g.At = time.Now()
			gs.mu.Lock()
			gs.samples = append(gs.samples, g)
			gs.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(every):
			}
		}
	}()
	return gs
}

func (gs *goroutineSampler) fail(err error) {
	gs.mu.Lock()
	gs.err = err
	gs.mu.Unlock()
}

// stop ends sampling and returns the samples.
func (gs *goroutineSampler) stop() ([]GoroutineSample, error) {
	gs.cancel()
	<-gs.done
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return gs.samples, gs.err
}

// GoroutineSummary is what the goroutine profiles of a run say about
// goroutines blocked on locks while a reload ran and while none did.
type GoroutineSummary struct {
	Profiles     int `json:"profiles"`
	DuringReload int `json:"during_reload"` // profiles that caught a pipeline run in progress
	DuringParse  int `json:"during_parse"`  // of those, a parse inside the store's lock (lockparse)
	// ShareDuringReload is the mean share of all goroutines (the runtime's
	// own and idle connections included, as `go tool pprof` counts them)
	// that sat in sync.(*RWMutex).RLock/Lock or sync.(*Mutex).Lock, over the
	// profiles that caught a reload, with an interval that treats the
	// profiles of one reload as one correlated cluster (correlatedMean);
	// ShareSteady is the same over the other profiles.
	ShareDuringReload stats.Estimate `json:"share_during_reload"`
	ShareSteady       stats.Estimate `json:"share_steady"`
	MaxShare          float64        `json:"max_share"`
	MaxInLock         int            `json:"max_in_lock"`
	MeanTotal         stats.Num      `json:"mean_total"` // goroutines per profile
	// ServingShareDuringReload is the mean share of the HTTP connection
	// goroutines (busy or idle) that sat in a lock, over the profiles that
	// caught a reload: the same count over a denominator without the
	// runtime's and the lab's own goroutines.
	ServingShareDuringReload stats.Estimate `json:"serving_share_during_reload"`
	ConfigLockShare          stats.Num      `json:"config_lock_share"` // of the goroutines in a lock during reloads, the share waiting on the config store's
	// What the goroutines of the profiles that caught a reload were, on
	// average: all of them, HTTP connection goroutines, net/http's
	// per-request background readers, and those in a lock call.
	DuringTotal     stats.Num `json:"during_total"`
	DuringServing   stats.Num `json:"during_serving"`
	DuringBgReaders stats.Num `json:"during_bg_readers"`
	DuringInLock    stats.Num `json:"during_in_lock"`
}

// SummarizeGoroutines aggregates goroutine samples.
func SummarizeGoroutines(samples []GoroutineSample) GoroutineSummary {
	gs := GoroutineSummary{Profiles: len(samples), ShareDuringReload: stats.NoEstimate(), ShareSteady: stats.NoEstimate(),
		ServingShareDuringReload: stats.NoEstimate(), ConfigLockShare: stats.Num(math.NaN())}
	var totals, dTotal, dServing, dBg, dLock []float64
	inLock, inConfig := 0, 0
	for _, g := range samples {
		totals = append(totals, float64(g.Total))
		if g.Reloading {
			gs.DuringReload++
			if g.HoldingParse {
				gs.DuringParse++
			}
			inLock += g.InLock
			dTotal = append(dTotal, float64(g.Total))
			dServing = append(dServing, float64(g.Serving))
			dBg = append(dBg, float64(g.BgReaders))
			dLock = append(dLock, float64(g.InLock))
			inConfig += g.InConfigLock
			if s := g.Share(); s > gs.MaxShare {
				gs.MaxShare = s
			}
			gs.MaxInLock = max(gs.MaxInLock, g.InLock)
		}
	}
	gs.MeanTotal = stats.Num(stats.Mean(totals))
	gs.DuringTotal, gs.DuringServing = stats.Num(stats.Mean(dTotal)), stats.Num(stats.Mean(dServing))
	gs.DuringBgReaders, gs.DuringInLock = stats.Num(stats.Mean(dBg)), stats.Num(stats.Mean(dLock))
	gs.ShareDuringReload = correlatedMean(samples, true, GoroutineSample.Share)
	gs.ServingShareDuringReload = correlatedMean(samples, true, func(g GoroutineSample) float64 {
		if g.Serving == 0 {
			return math.NaN()
		}
		return float64(g.InConfigLock) / float64(g.Serving)
	})
	gs.ShareSteady = correlatedMean(samples, false, GoroutineSample.Share)
	// Shares lie in [0, 1]; a t interval near an edge need not.
	for _, e := range []*stats.Estimate{&gs.ShareDuringReload, &gs.ServingShareDuringReload, &gs.ShareSteady} {
		if e.Valid() {
			e.Lo, e.Hi = math.Max(0, e.Lo), math.Min(1, e.Hi)
		}
	}
	if inLock > 0 {
		gs.ConfigLockShare = stats.Num(float64(inConfig) / float64(inLock))
	}
	return gs
}

// correlatedMean is the mean of value over the samples whose Reloading
// equals reloading, with an interval that respects their correlation:
// profiles taken back to back during one reload see the same lock hold.
// Consecutive such samples form one cluster; with fewer than
// stats.SmallSample clusters the interval is Student's t over the cluster
// means, otherwise a moving-block bootstrap of the series in time order
// with blocks as long as the mean cluster.
func correlatedMean(samples []GoroutineSample, reloading bool, value func(GoroutineSample) float64) stats.Estimate {
	var series, clusterMeans []float64
	var cur []float64
	runs, inRun := 0, false
	flush := func() {
		if len(cur) > 0 {
			clusterMeans = append(clusterMeans, stats.Mean(cur))
			cur = cur[:0]
		}
	}
	for _, g := range samples {
		if g.Reloading != reloading {
			if inRun {
				flush()
			}
			inRun = false
			continue
		}
		v := value(g)
		if !stats.Finite(v) {
			continue
		}
		if !inRun {
			runs++
		}
		inRun = true
		series = append(series, v)
		cur = append(cur, v)
	}
	flush()
	switch {
	case len(series) == 0:
		return stats.NoEstimate()
	case len(clusterMeans) < stats.SmallSample:
		e := stats.TMean(clusterMeans)
		e.Value = stats.Mean(series)
		if !e.Valid() {
			return stats.Estimate{Value: e.Value, Lo: math.NaN(), Hi: math.NaN()}
		}
		// Centre the interval on the mean of every sample: its half-width
		// comes from the clusters.
		h := e.HalfWidth()
		return stats.Estimate{Value: e.Value, Lo: e.Value - h, Hi: e.Value + h}
	}
	block := int(math.Ceil(float64(len(series)) / float64(runs)))
	return stats.BlockBootstrapMean(series, block)
}
