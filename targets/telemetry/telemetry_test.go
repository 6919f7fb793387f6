package telemetry

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/exp/trace"
)

func TestSamplerSeesForcedGC(t *testing.T) {
	s := NewSampler(5*time.Millisecond, 1000)
	s.Start()
	defer s.Stop()
	// Wait for samples rather than for a fixed time: on a loaded machine the
	// sampler may not run for a while.
	var before []Sample
	require.Eventually(t, func() bool { before = s.Since(0); return len(before) > 0 }, 10*time.Second, 5*time.Millisecond)
	last := before[len(before)-1].Seq
	runtime.GC()
	cycles := before[0].GCCycles
	var after []Sample
	require.Eventually(t, func() bool {
		after = s.Since(last)
		return len(after) > 0 && after[len(after)-1].GCCycles > cycles
	}, 10*time.Second, 5*time.Millisecond, "the sampler must see the forced GC cycle")
	var pauses uint64
	for _, smp := range after {
		assert.Greater(t, smp.Seq, last)
		for _, b := range smp.GCPauses {
			pauses += b.Count
			assert.LessOrEqual(t, b.Lo, b.Hi)
		}
	}
	// One GC cycle stops the world twice (sweep termination, mark termination).
	assert.GreaterOrEqual(t, pauses, uint64(2), "a forced GC must show up as pause deltas")
	assert.Greater(t, after[len(after)-1].GCCycles, before[0].GCCycles)
	assert.Positive(t, after[0].Goroutines)
	assert.Positive(t, after[0].HeapGoal)

	var buf bytes.Buffer
	require.NoError(t, WriteSamples(&buf, after))
	back, err := ReadSamples(&buf)
	require.NoError(t, err)
	assert.Equal(t, after, back)
}

func TestSamplerRingBounded(t *testing.T) {
	s := NewSampler(time.Millisecond, 5)
	for i := 0; i < 12; i++ {
		s.read(time.Now(), true)
	}
	got := s.Since(0)
	require.Len(t, got, 5)
	assert.Equal(t, uint64(8), got[0].Seq)
	assert.Equal(t, uint64(12), got[4].Seq)
	assert.Len(t, s.Since(10), 2)
}

func TestReadSamplesReportsLine(t *testing.T) {
	_, err := ReadSamples(bytes.NewBufferString("{\"seq\":1}\n[1,2\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2")
}

// TestFlightRecorderCapturesReload checks that a capture scheduled for a
// reload produces a trace that parses and contains the reload's log.
func TestFlightRecorderCapturesReload(t *testing.T) {
	f := NewFlightRecorder(2)
	require.NoError(t, f.Start(FlightConfig{MinAge: 200 * time.Millisecond, CaptureAfter: 50 * time.Millisecond, Captures: 1}))
	require.Error(t, f.Start(FlightConfig{}), "a second Start must fail")
	f.OnReload(7, 3, time.Now())
	f.OnReload(8, 4, time.Now()) // no captures left: ignored
	f.Wait()
	f.Stop()
	assert.False(t, f.Running())
	snaps := f.Snapshots()
	require.Len(t, snaps, 1)
	assert.Equal(t, uint64(7), snaps[0].ReloadSeq)
	assert.Empty(t, snaps[0].Error)
	data, ok := f.Data(0)
	require.True(t, ok)
	require.NotEmpty(t, data)

	r, err := trace.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	n := 0
	for {
		if _, err := r.ReadEvent(); err != nil {
			break
		}
		n++
	}
	assert.Positive(t, n, "the snapshot must hold trace events")
}
