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
	b.WriteString(". Convergence: the change made (put or rename returned) → the last replica applied it, from the replicas' event logs. Full table and the decomposition of each replica's delay: [results/fleet/summary.md](results/fleet/summary.md); figure: `results/fleet/convergence.png` (CDF per source).\n\n")
	b.WriteString(mdtable.Header("source", "replicas", "keys", "convergence p50 / p99", "skew p50", "source delay p99", "waiting for a CPU p99", "missed / final behind / torn / reordered", "CPU per replica: idle, per update"))
	for _, s := range f.Series {
		b.WriteString(mdtable.Row(s.Source, fmt.Sprint(s.Replicas), mdtable.Thousands(s.Keys),
			mdtable.Millis(fleet.Quantile(s.Convergence, 0.5))+" / "+mdtable.Millis(fleet.Quantile(s.Convergence, 0.99)),
			mdtable.Millis(fleet.Quantile(s.Skew, 0.5)), mdtable.Millis(fleet.Quantile(s.SourceDelay, 0.99)), mdtable.Millis(fleet.Quantile(s.RunWait, 0.99)),
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
