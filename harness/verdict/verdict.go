// Package verdict holds the clear verdicts REPORT.md states, in a form a
// later run can check: `lab report` derives them from the committed results
// and writes results/verdicts.json; `lab reproduce` re-measures (a quick
// compare and a reduced detect matrix) and checks each one.
//
// # Kinds
//
//	compare      a strategy is better or worse than the baseline on a metric
//	             (Mann-Whitney p < 0.05 and beyond the A/A noise floor).
//	             Clear when the difference is more than twice the noise
//	             floor; only clear ones are asserted. A re-run flips the
//	             verdict if its medians differ in the opposite direction.
//	detect-zero  a column misses (or tears) nothing in any cell. A re-run
//	             flips it if any re-measured cell of that column misses
//	             (tears).
//	detect-miss  a column misses a pattern on a file system in every trial.
//	             A re-run flips it if the re-measured cell detected the last
//	             version in every trial.
//	detect-stale a column reports a cell stale in every trial (the file was
//	             replaced where the process cannot follow, and it says so).
//	             A re-run flips it if no trial of the cell was reported.
//
// A trial reported stale does not count against detect-zero "missed": the
// column was not silent.
//
// # Format (results/verdicts.json)
//
// A JSON object {"made_by": "...", "verdicts": [Verdict, ...]}, fields as in
// the Verdict struct's json tags.
package verdict

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/detect"
)

// Kinds of verdict.
const (
	KindCompare    = "compare"
	KindDetectZero = "detect-zero"
	KindDetectMiss = "detect-miss"
	// KindDetectStale: a column reports a cell stale in every trial (it
	// says it cannot follow the change, never misses in silence).
	KindDetectStale = "detect-stale"
)

// Verdict is one checkable statement.
type Verdict struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Statement string `json:"statement"`
	Clear     bool   `json:"clear"` // asserted by reproduce; false = "not checked (within noise)"
	// compare
	Metric    string  `json:"metric,omitempty"`
	Strategy  string  `json:"strategy,omitempty"`
	Baseline  string  `json:"baseline,omitempty"`
	Direction string  `json:"direction,omitempty"` // "better" or "worse"
	Ratio     float64 `json:"ratio,omitempty"`
	P         float64 `json:"p,omitempty"`
	Noise     float64 `json:"noise_floor,omitempty"` // relative A/A noise floor
	// NoiseLog and NoiseAbs are the A/A floor the verdict was judged
	// against: in log ratio, or in the metric's unit where only absolute
	// differences could be judged. A re-run whose effect falls below one
	// floor has lost it (Vanished).
	NoiseLog float64 `json:"noise_floor_log,omitempty"`
	// Sign is +1 when the strategy's median lies above the baseline's, −1
	// below: the side a re-run must still reach to keep the effect.
	Sign     int     `json:"sign,omitempty"`
	NoiseAbs float64 `json:"noise_floor_abs,omitempty"`
	// detect
	Column  string `json:"column,omitempty"`
	What    string `json:"what,omitempty"` // "missed" or "torn"
	FS      string `json:"fs,omitempty"`
	Pattern string `json:"pattern,omitempty"`
	Cells   int    `json:"cells,omitempty"` // cells the statement rests on
}

// File is results/verdicts.json.
type File struct {
	MadeBy   string    `json:"made_by"`
	Verdicts []Verdict `json:"verdicts"`
}

// Encode returns the bytes Write puts in the file.
func (f File) Encode() ([]byte, error) {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("verdict: encode: %w", err)
	}
	return append(data, '\n'), nil
}

// Read reads a verdicts file.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("verdict: %w", err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("verdict: %s: %w", path, err)
	}
	return &f, nil
}

// clearFactor: a compare verdict is clear when its effect exceeds this many
// noise floors.
const clearFactor = 2

