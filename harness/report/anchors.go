package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/reloadlab/reloadlab/harness/anchors"
	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/mdtable"
)

// anchorRows are the strategies the Anchors section puts side by side:
// the lab's baseline and its most defended preset, then the anchors.
var anchorRows = []string{"atomic", "robust", anchors.NameNginx, anchors.NameCaddy}

// anchorsSection renders §3.6's anchors table from results/compare: dip,
// p99 in reload windows, failed requests and resets, and change → serving
// for the anchors beside atomic and robust, each with the comparison's
// verdict against the baseline.
func anchorsSection(in *Inputs) string {
	run := in.Compare
	const head = "\n### 3.6 Anchors: nginx and Caddy on the same bench\n\n"
	if run == nil || len(run.Points) == 0 {
		return head + "Not run: `make compare` writes `results/compare`.\n"
	}
	var present []string
	for _, a := range anchors.Names() {
		if slices.Contains(run.Strategies, a) {
			present = append(present, a)
		}
	}
	if len(present) == 0 {
		return head + "Not run: the committed comparison holds no anchor. `make anchors` installs nginx and builds Caddy, then `make compare STRATEGIES=…,nginx,caddy` includes them.\n"
	}
	pt := run.Points[0]
	var b strings.Builder
	b.WriteString(head)
	fmt.Fprintf(&b, "Command: `%s` (`%s`). The anchors ran in the same interleaved rounds as the lab's strategies, under the same load, windows and statistics: nginx (Debian package, reload = `nginx -t` then SIGHUP: new workers start, old ones drain) and Caddy v2.11.9 (reload = `POST /load` to its admin API), each pinned to the target's CPUs and answering with a body of the same shape as `httpsvc`'s. What an external process cannot give (execution traces, profiles, runtime/metrics, the pipeline's per-stage CPU) is not available for them and is not shown. Verdicts are against `%s` with the comparison's A/A floor and Holm-corrected tests, as in §3.1.\n\n",
		cmdCompare, run.Command, run.Baseline)
	b.WriteString(mdtable.Header("strategy", "capacity (closed model)", "QPS dip per reload", "latency p99 in reload windows", "failed in reload windows", "resets/EOFs in reload windows", "change → serving p50 (p99)", "→ last old-version response p50 (max)"))
	for _, s := range anchorRows {
		if !slices.Contains(run.Strategies, s) {
			continue
		}
		cv := pt.Clients[s]
		failed, resets, serving, old := "n/a", "n/a", "n/a", "–"
		if cv != nil {
			failed = fmt.Sprintf("%d of %d", cv.WindowFailed, cv.WindowRequests)
			resets = fmt.Sprint(cv.WindowConnectionResets)
			serving = fmt.Sprintf("%s (%s)", mdtable.Millis(float64(cv.ServingP50Ms)), mdtable.Millis(float64(cv.ServingP99Ms)))
			if cv.External {
				old = fmt.Sprintf("%s (%s)", mdtable.Millis(float64(cv.LastOldP50Ms)), mdtable.Millis(float64(cv.LastOldMaxMs)))
			}
		}
		b.WriteString(mdtable.Row("`"+s+"`", metricCell(pt, "capacity", s, "req/s"), dipCell(pt, s), metricCell(pt, "reload-p99", s, "ms"), failed, resets, serving, old))
	}
	b.WriteString("\nChange → serving is, for the lab's strategies, write finished → applied (the target's own events); for an anchor, change issued → first response carrying the new version, as the harness's probe saw it, and → the last response still carrying the old one (nginx's old workers keep answering on their keep-alive connections while they drain).\n")
	b.WriteString(anchorFindings(run, pt, present))
	return b.String()
}

// metricCell renders a metric's median with its verdict against the
// baseline.
func metricCell(pt compare.Point, metric, s, unit string) string {
	mr := pt.Metrics[metric]
	if mr == nil || mr.Strategies[s] == nil || math.IsNaN(mr.Strategies[s].Median) {
		return "not available"
	}
	st := mr.Strategies[s]
	v := fmt.Sprintf("%s %s", g(st.Median), unit)
	if st.Verdict != "" && st.Verdict != "baseline" {
		v += " (" + st.Verdict + ")"
	}
	return v
}

// dipCell renders a strategy's pooled closed-model dip with its interval
// and verdict.
func dipCell(pt compare.Point, s string) string {
	if pt.Dip == nil || pt.Dip.Strategies[s] == nil {
		return "not available"
	}
	d := pt.Dip.Strategies[s]
	e := d.Reload.DipPP
	if math.IsNaN(float64(e.Value)) {
		return "not available"
	}
	v := fmt.Sprintf("%.2f [%.2f, %.2f] pp", float64(e.Value), float64(e.Lo), float64(e.Hi))
	if d.Verdict != "" && d.Verdict != "baseline" {
		v += " (" + d.Verdict + ")"
	}
	return v
}

// anchorFindings states, from the data, what the anchors show against the
// baseline: failures and resets in windows, and serving times.
func anchorFindings(run *compare.Run, pt compare.Point, present []string) string {
	var out []string
	var fast []string // anchors whose capacity is far above the baseline's
	base := pt.Clients[run.Baseline]
	for _, a := range present {
		cv := pt.Clients[a]
		if cv == nil {
			continue
		}
		s := fmt.Sprintf("`%s`: %d failed request(s) in reload windows (%d connection resets/EOFs)", a, cv.WindowFailed, cv.WindowConnectionResets)
		if base != nil {
			s += fmt.Sprintf(" against %d for `%s`", base.WindowFailed, run.Baseline)
		}
		if cv.External && !math.IsNaN(float64(cv.LastOldMaxMs)) {
			s += fmt.Sprintf("; old-version responses for up to %s after the change", mdtable.Millis(float64(cv.LastOldMaxMs)))
		}
		if mr := pt.Metrics["capacity"]; mr != nil && mr.Strategies[a] != nil && mr.Strategies[run.Baseline] != nil {
			ratio := mr.Strategies[a].Median / mr.Strategies[run.Baseline].Median
			s += fmt.Sprintf("; capacity ×%.2f of `%s`'s", ratio, run.Baseline)
			if ratio > 1.5 {
				fast = append(fast, "`"+a+"`")
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return ""
	}
	note := ""
	if len(fast) > 0 {
		note = fmt.Sprintf(" %s served far more than the baseline: without the per-request CPU work the lab's target does (`-work`), the load generator, not the anchor, sets the closed-model rate, so a reload's CPU cost hardly shows as a dip there; latency in windows, failures and serving times are what compare.", strings.Join(fast, " and "))
	}
	return "\n" + strings.Join(out, ". ") + "." + note + "\n"
}
