package analysis

import (
	"sort"
	"time"
)

// Window bounds around an applied reload.
const (
	WindowBefore = 100 * time.Millisecond
	WindowAfter  = 400 * time.Millisecond
)

// Span is a half-open time interval [From, To) in Unix nanoseconds.
type Span struct{ From, To int64 }

// Dur returns the span's length.
func (s Span) Dur() time.Duration { return time.Duration(s.To - s.From) }

// Windows is a sorted set of disjoint spans.
type Windows []Span

// NewWindows returns the merged windows [t−before, t+after) around each
// instant (Unix ns).
func NewWindows(instants []int64, before, after time.Duration) Windows {
	spans := make([]Span, 0, len(instants))
	for _, t := range instants {
		spans = append(spans, Span{t - int64(before), t + int64(after)})
	}
	return merge(spans)
}

// merge sorts spans and merges those that overlap or touch.
func merge(spans []Span) Windows {
	sort.Slice(spans, func(i, j int) bool { return spans[i].From < spans[j].From })
	var out Windows
	for _, s := range spans {
		if n := len(out); n > 0 && s.From <= out[n-1].To {
			out[n-1].To = max(out[n-1].To, s.To)
			continue
		}
		out = append(out, s)
	}
	return out
}

// Contains reports whether t falls inside a window.
func (w Windows) Contains(t int64) bool {
	i := sort.Search(len(w), func(i int) bool { return w[i].To > t })
	return i < len(w) && w[i].From <= t
}

// Total returns the windows' total length.
func (w Windows) Total() time.Duration {
	var d int64
	for _, s := range w {
		d += s.To - s.From
	}
	return time.Duration(d)
}

// Within returns the total window time inside span.
func (w Windows) Within(span Span) time.Duration {
	var d int64
	for _, s := range w {
		lo, hi := max(s.From, span.From), min(s.To, span.To)
		if hi > lo {
			d += hi - lo
		}
	}
	return time.Duration(d)
}
