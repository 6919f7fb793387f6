package telemetry

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// Bucket is one non-empty histogram bucket delta: Count events with values
// in [Lo, Hi) seconds.
type Bucket struct {
	Lo, Hi float64
	Count  uint64
}

// MarshalJSON encodes a Bucket as [lo, hi, count].
func (b Bucket) MarshalJSON() ([]byte, error) {
	return json.Marshal([3]float64{b.Lo, b.Hi, float64(b.Count)})
}

// UnmarshalJSON decodes [lo, hi, count].
func (b *Bucket) UnmarshalJSON(data []byte) error {
	var a [3]float64
	if err := json.Unmarshal(data, &a); err != nil {
		return fmt.Errorf("telemetry: bucket: %w", err)
	}
	b.Lo, b.Hi, b.Count = a[0], a[1], uint64(a[2])
	return nil
}

// Mid returns the bucket's midpoint, the best point estimate of its values.
func (b Bucket) Mid() float64 { return (b.Lo + b.Hi) / 2 }

// Sample is one reading of the runtime's metrics.
type Sample struct {
	Seq  uint64 `json:"seq"`
	Time int64  `json:"t"` // wall clock, Unix nanoseconds

	Goroutines uint64 `json:"goroutines"` // /sched/goroutines:goroutines
	Waiting    uint64 `json:"waiting"`    // /sched/goroutines/waiting:goroutines (blocked: locks, channels, network, sleep)
	Runnable   uint64 `json:"runnable"`   // /sched/goroutines/runnable:goroutines
	Running    uint64 `json:"running"`    // /sched/goroutines/running:goroutines

	MutexWait   float64 `json:"mutex_wait_s"` // /sync/mutex/wait/total:seconds, cumulative
	HeapLive    uint64  `json:"heap_live"`    // /gc/heap/live:bytes
	HeapGoal    uint64  `json:"heap_goal"`    // /gc/heap/goal:bytes
	HeapObjects uint64  `json:"heap_objects"` // /gc/heap/objects:objects
	GCCycles    uint64  `json:"gc_cycles"`    // /gc/cycles/total:gc-cycles, cumulative
	CPU         int64   `json:"cpu_ns"`       // CPU time the process has used (CLOCK_PROCESS_CPUTIME_ID), cumulative ns; -1 if unreadable
	GCCPU       float64 `json:"gc_cpu_s"`     // /cpu/classes/gc/total:cpu-seconds, cumulative (the runtime's estimate)

	GCPauses     []Bucket `json:"gc_pauses,omitempty"`    // /sched/pauses/total/gc:seconds, delta
	OtherPauses  []Bucket `json:"other_pauses,omitempty"` // /sched/pauses/total/other:seconds, delta
	SchedLatency []Bucket `json:"sched_lat,omitempty"`    // /sched/latencies:seconds, delta
}

// At returns the sample's wall-clock time.
func (s Sample) At() time.Time { return time.Unix(0, s.Time) }

// WriteSamples writes samples as JSON Lines.
func WriteSamples(w io.Writer, samples []Sample) error {
	enc := json.NewEncoder(w)
	for i := range samples {
		if err := enc.Encode(&samples[i]); err != nil {
			return fmt.Errorf("telemetry: write sample %d: %w", samples[i].Seq, err)
		}
	}
	return nil
}

// ReadSamples reads JSON Lines written by WriteSamples; errors carry the
// line number.
func ReadSamples(r io.Reader) ([]Sample, error) {
	var out []Sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var s Sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return out, fmt.Errorf("telemetry: samples line %d: %w", line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("telemetry: read samples: %w", err)
	}
	return out, nil
}

// finite clamps an infinite histogram bound to the bucket's other bound.
func finite(v, other float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return max(other, 0)
	}
	return v
}
