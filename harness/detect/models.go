package detect

import (
	"fmt"
	"slices"
	"strings"
)

// realModels maps each real-tool pattern to the model pattern it checks
// (as writepattern's descriptions say).
var realModels = []struct{ real, model string }{
	{"vim-real", "vim"},
	{"sed-real", "rename"},
	{"cp-real", "inplace"},
	{"mv-real", "rename"},
	{"tar-real", "copy-preserve-mtime"},
}

// ModelCheck compares a real tool's row with its model's on one file
// system: the events on the config file and the columns' verdicts.
type ModelCheck struct {
	FS    string `json:"fs"`
	Real  string `json:"real"`
	Model string `json:"model"`
	// RealEvents and ModelEvents are the distinct events on the config
	// name (and ..data) the directory witness saw, plus what the file-path
	// witness saw.
	RealEvents  string `json:"real_events"`
	ModelEvents string `json:"model_events"`
	// Differ lists the columns whose verdict differs: missed or torn
	// counts apart by at least half the trials (at least 3), more than
	// trial-to-trial noise.
	Differ []string `json:"differ,omitempty"`
	Agrees bool     `json:"agrees"` // same events and same verdicts
}

// checkModels compares every real-tool row that ran with its model's row.
func checkModels(m *Matrix) []ModelCheck {
	var out []ModelCheck
	for _, f := range m.FileSystems {
		if f.Error != "" {
			continue
		}
		for _, rm := range realModels {
			r, mo := m.Row(f.Name, rm.real), m.Row(f.Name, rm.model)
			if r == nil || mo == nil {
				continue
			}
			mc := ModelCheck{FS: f.Name, Real: rm.real, Model: rm.model,
				RealEvents: configEvents(r), ModelEvents: configEvents(mo)}
			for _, col := range m.Columns {
				a, b := m.Cell(f.Name, rm.real, col.Name), m.Cell(f.Name, rm.model, col.Name)
				if a == nil || b == nil {
					continue
				}
				// A difference counts when it is clearly larger than the
				// peers' trial-to-trial noise (a race lost in 3 of 10
				// trials one run and 5 the next): half the trials, at
				// least 3.
				noise := max(3, min(a.Trials, b.Trials)/2)
				switch {
				case abs(a.Missed-b.Missed) >= noise:
					mc.Differ = append(mc.Differ, fmt.Sprintf("%s (missed %d/%d with the tool, %d/%d with the model)", col.Name, a.Missed, a.Trials, b.Missed, b.Trials))
				case abs(a.Torn-b.Torn) >= noise:
					mc.Differ = append(mc.Differ, fmt.Sprintf("%s (torn %d with the tool, %d with the model)", col.Name, a.Torn, b.Torn))
				}
			}
			mc.Agrees = mc.RealEvents == mc.ModelEvents && len(mc.Differ) == 0
			out = append(out, mc)
		}
	}
	return out
}

// configEvents summarises what the witnesses saw of the config file: the
// directory watch's events on the config name and ..data, then the
// file-path watch's, as "dir: …; file: …".
func configEvents(r *Row) string {
	var dir []string
	for _, k := range sortedTally(r.DirEvents) {
		if concernsConfig(k) {
			dir = append(dir, k)
		}
	}
	slices.Sort(dir)
	file := sortedTally(r.FileEvents)
	slices.Sort(file)
	return "dir: " + orNone(strings.Join(dir, ", ")) + "; file: " + orNone(strings.Join(file, ", "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
