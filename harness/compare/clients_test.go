package compare

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/bench"
)

func TestFillAcceptsAnchors(t *testing.T) {
	t.Parallel()
	cfg := Config{Strategies: []string{"atomic", "robust", "nginx", "caddy"}}
	require.NoError(t, fill(&cfg))
	assert.Equal(t, []string{"atomic", "robust", "nginx", "caddy"}, cfg.Strategies)
	assert.Equal(t, "atomic", cfg.Baseline, "the A/A pair stays on the lab's baseline")
	err := fill(&Config{Strategies: []string{"haproxy"}})
	require.ErrorContains(t, err, "nginx, caddy", "an unknown name lists the anchors too")
}

// run returns a summary with errors, and either the lab's detection times
// or an external target's probe times.
func clientRun(external bool, winFailed, resets int, servingP50 float64) bench.Summary {
	var s bench.Summary
	s.GOMAXPROCS = 1
	s.Errors = bench.RequestErrors{Requests: 1000, Failed: winFailed + 1, ConnectionResets: resets, WindowRequests: 100, WindowFailed: winFailed, WindowConnectionResets: resets}
	s.Results.Throughput.CapacityRPS = 5000
	s.Results.Torn.Requests = 0
	s.Results.Throughput.Shots = []analysis.ShotCost{{Kind: analysis.KindReload, LostMs: 2}, {Kind: analysis.KindReload, LostMs: 4}}
	if external {
		s.External = &bench.ExternalSummary{
			FirstNewMs: analysis.Quantiles{N: 5, P50: servingP50, P99: 2 * servingP50},
			LastOldMs:  analysis.Quantiles{N: 5, P50: 100, Max: 150 + servingP50},
		}
		return s
	}
	s.Results.Reloads.DetectionMs = analysis.Quantiles{N: 5, P50: servingP50, P99: 3 * servingP50}
	return s
}

func TestClientViews(t *testing.T) {
	t.Parallel()
	runs := map[string][]bench.Summary{
		"atomic":       {clientRun(false, 0, 0, 10), clientRun(false, 0, 0, 12), clientRun(false, 0, 0, 11)},
		"atomic (A/A)": {clientRun(false, 0, 0, 10)},
		"caddy":        {clientRun(true, 3, 2, 20), clientRun(true, 1, 1, 30), clientRun(true, 2, 0, 25)},
	}
	cvs := clientViews(runs)
	a := cvs["atomic"]
	assert.False(t, a.External)
	assert.Equal(t, 3, a.Runs)
	assert.Equal(t, ServingFromEvents, a.ServingFrom)
	assert.InDelta(t, 11, float64(a.ServingP50Ms), 1e-9, "median over rounds of each run's p50")
	assert.InDelta(t, 33, float64(a.ServingP99Ms), 1e-9)
	assert.True(t, math.IsNaN(float64(a.LastOldP50Ms)), "not a measurement of the lab's target")
	assert.Equal(t, 300, a.WindowRequests)

	c := cvs["caddy"]
	assert.True(t, c.External)
	assert.Equal(t, ServingFromProbe, c.ServingFrom)
	assert.Equal(t, 6, c.WindowFailed)
	assert.Equal(t, 3, c.WindowConnectionResets)
	assert.Equal(t, 9, c.Failed)
	assert.Equal(t, 3000, c.Requests)
	assert.InDelta(t, 25, float64(c.ServingP50Ms), 1e-9)
	assert.InDelta(t, 100, float64(c.LastOldP50Ms), 1e-9)
	assert.InDelta(t, 180, float64(c.LastOldMaxMs), 1e-9, "the longest of any run")

	data, err := json.Marshal(c)
	require.NoError(t, err)
	var back ClientView
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, *c, back)

	var b strings.Builder
	clientTable(&b, &Run{Baseline: "atomic", Strategies: []string{"atomic", "caddy"}}, cvs)
	md := b.String()
	assert.Contains(t, md, "### What clients saw around reloads")
	assert.Contains(t, md, "| caddy | 6 of 300 | 3 | 9 of 3000 | 3 | 25.0 (50.0) | 100 (180) | "+ServingFromProbe+" |")
	assert.Contains(t, md, "| atomic | 0 of 300 | 0 | 3 of 3000 | 0 | 11.0 (33.0) | – | "+ServingFromEvents+" |")
	assert.Contains(t, md, "| atomic (A/A) |")
	b.Reset()
	clientTable(&b, &Run{}, nil)
	assert.Empty(t, b.String(), "a comparison made before the client view: no table")
}

func TestExternalRunsInMetricsAndDips(t *testing.T) {
	t.Parallel()
	goRun, ext := clientRun(false, 0, 0, 10), clientRun(true, 0, 0, 10)
	for _, m := range Metrics() {
		if internalMetrics[m.Name] {
			assert.True(t, math.IsNaN(m.value(ext)), "%s is not available for an external target", m.Name)
			assert.False(t, math.IsNaN(m.value(goRun)), "%s of the lab's target", m.Name)
			continue
		}
		assert.Equal(t, m.Value(ext), m.value(ext), m.Name)
	}
	assert.Len(t, internalMetrics, 7)
	for name := range internalMetrics {
		found := false
		for _, m := range metrics {
			found = found || m.Name == name
		}
		assert.True(t, found, "internal metric %q is a metric", name)
	}

	runs := map[string][]bench.Summary{"atomic": {goRun, goRun}, "atomic (A/A)": {goRun, goRun}, "nginx": {ext, ext}}
	agg := aggregate(runs, []string{"atomic", "nginx"}, "atomic")
	assert.Equal(t, "not available", agg["detect"].Strategies["nginx"].Verdict)
	assert.True(t, math.IsNaN(agg["detect"].Strategies["nginx"].Median))
	assert.Equal(t, "–", cell(agg["detect"].Strategies["nginx"]))
	assert.NotEqual(t, "not available", agg["capacity"].Strategies["nginx"].Verdict)
	assert.InDelta(t, 5000, agg["capacity"].Strategies["nginx"].Median, 1e-9)
	dc := poolDips(runs, []string{"atomic", "nginx"}, "atomic", closedShots)
	n := dc.Strategies["nginx"]
	require.NotNil(t, n)
	assert.True(t, n.External)
	assert.Equal(t, 4, n.Reload.N)
	assert.InDelta(t, 3, n.Reload.LostMs.Value, 1e-9)
	assert.True(t, math.IsNaN(float64(n.Reload.PredictedPP)), "no CPU accounting to predict from")
	assert.Empty(t, n.Stages)
	data, err := json.Marshal(n)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	assert.Nil(t, m["reload"].(map[string]any)["cpu_ms"], "null, not zero")
	assert.Equal(t, true, m["external"])
	var back DipStat
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, 4, back.Reload.N)

	a := dc.Strategies["atomic"]
	assert.False(t, a.External)
	data, err = json.Marshal(a)
	require.NoError(t, err)
	m = nil
	require.NoError(t, json.Unmarshal(data, &m))
	assert.NotNil(t, m["reload"].(map[string]any)["cpu_ms"])
	assert.NotContains(t, m, "external")
}
