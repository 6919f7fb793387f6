package compare

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/stats"
)

// Where a ClientView's change → serving time comes from.
const (
	ServingFromEvents = "write finished → applied (the target's reload events)"
	ServingFromProbe  = "change issued → first new-version response (the harness's probe)"
)

// ClientView is what clients saw of one strategy's reloads at one point,
// every round pooled: the load generator's failed requests and connection
// resets/EOFs in reload windows and overall (bench.RequestErrors), and how
// long a change took to be served.
type ClientView struct {
	External bool `json:"external"` // an external target (an anchor)
	Runs     int  `json:"runs"`

	Requests               int `json:"requests"`
	Failed                 int `json:"failed"`
	ConnectionResets       int `json:"connection_resets"`
	WindowRequests         int `json:"window_requests"`
	WindowFailed           int `json:"window_failed"`
	WindowConnectionResets int `json:"window_connection_resets"`

	// ServingFrom says what ServingP50Ms and ServingP99Ms measure
	// (ServingFromEvents or ServingFromProbe); each is the median over
	// rounds of every run's own p50 or p99, in ms.
	ServingFrom  string    `json:"serving_from"`
	ServingP50Ms stats.Num `json:"serving_p50_ms"`
	ServingP99Ms stats.Num `json:"serving_p99_ms"`
	// LastOldP50Ms is an external target's change issued → last
	// old-version response (median over rounds of each run's p50) and
	// LastOldMaxMs the longest in any run; null for the lab's own target,
	// which serves one version per request by construction.
	LastOldP50Ms stats.Num `json:"last_old_p50_ms"`
	LastOldMaxMs stats.Num `json:"last_old_max_ms"`
}

// clientViews pools every strategy's runs into a ClientView.
func clientViews(runs map[string][]bench.Summary) map[string]*ClientView {
	out := map[string]*ClientView{}
	for name, ss := range runs {
		cv := &ClientView{Runs: len(ss), ServingFrom: ServingFromEvents}
		var p50, p99, old50 []float64
		oldMax := math.NaN()
		for _, s := range ss {
			e := s.Errors
			cv.Requests += e.Requests
			cv.Failed += e.Failed
			cv.ConnectionResets += e.ConnectionResets
			cv.WindowRequests += e.WindowRequests
			cv.WindowFailed += e.WindowFailed
			cv.WindowConnectionResets += e.WindowConnectionResets
			if es := s.External; es != nil {
				cv.External, cv.ServingFrom = true, ServingFromProbe
				if es.FirstNewMs.N > 0 {
					p50, p99 = append(p50, es.FirstNewMs.P50), append(p99, es.FirstNewMs.P99)
				}
				if es.LastOldMs.N > 0 {
					old50 = append(old50, es.LastOldMs.P50)
					if !(es.LastOldMs.Max <= oldMax) {
						oldMax = es.LastOldMs.Max
					}
				}
				continue
			}
			if d := s.Results.Reloads.DetectionMs; d.N > 0 {
				p50, p99 = append(p50, d.P50), append(p99, d.P99)
			}
		}
		cv.ServingP50Ms, cv.ServingP99Ms = stats.Num(stats.Quantile(p50, 0.5)), stats.Num(stats.Quantile(p99, 0.5))
		cv.LastOldP50Ms, cv.LastOldMaxMs = stats.Num(math.NaN()), stats.Num(math.NaN())
		if cv.External {
			cv.LastOldP50Ms, cv.LastOldMaxMs = stats.Num(stats.Quantile(old50, 0.5)), stats.Num(oldMax)
		}
		out[name] = cv
	}
	return out
}

// clientTable renders the client view of every strategy.
func clientTable(b *strings.Builder, run *Run, cvs map[string]*ClientView) {
	if len(cvs) == 0 {
		return // a comparison made before the lab counted failures
	}
	b.WriteString("### What clients saw around reloads\n\n")
	b.WriteString("Every round pooled. Failed requests are the load generator's (vegeta's error for each: a transport error, or a status outside 2xx/3xx), in the throughput and latency phases; a request is in a reload window when its send-to-answer time overlaps one. Connection resets/EOFs are the failures where the server closed the connection under the request. Change → serving is the median over rounds of each run's p50 (p99): for the lab's strategies, write finished → applied (the target's own reload events); for an external target (an anchor), change issued → first new-version response, and → last old-version response, as the harness's probe saw them.\n\n")
	b.WriteString("| strategy | failed in reload windows | resets/EOFs in reload windows | failed overall | resets/EOFs overall | change → serving p50 (p99), ms | → last old-version response p50 (max), ms | measured as |\n|---|---|---|---|---|---|---|---|\n")
	names := append(append([]string(nil), run.Strategies...), aaName(run.Baseline))
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	var extra []string
	for n := range cvs {
		if !seen[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	for _, name := range append(names, extra...) {
		cv := cvs[name]
		if cv == nil {
			continue
		}
		old := "–"
		if cv.External {
			old = fmt.Sprintf("%s (%s)", format(float64(cv.LastOldP50Ms)), format(float64(cv.LastOldMaxMs)))
		}
		fmt.Fprintf(b, "| %s | %d of %d | %d | %d of %d | %d | %s (%s) | %s | %s |\n", name, cv.WindowFailed, cv.WindowRequests, cv.WindowConnectionResets,
			cv.Failed, cv.Requests, cv.ConnectionResets, format(float64(cv.ServingP50Ms)), format(float64(cv.ServingP99Ms)), old, cv.ServingFrom)
	}
	b.WriteString("\n")
}
