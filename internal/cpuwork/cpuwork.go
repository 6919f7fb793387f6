// Package cpuwork spends known amounts of CPU on purpose: a per-request
// work knob that lowers a target's capacity into the load generator's
// reach (as a real handler's work does), and a burn that injects an exact
// CPU cost into a reload so that the lab can check what its estimators
// recover (calibration).
//
// Two ways of spending are offered, for two needs:
//
//   - Work is a fixed amount of computation (a calibrated count of
//     iterations of an integer mixing loop). It costs the same CPU every
//     time on the same machine, whatever the scheduler does, and measuring
//     it costs nothing: right for a hot path.
//   - Burn spins until the calling OS thread has consumed d of CPU time,
//     read from the kernel's per-thread CPU clock
//     (CLOCK_THREAD_CPUTIME_ID). Time spent descheduled does not count, so
//     the cost injected is d of CPU exactly (to the clock's resolution and
//     the last check's granularity), even on a busy machine.
//
// ThreadCPU reads the same clock, for accounting the CPU a piece of code
// spends (the reload pipeline's stages).
package cpuwork

import (
	"runtime"
	"slices"
	"time"
)

// Work is a calibrated amount of computation. The zero value does nothing.
type Work struct {
	iterations uint64
	perMicro   float64 // iterations per µs measured by Calibrate
}

// sink keeps the compiler from removing the mixing loop.
var sink uint64

// spin runs n iterations of a cheap integer mix (splitmix64 steps).
func spin(n uint64) uint64 {
	x := n
	for i := uint64(0); i < n; i++ {
		x += 0x9e3779b97f4a7c15
		x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
		x ^= x >> 31
	}
	return x
}

// IterationsPerMicrosecond measures how many mixing iterations one CPU
// runs in a microsecond: the best of several trials on a locked thread
// timed by its CPU clock, so time descheduled is not counted.
func IterationsPerMicrosecond() float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const n = 200_000
	var rates []float64
	for trial := 0; trial < 9; trial++ {
		t0 := ThreadCPU()
		sink += spin(n)
		d := ThreadCPU() - t0
		if d > 0 {
			rates = append(rates, n/(float64(d)/1e3))
		}
	}
	if len(rates) == 0 {
		return 1000 // a clock without resolution; a plausible guess
	}
	slices.Sort(rates)
	return rates[len(rates)/2]
}

// NewWork returns the Work that costs about d of CPU on this machine, at
// perMicro iterations per microsecond (IterationsPerMicrosecond).
func NewWork(d time.Duration, perMicro float64) Work {
	if d <= 0 || perMicro <= 0 {
		return Work{}
	}
	return Work{iterations: uint64(float64(d.Microseconds()) * perMicro), perMicro: perMicro}
}

// Do spends the work's CPU on the calling goroutine.
func (w Work) Do() {
	if w.iterations > 0 {
		sink += spin(w.iterations)
	}
}

// Iterations returns the work's iteration count (0 for none).
func (w Work) Iterations() uint64 { return w.iterations }

// Nominal returns the CPU time the work was calibrated to cost.
func (w Work) Nominal() time.Duration {
	if w.perMicro <= 0 {
		return 0
	}
	return time.Duration(float64(w.iterations) / w.perMicro * 1e3)
}

// Burn spends d of CPU time on the calling goroutine's OS thread and
// returns the CPU time actually spent (at least d unless the thread's CPU
// clock is unavailable, in which case it falls back to wall time). It locks
// the goroutine to its thread while it runs.
func Burn(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := ThreadCPU()
	if start < 0 {
		t0 := time.Now()
		for time.Since(t0) < d {
			sink += spin(256)
		}
		return time.Since(t0)
	}
	for {
		sink += spin(256) // about a microsecond or less between checks
		if spent := ThreadCPU() - start; spent >= d {
			return spent
		}
	}
}
