package strategies

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Outcome is what one pipeline run did.
type Outcome string

// Outcomes.
const (
	// Applied: the file was valid and new; the store serves it now.
	Applied Outcome = "applied"
	// Rejected: the file could not be read, parsed or validated; the old
	// config keeps serving.
	Rejected Outcome = "rejected"
	// Unchanged: the content hash equals the serving config's or the last
	// rejected file's; nothing was parsed or applied. Recorded like the
	// others, so what a trigger firing on an unchanged file costs (notice,
	// read, hash) can be measured.
	Unchanged Outcome = "unchanged"
	// TriggerError: the trigger reported a non-fatal problem (an fsnotify
	// error, a lost watch). No file was read.
	TriggerError Outcome = "trigger-error"
	// Stale: the trigger found that the file the process reads has been
	// replaced where it cannot follow (a single-file bind mount or a
	// Kubernetes subPath whose source was replaced: the path's inode has
	// st_nlink 0). Reason says what and what to do; no file was read and the
	// old config keeps serving. Recorded once per stale episode; the
	// episode ends when the trigger can follow the file again (Status.Stale
	// is then cleared).
	Stale Outcome = "stale"
)

// Event records one pipeline run, trigger error or stale report.
type Event struct {
	Seq         uint64    `json:"seq"`
	Outcome     Outcome   `json:"outcome"`
	Version     int64     `json:"version"`      // applied version; for other outcomes the version still serving
	PrevVersion int64     `json:"prev_version"` // version serving before the run
	Trigger     string    `json:"trigger"`
	Reason      string    `json:"reason"`               // what the trigger saw (Stale: why the file cannot be followed, and what to do)
	Detected    time.Time `json:"detected"`             // when the trigger first saw the change
	ReadStart   time.Time `json:"read_start"`           // when the pipeline began reading
	ApplyStart  time.Time `json:"apply_start,omitzero"` // Applied only
	ApplyEnd    time.Time `json:"apply_end,omitzero"`   // Applied only
	Finished    time.Time `json:"finished,omitzero"`    // when the run ended (runs only: not TriggerError or Stale)
	CPU         StageCPU  `json:"cpu"`                  // CPU time the run spent, by stage
	Bytes       int       `json:"bytes"`
	Keys        int       `json:"keys"`
	Hash        string    `json:"hash,omitempty"`     // hex SHA-256 of the content read
	Revision    int64     `json:"revision,omitempty"` // the store revision of the value read (a trigger.Source such as etcd), 0 for files
	Error       string    `json:"error,omitempty"`    // why it was rejected, or the trigger error
}

// StageCPU is the CPU time one pipeline run spent in each stage, read from
// the kernel's per-thread CPU clock of the OS thread the run was locked to
// (CLOCK_THREAD_CPUTIME_ID): time the run was descheduled does not count,
// and neither does garbage collection done by the runtime's own workers
// (GC assists the run performed while allocating do count, in the stage
// that allocated). Measured is false where the clock is unavailable (not
// Linux); the durations are then 0.
type StageCPU struct {
	Measured bool          `json:"measured"`
	Read     time.Duration `json:"read_ns"`  // read the file, hash it, compare hashes
	Parse    time.Duration `json:"parse_ns"` // parse and validate
	Apply    time.Duration `json:"apply_ns"` // the store's Apply (for a RawApplier: its work outside the parse)
	Extra    time.Duration `json:"extra_ns"` // a cost injected on purpose (WithExtraCost)
}

// Total returns the CPU of all stages.
func (c StageCPU) Total() time.Duration { return c.Read + c.Parse + c.Apply + c.Extra }

// ApplyDuration returns ApplyEnd − ApplyStart (0 unless Applied).
func (e Event) ApplyDuration() time.Duration {
	if e.ApplyStart.IsZero() {
		return 0
	}
	return e.ApplyEnd.Sub(e.ApplyStart)
}

// WriteEvents writes events as JSON Lines.
func WriteEvents(w io.Writer, events []Event) error {
	enc := json.NewEncoder(w)
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			return fmt.Errorf("strategies: write event %d: %w", events[i].Seq, err)
		}
	}
	return nil
}

// ReadEvents reads JSON Lines written by WriteEvents. Errors carry the line
// number.
func ReadEvents(r io.Reader) ([]Event, error) {
	var out []Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, fmt.Errorf("strategies: events line %d: %w", line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("strategies: read events: %w", err)
	}
	return out, nil
}

// eventRing keeps the most recent events.
type eventRing struct {
	mu   sync.Mutex
	buf  []Event
	next uint64 // sequence number of the next event
}

func newEventRing(n int) *eventRing { return &eventRing{buf: make([]Event, 0, n)} }

// add assigns e its sequence number, stores it and returns it.
func (r *eventRing) add(e Event) Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	e.Seq = r.next
	if len(r.buf) < cap(r.buf) {
		r.buf = append(r.buf, e)
	} else {
		r.buf[int((e.Seq-1)%uint64(cap(r.buf)))] = e
	}
	return e
}

// since returns the kept events with Seq > after, oldest first.
func (r *eventRing) since(after uint64) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Event, 0, len(r.buf))
	n := uint64(len(r.buf))
	for s := r.next - n + 1; s <= r.next && n > 0; s++ {
		if s > after {
			out = append(out, r.buf[int((s-1)%uint64(cap(r.buf)))])
		}
	}
	return out
}