// FromCompare derives the compare verdicts: every significant difference
// at the first point of run.
func FromCompare(run *compare.Run) []Verdict {
	if run == nil || len(run.Points) == 0 {
		return nil
	}
	pt := run.Points[0]
	var out []Verdict
	for _, m := range run.Metrics {
		mr := pt.Metrics[m.Name]
		if mr == nil {
			continue
		}
		for _, s := range run.Strategies {
			st := mr.Strategies[s]
			if st == nil || (st.Verdict != "better" && st.Verdict != "worse") {
				continue
			}
			v := Verdict{
				ID: "compare/" + m.Name + "/" + s, Kind: KindCompare, Metric: m.Name, Strategy: s, Baseline: run.Baseline,
				Direction: st.Verdict, Ratio: st.Ratio, P: st.P,
			}
			if base := mr.Strategies[run.Baseline]; base != nil {
				switch {
				case st.Median > base.Median:
					v.Sign = 1
				case st.Median < base.Median:
					v.Sign = -1
				}
			}
			if isFinite(float64(mr.Noise.Relative)) {
				v.Noise = float64(mr.Noise.Relative) // none where only absolute differences were judged
			}
			if isFinite(st.Ratio) && st.Ratio > 0 && isFinite(float64(mr.Noise.Log)) {
				v.NoiseLog = float64(mr.Noise.Log)
				v.Clear = math.Abs(math.Log(st.Ratio)) > clearFactor*float64(mr.Noise.Log)
				v.Statement = fmt.Sprintf("%s: %s is %s than %s (×%.2f, p=%.3f, Holm %.3f, noise floor ×%.2f either way)", m.Title, s, st.Verdict, run.Baseline, st.Ratio, st.P, st.PHolm, math.Exp(float64(mr.Noise.Log)))
			} else {
				v.Ratio = 0
				if isFinite(mr.Noise.Absolute) {
					v.NoiseAbs = mr.Noise.Absolute
				}
				v.Clear = math.Abs(st.Diff) > clearFactor*mr.Noise.Absolute
				v.Statement = fmt.Sprintf("%s: %s is %s than %s (%+.3g %s vs a baseline of 0, p=%.3f)", m.Title, s, st.Verdict, run.Baseline, st.Diff, m.Unit, st.P)
			}
			out = append(out, v)
		}
	}
	return out
}

// FromDetect derives the detect verdicts: columns that miss or tear nothing
// anywhere, and cells where a column missed every trial.
func FromDetect(m *detect.Matrix) []Verdict {
	if m == nil {
		return nil
	}
	type agg struct{ cells, missed, torn int }
	cols := map[string]*agg{}
	var out []Verdict
	for _, c := range m.Cells {
		a := cols[c.Column]
		if a == nil {
			a = &agg{}
			cols[c.Column] = a
		}
		if c.Trials == 0 {
			continue
		}
		a.cells++
		if c.Changes {
			a.missed += c.Silent() // stale reported is not silent
		}
		a.torn += c.Torn
		if c.Changes && c.Silent() == c.Trials && c.StartFailed == 0 {
			out = append(out, Verdict{
				ID: "detect/miss/" + c.Column + "/" + c.FS + "/" + c.Pattern, Kind: KindDetectMiss, Clear: true,
				Statement: fmt.Sprintf("%s misses the %s pattern on %s in silence (%d/%d trials)", c.Column, c.Pattern, c.FS, c.Silent(), c.Trials),
				Column:    c.Column, What: "missed", FS: c.FS, Pattern: c.Pattern, Cells: 1,
			})
		}
		if c.Changes && c.StaleReported == c.Trials && c.StartFailed == 0 {
			out = append(out, Verdict{
				ID: "detect/stale/" + c.Column + "/" + c.FS + "/" + c.Pattern, Kind: KindDetectStale, Clear: true,
				Statement: fmt.Sprintf("%s reports the %s pattern on %s stale in every trial (%d/%d): it says it cannot follow, never silent", c.Column, c.Pattern, c.FS, c.StaleReported, c.Trials),
				Column:    c.Column, What: "stale", FS: c.FS, Pattern: c.Pattern, Cells: 1,
			})
		}
	}
	names := make([]string, 0, len(cols))
	for n := range cols {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := cols[n]
		if a.cells == 0 {
			continue
		}
		if a.missed == 0 {
			out = append(out, Verdict{ID: "detect/zero-missed/" + n, Kind: KindDetectZero, Clear: true, Column: n, What: "missed", Cells: a.cells,
				Statement: fmt.Sprintf("%s misses nothing silently in any of its %d cells", n, a.cells)})
		}
		if a.torn == 0 {
			out = append(out, Verdict{ID: "detect/zero-torn/" + n, Kind: KindDetectZero, Clear: true, Column: n, What: "torn", Cells: a.cells,
				Statement: fmt.Sprintf("%s applies no torn content in any of its %d cells", n, a.cells)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
