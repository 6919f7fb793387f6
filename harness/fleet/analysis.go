package fleet

import (
	"fmt"
	"math"
	"time"

	"github.com/reloadlab/reloadlab/harness/stats"
	"github.com/reloadlab/reloadlab/strategies"
)

// Series is one source measured at one config size.
type Series struct {
	Source   string  `json:"source"`
	Keys     int     `json:"keys"`
	Replicas int     `json:"replicas"`
	Updates  int     `json:"updates"`
	Interval float64 `json:"interval_ms"` // mean time between updates (±20% jitter)

	// Convergence: change issued (the put or the file write began) →
	// every replica applied it, per update (ms). Missing for an update
	// some replica never applied.
	Convergence []float64 `json:"convergence_ms"`
	// Skew: first replica applied → last replica applied, per update (ms).
	Skew []float64 `json:"skew_ms"`
	// Apply: change issued → one replica applied it, per replica and
	// update (ms), and its parts: the source's own delay (change issued →
	// the trigger saw it: the write or put itself, then the notification),
	// the pipeline's CPU (read, parse, apply), and the rest of the run's
	// wall time, which is waiting: for a CPU (the replicas share this
	// machine's CPUs).
	Apply       []float64 `json:"apply_ms"`
	SourceDelay []float64 `json:"source_delay_ms"`
	RunCPU      []float64 `json:"run_cpu_ms"`
	RunWait     []float64 `json:"run_wait_ms"`
	// Write is the harness's write or put call per update (ms): the
	// rename pattern's write, fsync, rename and directory fsync, or an etcd
	// Put's round trip (a raft commit).
	Write []float64 `json:"write_ms"`

	Missed      int `json:"missed"`       // (replica, update) pairs never applied
	Torn        int `json:"torn"`         // applied content whose hash no update wrote
	Rejected    int `json:"rejected"`     // runs that rejected what they read (a half-written file would be)
	Reordered   int `json:"reordered"`    // applied runs whose revision or version is lower than the one before
	Coalesced   int `json:"coalesced"`    // applied runs started by an earlier update's notice (left out of source delay and waiting)
	FinalBehind int `json:"final_behind"` // replicas not serving the last update at the end

	CPU CPUCost `json:"cpu"`
	// Article is the article's chapter 4.2 loop run beside an etcd fleet.
	Article *ArticleOutcome `json:"article,omitempty"`
}

// CPUCost is what watching and applying cost each replica.
type CPUCost struct {
	// IdleMsPerS is CPU per second per replica while nothing changes.
	IdleMsPerS float64 `json:"idle_ms_per_s"`
	// PerUpdateMs is CPU per update per replica beyond the idle rate.
	PerUpdateMs float64 `json:"per_update_ms"`
	// Note says how it was measured.
	Note string `json:"note"`
}

// ArticleOutcome is what the article's loop did with the fleet's updates.
type ArticleOutcome struct {
	Notices  int    `json:"notices"`  // runs its watch events caused
	Applied  int    `json:"applied"`  // runs that applied a new config
	Serving  int64  `json:"serving"`  // the version it served at the end
	Last     int64  `json:"last"`     // the last version the fleet put
	Explains string `json:"explains"` // what it did, from its events
}

// Line is a one-line summary for progress output.
func (s *Series) Line() string {
	return fmt.Sprintf("%s, %d replica(s), %d keys: convergence p50 %s p99 %s ms, skew p50 %s ms, missed %d, torn %d, reordered %d; CPU idle %.2f ms/s, per update %.1f ms per replica",
		s.Source, s.Replicas, s.Keys, fmtMs(quantile(s.Convergence, 0.5)), fmtMs(quantile(s.Convergence, 0.99)), fmtMs(quantile(s.Skew, 0.5)),
		s.Missed, s.Torn, s.Reordered, s.CPU.IdleMsPerS, s.CPU.PerUpdateMs)
}

func quantile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return stats.Quantile(xs, p)
}

