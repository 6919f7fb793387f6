package reload

import (
	"errors"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// sink receives one trigger's notices, errors and degradation notes.
type sink[T any] struct {
	r     *Reloader[T]
	index int    // the trigger's index in r.triggers
	name  string // the trigger's name
}

var (
	_ trigger.DegradedSink = (*sink[int])(nil)
	_ trigger.StaleSink    = (*sink[int])(nil)
)

// Fire coalesces notices: while one is pending, later ones merge into it,
// keeping the earliest detection time and any request to rescan.
func (s *sink[T]) Fire(n trigger.Notice) {
	r := s.r
	r.pendMu.Lock()
	if r.pending == nil {
		r.pending = &n
	} else {
		if n.Seen.Before(r.pending.Seen) {
			r.pending.Seen = n.Seen
		}
		r.pending.Rescan = r.pending.Rescan || n.Rescan
	}
	r.pendMu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Error records a non-fatal trigger error.
func (s *sink[T]) Error(err error) {
	ev := Event{Outcome: TriggerError, Trigger: s.name, Reason: "trigger error", Err: err, Detected: time.Now()}
	ev = s.r.record(ev, func(st *Status) {
		st.TriggerErrors++
		if errors.Is(err, fsnotify.ErrEventOverflow) {
			st.Overflows++
		}
		st.LastError, st.LastErrorAt = err.Error(), ev.Detected
	})
	s.r.notify(ev)
}

// Degraded records the trigger's new degradation note ("" when restored).
func (s *sink[T]) Degraded(note string) {
	r := s.r
	ev := Event{Outcome: Degraded, Trigger: s.name, Reason: "degraded", Degraded: note, Detected: time.Now()}
	if note == "" {
		ev.Reason = "back to full strength"
	}
	ev = r.record(ev, func(st *Status) {
		r.degraded[s.index] = note
		var notes []string
		for _, n := range r.degraded {
			if n != "" {
				notes = append(notes, n)
			}
		}
		st.Degraded = strings.Join(notes, "; ")
	})
	r.notify(ev)
}

// Stale records the start of a stale episode, the file replaced where the
// trigger cannot follow (one Stale event, Status.StaleReports counts it), or
// its end (reason ""), which clears that reason from Status.Stale without an
// event: the rescan the trigger fires then reports the file's state.
func (s *sink[T]) Stale(reason string) {
	r := s.r
	if reason == "" {
		r.mu.Lock()
		r.followStale = ""
		r.deriveStale()
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	same := r.followStale == reason
	r.mu.Unlock()
	if same {
		return // the same episode, reported again
	}
	ev := Event{Outcome: Stale, Trigger: s.name, Reason: "file replaced where the trigger cannot follow", Detected: time.Now()}
	ev = r.record(ev, func(st *Status) {
		r.followStale = reason
		st.StaleReports++
	})
	r.notify(ev)
}
