// Package ledger is the claims ledger: every testable claim of the
// article, judged against the committed results by a rule over data.
//
// # Verdicts
//
// One vocabulary for every row, whichever lab measured it:
//
//	confirmed               the data meet the claim's rule for confirmation
//	refuted                 the data meet its rule for refutation
//	depends                 part of the claim holds and part does not, or it
//	                        holds under some conditions only (Because says which)
//	not reproducible here   the data needed are missing, or this machine
//	                        cannot produce them (Because says which and why)
//
// # Rules
//
// Every row carries its Rule: one line that says when it is confirmed,
// refuted and depends. The verdict and the Because text are computed from
// the results by that rule; nothing in them is fixed text that would read
// the same whatever the data said. What no data here can decide (why a
// mechanism behaves as it does, what a reader should conclude) goes into
// Interpretation, which REPORT.md prints apart from the verdict.
//
// Many claims bundle several statements. Their judges split them into
// parts (see part), each decided by the data; the verdict is confirmed when
// every part holds, refuted when none does, and depends otherwise, with
// Because naming the parts that hold and those that fail.
//
// # Inputs
//
// Load reads the results directory (results/compare, results/detect,
// results/micro, and when present the bench runs, sweeps, calibrations and
// results/viperenv). A required file that is missing, or any file that is
// present but corrupt, is an error naming the file.
package ledger

import (
	"fmt"
	"strings"
)

// Verdicts of the ledger.
const (
	Confirmed       = "confirmed"
	Refuted         = "refuted"
	Depends         = "depends"
	NotReproducible = "not reproducible here"
)

// Verdicts lists the vocabulary in the order REPORT.md counts it.
func Verdicts() []string { return []string{Confirmed, Refuted, Depends, NotReproducible} }

// Claim is one row of the ledger.
type Claim struct {
	ID       string `json:"id"`
	Section  string `json:"section"`  // where in the article
	Claim    string `json:"claim"`    // what it says (translated)
	Measured string `json:"measured"` // what the lab measured, with figures
	Command  string `json:"command"`  // the command that measured it
	Verdict  string `json:"verdict"`  // one of Verdicts()
	Because  string `json:"because"`  // for depends: on what; for not reproducible: why; else the deciding figures
	Rule     string `json:"rule"`     // how the verdict follows from the data, in one line
	// Interpretation is commentary no data here decides; printed apart
	// from the verdict.
	Interpretation string `json:"interpretation,omitempty"`
	// Cells are the detect cells (fs/pattern/column) or experiments whose
	// measurement contradicts the claim.
	Cells []string `json:"cells,omitempty"`
}

// Claims judges every claim against in: the load and micro benchmarks' P
// rows, the detection matrix's D rows, then the E rows of the smaller
// experiments.
func Claims(in *Inputs) []Claim {
	out := []Claim{claimQPS(in), claimLockTable(in), claimSwitchCost(in), claimSyncMapTable(in), claimDirFS(in), claimPprofTrace(in), claimConfigMapTable(in), claimPprofShare(in)}
	out = append(out, detectClaims(in.Detect)...)
	out = append(out, claimViperEnv(in))
	out = append(out, fleetClaims(in)...)
	return out
}

// Count tallies claims by verdict.
func Count(claims []Claim) map[string]int {
	out := map[string]int{}
	for _, c := range claims {
		out[c.Verdict]++
	}
	return out
}

// part is one decidable statement inside a claim.
type part struct {
	what  string // the statement, as the Because text names it
	holds bool
	known bool // false: the data for this part are missing
	why   string
}

// decide sets c's verdict from its parts: not reproducible when no part
// could be decided, confirmed when every decided part holds, refuted when
// none does, depends otherwise. Parts without data are named in Because.
func (c *Claim) decide(parts ...part) {
	var holds, fails, unknown []string
	for _, p := range parts {
		s := p.what
		if p.why != "" {
			s += " (" + p.why + ")"
		}
		switch {
		case !p.known:
			unknown = append(unknown, s)
		case p.holds:
			holds = append(holds, s)
		default:
			fails = append(fails, s)
		}
	}
	var because []string
	switch {
	case len(holds)+len(fails) == 0:
		c.Verdict = NotReproducible
		c.Because = "no data for " + strings.Join(unknown, "; ")
		return
	case len(fails) == 0:
		c.Verdict = Confirmed
		because = append(because, "holds: "+strings.Join(holds, "; "))
	case len(holds) == 0:
		c.Verdict = Refuted
		because = append(because, "fails: "+strings.Join(fails, "; "))
	default:
		c.Verdict = Depends
		because = append(because, "holds: "+strings.Join(holds, "; "), "fails: "+strings.Join(fails, "; "))
	}
	if len(unknown) > 0 {
		because = append(because, "not measured: "+strings.Join(unknown, "; "))
	}
	c.Because = strings.Join(because, ". ")
}

// missing marks c not reproducible for want of the named results.
func (c *Claim) missing(format string, args ...any) Claim {
	c.Verdict, c.Because = NotReproducible, fmt.Sprintf(format, args...)
	return *c
}
