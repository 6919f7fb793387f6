package telemetry

import (
	"runtime/metrics"

	"github.com/reloadlab/reloadlab/internal/cpuwork"
	"sync"
	"time"
)

// Defaults for the Sampler.
const (
	// DefaultInterval is the sampling period.
	DefaultInterval = 10 * time.Millisecond
	// DefaultKeep is how many samples the ring holds (10 minutes at 10 ms).
	DefaultKeep = 60_000
)

// metric names read by the Sampler, in the order of the samples slice.
const (
	mGoroutines = iota
	mWaiting
	mRunnable
	mRunning
	mMutexWait
	mHeapLive
	mHeapGoal
	mHeapObjects
	mGCCycles
	mGCPauses
	mOtherPauses
	mSchedLatency
	mGCCPU
	mCount
)

var metricNames = [mCount]string{
	mGoroutines:   "/sched/goroutines:goroutines",
	mWaiting:      "/sched/goroutines/waiting:goroutines",
	mRunnable:     "/sched/goroutines/runnable:goroutines",
	mRunning:      "/sched/goroutines/running:goroutines",
	mMutexWait:    "/sync/mutex/wait/total:seconds",
	mHeapLive:     "/gc/heap/live:bytes",
	mHeapGoal:     "/gc/heap/goal:bytes",
	mHeapObjects:  "/gc/heap/objects:objects",
	mGCCycles:     "/gc/cycles/total:gc-cycles",
	mGCPauses:     "/sched/pauses/total/gc:seconds",
	mOtherPauses:  "/sched/pauses/total/other:seconds",
	mSchedLatency: "/sched/latencies:seconds",
	mGCCPU:        "/cpu/classes/gc/total:cpu-seconds",
}

// Sampler samples runtime/metrics periodically into a ring. Start it once;
// Since and Stop are safe to call concurrently with sampling.
type Sampler struct {
	interval time.Duration
	samples  []metrics.Sample
	prev     [mCount][]uint64 // previous cumulative histogram counts

	mu   sync.Mutex
	ring []Sample
	next uint64 // Seq of the next sample

	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// NewSampler returns a Sampler that samples every interval (DefaultInterval
// if <= 0) and keeps the last keep samples (DefaultKeep if <= 0).
func NewSampler(interval time.Duration, keep int) *Sampler {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if keep <= 0 {
		keep = DefaultKeep
	}
	s := &Sampler{interval: interval, ring: make([]Sample, 0, keep), done: make(chan struct{})}
	s.samples = make([]metrics.Sample, mCount)
	for i, n := range metricNames {
		s.samples[i].Name = n
	}
	return s
}

// Start takes a first sample (the baseline for histogram deltas) and starts
// sampling in the background.
func (s *Sampler) Start() {
	s.read(time.Now(), false)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.interval)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case now := <-t.C:
				s.read(now, true)
			}
		}
	}()
}

// Stop stops sampling and waits for the sampler goroutine.
func (s *Sampler) Stop() {
	s.once.Do(func() { close(s.done) })
	s.wg.Wait()
}

// read takes one sample; keep=false only establishes the histogram baseline.
func (s *Sampler) read(now time.Time, keep bool) {
	metrics.Read(s.samples)
	var smp Sample
	smp.Time = now.UnixNano()
	smp.Goroutines = u64(s.samples[mGoroutines])
	smp.Waiting = u64(s.samples[mWaiting])
	smp.Runnable = u64(s.samples[mRunnable])
	smp.Running = u64(s.samples[mRunning])
	if v := s.samples[mMutexWait].Value; v.Kind() == metrics.KindFloat64 {
		smp.MutexWait = v.Float64()
	}
	smp.HeapLive = u64(s.samples[mHeapLive])
	smp.HeapGoal = u64(s.samples[mHeapGoal])
	smp.HeapObjects = u64(s.samples[mHeapObjects])
	smp.GCCycles = u64(s.samples[mGCCycles])
	if v := s.samples[mGCCPU].Value; v.Kind() == metrics.KindFloat64 {
		smp.GCCPU = v.Float64()
	}
	smp.CPU = int64(cpuwork.ProcessCPU())
	smp.GCPauses = s.delta(mGCPauses)
	smp.OtherPauses = s.delta(mOtherPauses)
	smp.SchedLatency = s.delta(mSchedLatency)
	if !keep {
		return
	}
	s.mu.Lock()
	smp.Seq = s.next + 1
	s.next++
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, smp)
	} else {
		s.ring[int((smp.Seq-1)%uint64(cap(s.ring)))] = smp
	}
	s.mu.Unlock()
}

func u64(m metrics.Sample) uint64 {
	if m.Value.Kind() == metrics.KindUint64 {
		return m.Value.Uint64()
	}
	return 0
}

// delta returns the non-empty buckets of histogram i's growth since the last
// read. metrics.Read reuses the histogram's storage, so the counts are
// copied.
func (s *Sampler) delta(i int) []Bucket {
	v := s.samples[i].Value
	if v.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	h := v.Float64Histogram()
	prev := s.prev[i]
	if len(prev) != len(h.Counts) {
		s.prev[i] = append([]uint64(nil), h.Counts...)
		return nil
	}
	var out []Bucket
	for j, c := range h.Counts {
		if d := c - prev[j]; d > 0 {
			lo, hi := h.Buckets[j], h.Buckets[j+1]
			out = append(out, Bucket{Lo: finite(lo, hi), Hi: finite(hi, lo), Count: d})
		}
		prev[j] = c
	}
	return out
}

// Since returns the kept samples with Seq > after, oldest first.
func (s *Sampler) Since(after uint64) []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint64(len(s.ring))
	out := make([]Sample, 0, n)
	for seq := s.next - n + 1; seq <= s.next && n > 0; seq++ {
		if seq > after {
			out = append(out, s.ring[int((seq-1)%uint64(cap(s.ring)))])
		}
	}
	return out
}
