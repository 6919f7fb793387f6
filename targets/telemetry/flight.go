package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/trace"
	"sync"
	"time"
)

// Defaults for the FlightRecorder.
const (
	// DefaultMinAge is how much history the flight recorder keeps: about
	// twice the span of interest around a reload.
	DefaultMinAge = 2 * time.Second
	// DefaultMaxBytes bounds the flight recorder's buffer.
	DefaultMaxBytes = 32 << 20
	// DefaultCaptureAfter is how long after a reload the snapshot is
	// written, so the window covers the reload and what followed it (the
	// lab's reload window ends 400 ms after the apply).
	DefaultCaptureAfter = 500 * time.Millisecond
	// DefaultCaptures is how many reloads are captured after Start.
	DefaultCaptures = 3
	// DefaultKeepSnapshots bounds the snapshots held in memory.
	DefaultKeepSnapshots = 8
)

// FlightConfig configures a flight-recording session. Zero fields take the
// defaults above.
type FlightConfig struct {
	MinAge       time.Duration
	MaxBytes     uint64
	CaptureAfter time.Duration
	Captures     int
}

// Snapshot is one captured trace window.
type Snapshot struct {
	Seq       uint64    `json:"seq"`
	ReloadSeq uint64    `json:"reload_seq"` // the reload event it was captured for
	Version   int64     `json:"version"`
	Reload    time.Time `json:"reload"`   // when the reload was applied
	Captured  time.Time `json:"captured"` // when the snapshot was written
	Bytes     int       `json:"bytes"`
	Error     string    `json:"error,omitempty"`
	data      []byte
}

// FlightRecorder captures runtime/trace flight-recorder snapshots around
// reloads. The zero value is not usable; call NewFlightRecorder. Safe for
// concurrent use.
type FlightRecorder struct {
	keep int

	mu        sync.Mutex
	fr        *trace.FlightRecorder
	cfg       FlightConfig
	remaining int
	snaps     []Snapshot
	next      uint64
	pending   sync.WaitGroup
	writeMu   sync.Mutex // one WriteTo at a time
}

// NewFlightRecorder returns a stopped FlightRecorder that keeps at most keep
// snapshots (DefaultKeepSnapshots if <= 0).
func NewFlightRecorder(keep int) *FlightRecorder {
	if keep <= 0 {
		keep = DefaultKeepSnapshots
	}
	return &FlightRecorder{keep: keep}
}

// Start starts flight recording; the next cfg.Captures reloads are captured.
func (f *FlightRecorder) Start(cfg FlightConfig) error {
	if cfg.MinAge <= 0 {
		cfg.MinAge = DefaultMinAge
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.CaptureAfter <= 0 {
		cfg.CaptureAfter = DefaultCaptureAfter
	}
	if cfg.Captures <= 0 {
		cfg.Captures = DefaultCaptures
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fr != nil {
		return errors.New("telemetry: flight recorder already running")
	}
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: cfg.MinAge, MaxBytes: cfg.MaxBytes})
	if err := fr.Start(); err != nil {
		return fmt.Errorf("telemetry: start flight recorder: %w", err)
	}
	f.fr, f.cfg, f.remaining = fr, cfg, cfg.Captures
	return nil
}

// Stop waits for scheduled captures, then stops flight recording.
func (f *FlightRecorder) Stop() {
	f.pending.Wait()
	f.mu.Lock()
	fr := f.fr
	f.fr = nil
	f.mu.Unlock()
	if fr != nil {
		f.writeMu.Lock()
		fr.Stop()
		f.writeMu.Unlock()
	}
}

// Running reports whether flight recording is on.
func (f *FlightRecorder) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fr != nil
}

// OnReload schedules a capture for a reload applied at applied, if recording
// is on and captures remain. It returns at once.
func (f *FlightRecorder) OnReload(reloadSeq uint64, version int64, applied time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fr == nil || f.remaining <= 0 {
		return
	}
	f.remaining--
	fr, after := f.fr, f.cfg.CaptureAfter
	f.pending.Add(1)
	time.AfterFunc(after, func() {
		defer f.pending.Done()
		snap := Snapshot{ReloadSeq: reloadSeq, Version: version, Reload: applied}
		var buf bytes.Buffer
		f.writeMu.Lock()
		_, err := fr.WriteTo(&buf)
		f.writeMu.Unlock()
		snap.Captured = time.Now()
		if err != nil {
			snap.Error = err.Error()
		}
		snap.data = buf.Bytes()
		snap.Bytes = len(snap.data)
		f.mu.Lock()
		f.next++
		snap.Seq = f.next
		f.snaps = append(f.snaps, snap)
		if len(f.snaps) > f.keep {
			f.snaps = f.snaps[len(f.snaps)-f.keep:]
		}
		f.mu.Unlock()
	})
}

// Wait blocks until every scheduled capture has been written.
func (f *FlightRecorder) Wait() { f.pending.Wait() }

// Snapshots lists the kept snapshots, oldest first.
func (f *FlightRecorder) Snapshots() []Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Snapshot(nil), f.snaps...)
}

// Data returns the trace bytes of snapshot seq (0: the newest).
func (f *FlightRecorder) Data(seq uint64) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.snaps) - 1; i >= 0; i-- {
		if seq == 0 || f.snaps[i].Seq == seq {
			return f.snaps[i].data, true
		}
	}
	return nil, false
}
