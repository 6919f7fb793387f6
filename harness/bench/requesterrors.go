package bench

import (
	"sort"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/load"
	"github.com/reloadlab/reloadlab/harness/target"
)

// RequestErrors counts the load generator's failed requests as a client
// saw them (vegeta's error string for each, sorted by target.ClassifyError),
// over the measured phases (throughput and latency) and in the reload
// windows among them. A request is in a window when the time from its send
// to its failure (or completion) overlaps one.
type RequestErrors struct {
	Requests         int            `json:"requests"`
	Failed           int            `json:"failed"`
	ConnectionResets int            `json:"connection_resets"` // resets and EOFs: the server closed the connection under the request
	ByClass          map[string]int `json:"by_class,omitempty"`

	WindowRequests         int            `json:"window_requests"`
	WindowFailed           int            `json:"window_failed"`
	WindowConnectionResets int            `json:"window_connection_resets"`
	WindowByClass          map[string]int `json:"window_by_class,omitempty"`
	// Windows says what a reload window is for this run.
	Windows string `json:"windows"`
}

// shotWindows returns the merged windows [Start − Lead, End + Tail) of the
// shots of kind reload, every one of them (overlapping shots are not
// dropped here, unlike in the paired estimate).
func shotWindows(shots []analysis.Shot, g analysis.Geometry) analysis.Windows {
	var spans []analysis.Span
	for _, s := range shots {
		if s.Kind == analysis.KindReload {
			spans = append(spans, analysis.Span{From: s.Start - int64(g.Lead), To: s.End + int64(g.Tail)})
		}
	}
	return mergeSpans(spans)
}

// mergeSpans sorts spans and merges those that overlap or touch.
func mergeSpans(spans []analysis.Span) analysis.Windows {
	sort.Slice(spans, func(i, j int) bool { return spans[i].From < spans[j].From })
	var out analysis.Windows
	for _, s := range spans {
		if n := len(out); n > 0 && s.From <= out[n-1].To {
			out[n-1].To = max(out[n-1].To, s.To)
			continue
		}
		out = append(out, s)
	}
	return out
}

// overlaps reports whether [from, to] meets a window of w.
func overlaps(w analysis.Windows, from, to int64) bool {
	i := sort.Search(len(w), func(i int) bool { return w[i].To > from })
	return i < len(w) && w[i].From <= to
}

// countErrors counts the requests of phases, and their failures, overall
// and in windows.
func countErrors(phases []*load.Result, windows analysis.Windows, what string) RequestErrors {
	re := RequestErrors{ByClass: map[string]int{}, WindowByClass: map[string]int{}, Windows: what}
	for _, ph := range phases {
		if ph == nil {
			continue
		}
		classes := make([]string, len(ph.Errors))
		for i, e := range ph.Errors {
			classes[i] = target.ClassifyError(e)
		}
		for _, r := range ph.Recs {
			in := overlaps(windows, r.Start, r.End())
			re.Requests++
			if in {
				re.WindowRequests++
			}
			if r.Err < 0 {
				continue
			}
			class := target.ErrOther
			if int(r.Err) < len(classes) {
				class = classes[r.Err]
			}
			conn := target.IsConnectionError(class)
			re.Failed++
			re.ByClass[class]++
			if conn {
				re.ConnectionResets++
			}
			if in {
				re.WindowFailed++
				re.WindowByClass[class]++
				if conn {
					re.WindowConnectionResets++
				}
			}
		}
	}
	return re
}
