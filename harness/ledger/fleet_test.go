package ledger

import (
	"github.com/reloadlab/reloadlab/harness/fleet"
)

// fleetCases drive the F rows through their verdicts.
func fleetCases() []ledgerCase {
	// series builds an etcd series at keys whose every replica applies in
	// oneMs and whose fleet converges in p99Ms; wait is the waiting time.
	series := func(keys int, oneMs, p99Ms float64, missed int) *fleet.Series {
		return &fleet.Series{Source: fleet.SourceEtcd, Keys: keys, Replicas: 16, Updates: 3,
			Apply: []float64{oneMs, oneMs, oneMs}, Convergence: []float64{p99Ms, p99Ms, p99Ms},
			SourceDelay: []float64{oneMs / 2, oneMs / 2, oneMs / 2}, RunWait: []float64{p99Ms, p99Ms, p99Ms}, RunCPU: []float64{3, 3, 3}, Missed: missed}
	}
	solo := func(oneMs float64) *fleet.Series {
		s := series(1000, oneMs, oneMs, 0)
		s.Replicas = 1
		return s
	}
	sum := func(ss []*fleet.Series, faults []fleet.Fault, article *fleet.ArticleOutcome) *Inputs {
		return with(func(in *Inputs) {
			if article != nil && len(ss) > 0 {
				ss[0].Article = article
			}
			in.Fleet = &fleet.Summary{Replicas: 16, Updates: 3, Series: ss, Faults: faults}
		})
	}
	fast := func() []*fleet.Series {
		return []*fleet.Series{solo(1), series(1000, 1, 20, 0), series(10000, 2, 40, 0)}
	}
	cpuBound := func() []*fleet.Series {
		return []*fleet.Series{solo(1), series(1000, 1, 20, 0), series(10000, 3, 400, 0)}
	}
	slow := func() []*fleet.Series {
		s := []*fleet.Series{solo(12), series(1000, 20, 90, 0), series(10000, 30, 400, 2)}
		s[2].FinalBehind = 1
		return s
	}
	clean := []fleet.Fault{{Name: "kill-leader"}, {Name: "replica-paused"}}
	skips := []fleet.Fault{{Name: "kill-leader"}, {Name: "replica-paused", Skipped: 3}}
	broken := []fleet.Fault{{Name: "kill-leader", Reordered: 1, FinalBehind: 2}, {Name: "replica-paused", Skipped: 3}}
	reorder := func() []*fleet.Series {
		s := fast()
		s[1].Reordered, s[1].Missed = 1, 4
		return s
	}
	return []ledgerCase{
		{"fast at every size", "F1", sum(fast(), nil, nil), Confirmed},
		{"CPU-bound at 10k keys", "F1", sum(cpuBound(), nil, nil), Depends},
		{"slow at every size", "F1", sum(slow(), nil, nil), Refuted},
		{"no fleet results", "F1", empty(), NotReproducible},

		{"in order, nothing skipped", "F2", sum(fast(), clean, nil), Confirmed},
		{"a paused replica skips", "F2", sum(fast(), skips, nil), Depends},
		{"reordered, missed, skipped, behind", "F2", sum(reorder(), broken, nil), Refuted},
		{"no fleet results", "F2", empty(), NotReproducible},

		{"the loop serves the last put", "F3", sum(fast(), nil, &fleet.ArticleOutcome{Notices: 3, Applied: 3, Serving: 4, Last: 4}), Confirmed},
		{"the loop applies nothing", "F3", sum(fast(), nil, &fleet.ArticleOutcome{Notices: 3, Applied: 0, Serving: 1, Last: 4}), Refuted},
		{"the loop applies some", "F3", sum(fast(), nil, &fleet.ArticleOutcome{Notices: 3, Applied: 1, Serving: 2, Last: 4}), Depends},
		{"its watch never fired", "F3", sum(fast(), nil, &fleet.ArticleOutcome{Last: 4, Serving: 1}), NotReproducible},
	}
}
