package store

import (
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/reloadlab/reloadlab/strategies/config"
)

// benchKeys is the size of the config the background writer rebuilds.
const benchKeys = 10_000

// valueTable precomputes the values of versions 0..n-1 so the writer's cost
// is building the map (what a parser must do), not formatting strings.
type valueTable struct {
	keys   []string
	values [][]string // [version%len][key]
}

func newValueTable(keys, versions int) *valueTable {
	t := &valueTable{keys: make([]string, keys), values: make([][]string, versions)}
	for i := range t.keys {
		t.keys[i] = config.KeyName(i)
	}
	for v := range t.values {
		t.values[v] = make([]string, keys)
		for i := range t.values[v] {
			t.values[v][i] = config.Value(int64(v), i)
		}
	}
	return t
}

// build returns a freshly built snapshot of version v, as the reload pipeline
// would hand to Apply after parsing.
func (t *valueTable) build(v int64) *config.Snapshot {
	vals := t.values[int(v)%len(t.values)]
	m := make(map[string]string, len(t.keys))
	for i, k := range t.keys {
		m[k] = vals[i]
	}
	return config.NewSnapshot(v, m, [32]byte{})
}

// writerStats is what a background writer reports when it stops.
type writerStats struct {
	applies  int           // applies completed
	expected int           // applies the schedule asked for
	cpu      time.Duration // CPU time of the writer's thread
}

// runWriter rebuilds and applies a config every interval until stop is
// closed. It applies once before closing started, so that readers measured
// after started always compete with a running writer (otherwise the short
// probing runs the testing package uses to pick b.N see no writer and
// predict a far too large b.N). It runs on a locked OS thread so its CPU time
// can be read.
func runWriter(s Store, tab *valueTable, interval time.Duration, started chan<- struct{}, stop <-chan struct{}, out chan<- writerStats) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	start := time.Now()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var st writerStats
	s.Apply(tab.build(1))
	st.applies++
	close(started)
	for v := int64(2); ; v++ {
		select {
		case <-stop:
			st.expected = 1 + int(time.Since(start)/interval)
			st.cpu = threadCPU() - cpu0
			out <- st
			return
		case <-tick.C:
			s.Apply(tab.build(v))
			st.applies++
		}
	}
}

// BenchmarkGet measures one hot-path read with b.RunParallel readers while a
// background writer rebuilds and applies a 10k-key config every 1 ms or
// 100 ms (writer=none: no writer). store=baremap is an unsynchronised map
// with no writer: the floor every store's read overhead is a ratio to.
//
// Beside ns/op it reports applies/s (applies the writer completed),
// writer-behind-% (share of scheduled applies that never happened because
// the writer could not keep up) and writer-cpu-% (writer thread CPU time as a
// share of the whole process's CPU time during the benchmark).
func BenchmarkGet(b *testing.B) {
	tab := newValueTable(benchKeys, 2)
	b.Run("store=baremap/writer=none", func(b *testing.B) {
		m := tab.build(1)
		benchReads(b, func(k string) (string, bool) { return m.Get(k) }, tab.keys)
	})
	for _, name := range Names() {
		for _, w := range []struct {
			name     string
			interval time.Duration
		}{{"none", 0}, {"100ms", 100 * time.Millisecond}, {"1ms", time.Millisecond}} {
			b.Run("store="+name+"/writer="+w.name, func(b *testing.B) {
				s, _ := New(name)
				s.Apply(tab.build(0))
				if w.interval == 0 {
					benchReads(b, s.Get, tab.keys)
					return
				}
				started, stop := make(chan struct{}), make(chan struct{})
				out := make(chan writerStats, 1)
				cpu0, wall0 := processCPU(), time.Now()
				go runWriter(s, tab, w.interval, started, stop, out)
				<-started
				benchReads(b, s.Get, tab.keys)
				b.StopTimer()
				close(stop)
				st := <-out
				wall, cpu := time.Since(wall0), processCPU()-cpu0
				reportWriter(b, st, wall, cpu)
			})
		}
	}
}

// benchReads runs get over keys from GOMAXPROCS goroutines. Every
// yieldEvery reads a reader calls runtime.Gosched: readers spinning on every
// P otherwise keep the writer's timer from running until the scheduler
// preempts them (every 10 ms), and a 1 ms writer would complete ~100 applies
// per second for reasons that have nothing to do with the store. The yield
// costs the same for every store (well under 1 ns per read).
func benchReads(b *testing.B, get func(string) (string, bool), keys []string) {
	b.ReportAllocs()
	var seed sync.Mutex
	next := 0
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		seed.Lock()
		i := next * 7919
		next++
		seed.Unlock()
		n := len(keys)
		for pb.Next() {
			if _, ok := get(keys[i%n]); !ok {
				b.Error("key missing: " + keys[i%n])
				return
			}
			i++
			if i%yieldEvery == 0 {
				runtime.Gosched()
			}
		}
	})
}

const yieldEvery = 1024

func reportWriter(b *testing.B, st writerStats, wall, procCPU time.Duration) {
	b.ReportMetric(float64(st.applies)/wall.Seconds(), "applies/s")
	behind := 0.0
	if st.expected > 0 && st.applies < st.expected {
		behind = 100 * float64(st.expected-st.applies) / float64(st.expected)
	}
	b.ReportMetric(behind, "writer-behind-%")
	if procCPU > 0 {
		b.ReportMetric(100*float64(st.cpu)/float64(procCPU), "writer-cpu-%")
	}
	if behind > 5 {
		b.Logf("writer fell behind its schedule: %d of %d applies completed (%.0f%% missed); ns/op measures readers competing with a saturated writer",
			st.applies, st.expected, behind)
	}
}

// BenchmarkApply measures one Apply of a prebuilt config of 1k, 10k or 100k
// keys into a store already holding the other version, alternating between
// two versions so every Apply changes every value. Building the snapshot is
// not timed: that cost is the parser's, equal for every store.
func BenchmarkApply(b *testing.B) {
	for _, keys := range []int{1_000, 10_000, 100_000} {
		tab := newValueTable(keys, 2)
		snaps := [2]*config.Snapshot{tab.build(0), tab.build(1)}
		for _, name := range Names() {
			b.Run("store="+name+"/keys="+strconv.Itoa(keys/1000)+"k", func(b *testing.B) {
				s, _ := New(name)
				s.Apply(snaps[0])
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					s.Apply(snaps[(i+1)%2])
				}
			})
		}
	}
}
