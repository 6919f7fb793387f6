package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/ledger"
	"github.com/reloadlab/reloadlab/harness/stats"
)

// Inputs are the committed results the report is made from (the ledger's).
type Inputs = ledger.Inputs

// Claim is one row of the claims ledger.
type Claim = ledger.Claim

// Commands that produce each results directory.
const (
	cmdCompare = "make compare"
	cmdDetect  = "make detect"
	cmdMicro   = "make micro"
)

func cmdBench(s string) string { return "make bench STRATEGY=" + s }

func stat(run *compare.Run, metric, strategy string) *compare.Stat {
	return ledger.Stat(run, metric, strategy)
}

func fin(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// g formats a figure for prose (ledger.FormatNum).
func g(v float64) string { return ledger.FormatNum(v) }

// estString formats an estimate as "v [lo, hi]".
func estString(e stats.Estimate) string {
	if !fin(e.Value) {
		return "n/a"
	}
	if !e.Valid() {
		return g(e.Value)
	}
	return fmt.Sprintf("%s [%s, %s]", g(e.Value), g(e.Lo), g(e.Hi))
}

func pctEstString(e stats.Estimate) string { return e.Format(100, 0, "%") }

func pctString(v string) string {
	var f float64
	if _, err := fmt.Sscan(v, &f); err != nil {
		return v
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

func ci(st *compare.Stat) string { return ledger.FormatStat(st) }

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// firstPoint returns a comparison's first point, or an empty point when it
// has none, so that a report renders (with "n/a") from empty results.
func firstPoint(run *compare.Run) compare.Point {
	if run == nil || len(run.Points) == 0 {
		return compare.Point{Metrics: map[string]*compare.MetricResult{}}
	}
	return run.Points[0]
}

// sampleText names a QPS sample length ("1 s", "500 ms").
func sampleText(ms float64) string {
	if fin(ms) && ms >= 1000 {
		return fmt.Sprintf("%g s", ms/1000)
	}
	return fmt.Sprintf("%g ms", ms)
}
