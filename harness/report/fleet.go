package report

import (
	"fmt"
	"strings"

	"github.com/reloadlab/reloadlab/harness/fleet"
	"github.com/reloadlab/reloadlab/harness/mdtable"
)

// fleetSection renders the fleet's convergence table and fault outcomes
// from results/fleet.
func fleetSection(in *Inputs) string {
	f := in.Fleet
	if f == nil {
		return "\n### 3.5 Fleet: one config source, many replicas\n\nNot run: `make fleet` writes `results/fleet`, and `make report` then includes it here.\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n### 3.5 Fleet: one config source, many replicas\n\nCommand: `make fleet` (`%s`, %s). %d replica processes (`targets/httpsvc`) on this machine's %d CPUs (each source also measured with one replica alone), %d updates per source and size, each source fed the same configs: ",
		f.Made, f.Date, f.Replicas, f.Machine.NumCPU, f.Updates)
	var src []string
	for _, n := range fleet.SourceNames() {
		if d, ok := f.Sources[n]; ok {
			src = append(src, fmt.Sprintf("`%s`, %s", n, d))
		}
	}
	b.WriteString(strings.Join(src, "; "))
	b.WriteString(". Convergence: the change issued (the harness begins the put or the file write) → the last replica applied it, from the replicas' event logs. Full table and the decomposition of each replica's delay: [results/fleet/summary.md](results/fleet/summary.md); figure: `results/fleet/convergence.png` (CDF per source).\n\n")
	b.WriteString(mdtable.Header("source", "replicas", "keys", "convergence p50 / p99", "skew p50", "write/put call p50", "source delay p99", "waiting for a CPU p99", "missed / final behind / torn / reordered", "CPU per replica: idle, per update"))
	for _, s := range f.Series {
		b.WriteString(mdtable.Row(s.Source, fmt.Sprint(s.Replicas), mdtable.Thousands(s.Keys),
			mdtable.Millis(fleet.Quantile(s.Convergence, 0.5))+" / "+mdtable.Millis(fleet.Quantile(s.Convergence, 0.99)),
			mdtable.Millis(fleet.Quantile(s.Skew, 0.5)), mdtable.Millis(fleet.Quantile(s.Write, 0.5)), mdtable.Millis(fleet.Quantile(s.SourceDelay, 0.99)), mdtable.Millis(fleet.Quantile(s.RunWait, 0.99)),
			fmt.Sprintf("%d / %d / %d / %d", s.Missed, s.FinalBehind, s.Torn, s.Reordered),
			fmt.Sprintf("%.2f ms/s, %.1f ms", s.CPU.IdleMsPerS, s.CPU.PerUpdateMs)))
	}
	if len(f.Faults) > 0 {
		b.WriteString("\nFaults (three etcd members, the etcd trigger, the same replicas):\n\n")
		b.WriteString(mdtable.Header("fault", "what was done", "outcome"))
		for _, x := range f.Faults {
			b.WriteString(mdtable.Row(x.Name, x.What, x.Outcome))
		}
	}
	return b.String()
}

// fleetVerdict is §1's paragraph on the config source, from results/fleet.
func fleetVerdict(in *Inputs) string {
	f := in.Fleet
	if f == nil || len(f.Series) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n**Source.** %d replicas on this machine's %d CPUs, fed the same updates from one source (`make fleet`):\n\n", f.Replicas, f.Machine.NumCPU)
	sizes := map[int]bool{}
	var order []int
	for _, s := range f.Series {
		if s.Replicas == f.Replicas && !sizes[s.Keys] {
			sizes[s.Keys] = true
			order = append(order, s.Keys)
		}
	}
	for _, k := range order {
		var parts []string
		best, bestP := "", 0.0
		for _, n := range fleet.SourceNames() {
			s := f.Find(n, k)
			if s == nil {
				continue
			}
			p99 := fleet.Quantile(s.Convergence, 0.99)
			parts = append(parts, fmt.Sprintf("`%s` %s (source delay p99 %s, waiting for a CPU p99 %s, %d final behind)", n, mdtable.Millis(p99), mdtable.Millis(fleet.Quantile(s.SourceDelay, 0.99)), mdtable.Millis(fleet.Quantile(s.RunWait, 0.99)), s.FinalBehind))
			if best == "" || p99 < bestP {
				best, bestP = n, p99
			}
		}
		fmt.Fprintf(&b, "- %s keys, convergence p99: %s; lowest: `%s`.\n", mdtable.Thousands(k), strings.Join(parts, "; "), best)
	}
	if len(f.Faults) > 0 {
		ok, reordered := 0, 0
		for _, x := range f.Faults {
			if x.FinalBehind == 0 {
				ok++
			}
			reordered += x.Reordered
		}
		fmt.Fprintf(&b, "\nUnder %d faults on three etcd members (leader killed, etcd down, compaction while a replica was stopped or cut off, a replica paused), every replica ended on the last revision in %d, and %d applied revision(s) went back (ledger F2).\n", len(f.Faults), ok, reordered)
	}
	return b.String()
}