func fmtMs(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// analyse computes a series from the updates and the replicas' event logs.
func analyse(source string, keys int, every time.Duration, ups []Update, logs [][]strategies.Event) *Series {
	s := &Series{Source: source, Keys: keys, Replicas: len(logs), Updates: len(ups), Interval: ms(every)}
	written := map[string]bool{}
	byVersion := map[int64]Update{}
	for _, u := range ups {
		written[u.Hash] = true
		byVersion[u.Version] = u
	}
	first := ups[0].Start
	// applied[r][v] is replica r's run that applied version v.
	applied := make([]map[int64]strategies.Event, len(logs))
	for r, evs := range logs {
		applied[r] = map[int64]strategies.Event{}
		var prevRev, prevVer int64
		for _, e := range evs {
			if e.Detected.Before(first) && e.Outcome != strategies.Applied {
				continue
			}
			switch e.Outcome {
			case strategies.Rejected:
				if !e.Detected.Before(first) {
					s.Rejected++
				}
			case strategies.Applied:
				if e.Revision < prevRev || e.Version < prevVer {
					s.Reordered++
				}
				prevRev, prevVer = e.Revision, e.Version
				if e.ApplyEnd.Before(first) {
					continue // the initial load
				}
				if !written[e.Hash] {
					s.Torn++
				}
				applied[r][e.Version] = e
			}
		}
		// A replica whose log holds no applied run (a fault's window in
		// which it applied nothing) ends behind, too.
		final := int64(0)
		for _, e := range evs {
			if e.Outcome == strategies.Applied {
				final = e.Version
			}
		}
		if final != ups[len(ups)-1].Version {
			s.FinalBehind++
		}
	}
	for _, u := range ups {
		s.Write = append(s.Write, ms(u.End.Sub(u.Start)))
		var lo, hi time.Time
		all := true
		for r := range logs {
			e, ok := applied[r][u.Version]
			if !ok {
				s.Missed++
				all = false
				continue
			}
			s.Apply = append(s.Apply, ms(e.ApplyEnd.Sub(u.Start)))
			cpu := e.CPU.Read + e.CPU.Parse + e.CPU.Apply
			s.RunCPU = append(s.RunCPU, ms(cpu))
			if e.Detected.Before(u.Start) {
				// A coalesced run: an earlier notice, still pending, carried
				// this update; its Detected is that notice's, so it says
				// nothing about this update's source delay or wait.
				s.Coalesced++
			} else {
				s.SourceDelay = append(s.SourceDelay, ms(e.Detected.Sub(u.Start)))
				s.RunWait = append(s.RunWait, ms(e.ApplyEnd.Sub(e.Detected)-cpu))
			}
			if lo.IsZero() || e.ApplyEnd.Before(lo) {
				lo = e.ApplyEnd
			}
			if e.ApplyEnd.After(hi) {
				hi = e.ApplyEnd
			}
		}
		if all && !hi.IsZero() {
			s.Convergence = append(s.Convergence, ms(hi.Sub(u.Start)))
			s.Skew = append(s.Skew, ms(hi.Sub(lo)))
		}
	}
	return s
}

// cpuCost turns CPU readings before the idle period (c0), after it (c1)
// and after the updates (c2) into per-replica rates.
func cpuCost(c0, c1, c2 []time.Duration, idle, upd time.Duration, updates int) CPUCost {
	var idleSum, updSum time.Duration
	for i := range c0 {
		idleSum += c1[i] - c0[i]
		updSum += c2[i] - c1[i]
	}
	n := float64(len(c0))
	idleRate := ms(idleSum) / n / idle.Seconds() // ms per s per replica
	perUpd := (ms(updSum)/n - idleRate*upd.Seconds()) / float64(updates)
	return CPUCost{
		IdleMsPerS: idleRate, PerUpdateMs: perUpd,
		Note: fmt.Sprintf("time on a CPU of each replica process's threads (/proc/<pid>/task/*/schedstat, ns), averaged over %d replicas: idle over %.1f s with no change; per update over the %d updates (%.1f s), less the idle rate", len(c0), idle.Seconds(), updates, upd.Seconds()),
	}
}

// articleOutcome reads what the article's loop did.
func articleOutcome(st strategies.Status, ups []Update) *ArticleOutcome {
	a := &ArticleOutcome{Serving: st.Version, Last: ups[len(ups)-1].Version, Applied: int(st.Reloads)}
	first := ups[0].Start
	unchanged, rejected := 0, 0
	for _, e := range st.Events {
		if e.Detected.Before(first) {
			continue
		}
		switch e.Outcome {
		case strategies.Applied:
			a.Notices++
		case strategies.Unchanged:
			a.Notices++
			unchanged++
		case strategies.Rejected:
			a.Notices++
			rejected++
		}
	}
	switch {
	case a.Notices == 0:
		a.Explains = "its watch delivered no event for the fleet's key"
	case a.Applied == 0:
		a.Explains = fmt.Sprintf("its %d runs re-read the embedded file (fs.ReadFile(embedFS, path)) instead of the event's value: %d found the bytes it already served, %d were rejected; the fleet's puts never reached it", a.Notices, unchanged, rejected)
	case a.Serving == a.Last:
		a.Explains = "it applied the fleet's last version"
	default:
		a.Explains = fmt.Sprintf("it applied %d runs and serves version %d of %d", a.Applied, a.Serving, a.Last)
	}
	return a
}
