package ledger

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/stats"
)

func TestLoadNamesTheMissingCommand(t *testing.T) {
	t.Parallel()
	_, err := Load(t.TempDir())
	require.Error(t, err)
	for _, want := range []string{"make compare", "make detect", "make micro"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestClaimQPSRule(t *testing.T) {
	t.Parallel()
	e := func(v, lo, hi float64) stats.Estimate { return stats.Estimate{Value: v, Lo: lo, Hi: hi} }
	withUtil := func(sat, open map[string]stats.Estimate) *Inputs {
		in := &Inputs{Sweeps: map[string]*compare.Run{}, Bench: map[string]*bench.Summary{}}
		in.Compare = &compare.Run{Baseline: "atomic", Strategies: []string{"atomic", "lockparse"}, Points: []compare.Point{{Dip: dips(sat)}}}
		if open != nil {
			in.Sweeps["util"] = &compare.Run{Baseline: "atomic", Strategies: []string{"atomic", "lockparse"},
				Points: []compare.Point{{Value: "0.5", OpenDip: dips(open)}}}
		}
		return in
	}
	tests := []struct {
		name    string
		in      *Inputs
		verdict string
		because string
	}{
		{"every strategy below 0.3 pp everywhere", withUtil(map[string]stats.Estimate{"atomic": e(0.1, 0, 0.2), "lockparse": e(0.2, 0.1, 0.29)}, map[string]stats.Estimate{"atomic": e(0, -0.1, 0.1), "lockparse": e(0, -0.1, 0.1)}), Confirmed, ""},
		{"every strategy above everywhere", withUtil(map[string]stats.Estimate{"atomic": e(3, 2.5, 3.5), "lockparse": e(4, 3, 5)}, nil), Refuted, ""},
		{"below capacity holds, saturation fails", withUtil(map[string]stats.Estimate{"atomic": e(3, 2.5, 3.5), "lockparse": e(4, 3, 5)}, map[string]stats.Estimate{"atomic": e(0, -0.1, 0.1), "lockparse": e(0.05, -0.1, 0.2)}), Depends, "holds for atomic at 50% of capacity (open model), lockparse at 50% of capacity (open model); fails for atomic at saturation (closed model), lockparse at saturation (closed model); unresolved for none"},
		{"too noisy to tell", withUtil(map[string]stats.Estimate{"atomic": e(0.3, -0.5, 1.1), "lockparse": e(0.3, -0.5, 1.1)}, nil), Depends, "unresolved for atomic at saturation"},
		{"no pooled dip", &Inputs{Compare: &compare.Run{Points: []compare.Point{{}}}, Sweeps: map[string]*compare.Run{}}, NotReproducible, "no pooled QPS dip"},
		{"no interval anywhere", withUtil(map[string]stats.Estimate{"atomic": stats.NoEstimate()}, nil), NotReproducible, "no strategy has a dip estimate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claimQPS(tt.in)
			assert.Equal(t, tt.verdict, c.Verdict)
			assert.Contains(t, c.Because, tt.because)
			assert.NotEmpty(t, c.Rule)
			assert.NotContains(t, c.Measured, "NaN")
		})
	}
}

func TestClaimPprofShareRule(t *testing.T) {
	t.Parallel()
	with := func(share stats.Estimate, during int) *Inputs {
		s := &bench.Summary{Strategy: "lockparse", GOMAXPROCS: 1}
		s.Goroutines = bench.GoroutineSummary{Profiles: 100, DuringReload: during, DuringParse: during, ShareDuringReload: share,
			ShareSteady: stats.Estimate{Value: 0.01, Lo: 0, Hi: 0.02}, ServingShareDuringReload: share, MaxShare: share.Hi, MaxInLock: 30, MeanTotal: 45}
		return &Inputs{Bench: map[string]*bench.Summary{"lockparse": s}}
	}
	tests := []struct {
		name    string
		in      *Inputs
		verdict string
	}{
		{"above 70%", with(stats.Estimate{Value: 0.8, Lo: 0.75, Hi: 0.85}, 10), Confirmed},
		{"below 70%", with(stats.Estimate{Value: 0.4, Lo: 0.35, Hi: 0.45}, 10), Refuted},
		{"straddles 70%", with(stats.Estimate{Value: 0.7, Lo: 0.6, Hi: 0.8}, 10), Depends},
		{"no profile caught a reload", with(stats.NoEstimate(), 0), NotReproducible},
		{"no lockparse run", &Inputs{Bench: map[string]*bench.Summary{}}, NotReproducible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claimPprofShare(tt.in)
			assert.Equal(t, tt.verdict, c.Verdict)
			assert.NotEmpty(t, c.Rule)
			if tt.verdict != NotReproducible {
				assert.Contains(t, c.Measured, "Goroutine profiles")
			}
		})
	}
}
