package fleet

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reloadlab/reloadlab/harness/machine"
	"github.com/reloadlab/reloadlab/harness/mdtable"
	"github.com/reloadlab/reloadlab/harness/plots"
	"github.com/reloadlab/reloadlab/harness/results"
)

// Result file names.
const (
	SummaryJSON    = "summary.json"
	SummaryMD      = "summary.md"
	ConvergencePNG = "convergence.png"
)

// Summary is results/fleet/summary.json.
type Summary struct {
	Machine  machine.Info      `json:"machine"`
	Made     string            `json:"made"`
	Date     string            `json:"date"`
	Replicas int               `json:"replicas"`
	Updates  int               `json:"updates"`
	Quick    bool              `json:"quick"`
	Sources  map[string]string `json:"sources"` // name → how it delivers a change
	Series   []*Series         `json:"series"`
	Faults   []Fault           `json:"faults,omitempty"`
}

// Load reads a summary.json.
func Load(path string) (*Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("fleet: %s: %w", path, err)
	}
	return &s, nil
}

// Find returns the fleet series (all replicas) of source at keys, or nil.
func (s *Summary) Find(source string, keys int) *Series {
	return s.FindN(source, keys, s.Replicas)
}

// FindN returns the series of source at keys with replicas replicas, or
// nil.
func (s *Summary) FindN(source string, keys, replicas int) *Series {
	for _, x := range s.Series {
		if x.Source == source && x.Keys == keys && x.Replicas == replicas {
			return x
		}
	}
	return nil
}

// FindFault returns the fault named name, or nil.
func (s *Summary) FindFault(name string) *Fault {
	for i := range s.Faults {
		if s.Faults[i].Name == name {
			return &s.Faults[i]
		}
	}
	return nil
}

// Quantile returns the p-quantile of xs, NaN for none.
func Quantile(xs []float64, p float64) float64 { return quantile(xs, p) }

func (s *Summary) write(stage *results.Stage) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	if err := results.WriteFile(stage.Path(SummaryJSON), append(b, '\n')); err != nil {
		return err
	}
	if err := results.WriteFile(stage.Path(SummaryMD), []byte(s.Markdown())); err != nil {
		return err
	}
	return s.plot(filepath.Join(stage.Dir, ConvergencePNG))
}

// plot draws the CDF of convergence time per source and size.
func (s *Summary) plot(path string) error {
	var series []plots.Series
	for _, x := range s.Series {
		xs := slices.Clone(x.Convergence)
		slices.Sort(xs)
		pts := make([]plots.XY, len(xs))
		for i, v := range xs {
			pts[i] = plots.XY{X: math.Max(v, 0.01), Y: float64(i+1) / float64(len(xs))}
		}
		series = append(series, plots.Series{Name: fmt.Sprintf("%s, %d replica(s), %s keys", x.Source, x.Replicas, mdtable.Thousands(x.Keys)), Points: pts})
	}
	title := fmt.Sprintf("Convergence: change issued → all replicas serving it (CDF over %d updates)", s.Updates)
	return plots.Lines(path, title, "convergence time (ms)", "share of updates converged", series, true)
}

// Markdown renders summary.md.
func (s *Summary) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Fleet: %d replicas, one config source\n\n", s.Replicas)
	fmt.Fprintf(&b, "Made by `%s` on %s (%s, %d CPUs, kernel %s, %s), commit %s.\n\n", s.Made, s.Date, s.Machine.CPU, s.Machine.NumCPU, s.Machine.Kernel, s.Machine.GoVersion, s.Machine.Commit)
	b.WriteString("Sources:\n\n")
	names := make([]string, 0, len(s.Sources))
	for n := range s.Sources {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "- `%s`: %s.\n", n, s.Sources[n])
	}
	b.WriteString("\nA source is measured first with one replica alone (no contention for CPUs: what the source itself costs), then with the whole fleet.\n")
	fmt.Fprintf(&b, "\nEvery replica is a target process (`targets/httpsvc`), all sharing this machine's %d CPUs with each other, the harness and etcd. %d updates per source and size, one every interval (±20%%): long enough for every replica to parse each update before the next, so a watch-based source has no reason to coalesce two; content polling every 250 ms can still see two updates in one interval and apply only the second. Convergence is the time from the change being issued (the harness begins the put, or the file write) to the last replica's apply, read from the replicas' event logs: what an operator waits for after pressing the button, the source's own write included.\n\n", s.Machine.NumCPU, s.Updates)
	b.WriteString(mdtable.Header("source", "replicas", "keys", "interval", "convergence p50 / p99", "skew p50 / p99", "write/put call p50", "one replica: source delay p50 / p99", "run CPU p50", "waiting p50 / p99", "missed", "final behind", "torn", "rejected", "reordered", "CPU idle per replica", "CPU per update per replica"))
	for _, x := range s.Series {
		b.WriteString(mdtable.Row(x.Source, fmt.Sprint(x.Replicas), mdtable.Thousands(x.Keys), mdtable.Millis(x.Interval),
			pair(x.Convergence), pair(x.Skew), fmtMs(quantile(x.Write, 0.5))+" ms", pair(x.SourceDelay), fmtMs(quantile(x.RunCPU, 0.5))+" ms", pair(x.RunWait),
			fmt.Sprint(x.Missed), fmt.Sprint(x.FinalBehind), fmt.Sprint(x.Torn), fmt.Sprint(x.Rejected), fmt.Sprint(x.Reordered),
			fmt.Sprintf("%.2f ms/s", x.CPU.IdleMsPerS), fmt.Sprintf("%.1f ms", x.CPU.PerUpdateMs)))
	}
	b.WriteString("\nColumns: *convergence* and *skew* are per update (all replicas); *write/put call* is the harness's own call (the rename pattern: write a temporary file, fsync, rename, fsync the directory; etcd: a Put, which returns once the raft log is committed); *source delay* is per replica and update: change issued → the replica's trigger saw it (the write itself, then the notification); *run CPU* is the pipeline's own CPU (read, parse, validate, apply; the thread's CPU clock); *waiting* is the rest of the run's wall time (trigger saw it → applied, less run CPU): time runnable without a CPU, since the replicas share the machine's CPUs. *Missed*: (replica, update) pairs never applied (skipped for a later one, or lost); *final behind*: replicas not serving the last update at the end, which is what a lost update leaves; *torn*: applied content no update wrote; *reordered*: an applied run with a lower revision or version than the run before it.\n\n")
	for _, x := range s.Series {
		if x.Replicas == s.Replicas {
			fmt.Fprintf(&b, "CPU: %s.\n\n", x.CPU.Note)
			break
		}
	}
	for _, x := range s.Series {
		if x.Article != nil {
			fmt.Fprintf(&b, "The article's chapter 4.2 loop, run as written beside the etcd fleet (%s keys): %d watch-driven runs, %d applied, serving version %d while the fleet's last was %d: %s.\n\n",
				mdtable.Thousands(x.Keys), x.Article.Notices, x.Article.Applied, x.Article.Serving, x.Article.Last, x.Article.Explains)
		}
	}
	if len(s.Faults) > 0 {
		b.WriteString("## Faults (three etcd members, the etcd trigger)\n\n")
		b.WriteString(mdtable.Header("fault", "what was done", "outcome"))
		for _, f := range s.Faults {
			b.WriteString(mdtable.Row(f.Name, f.What, f.Outcome))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Figure: `%s`, the CDF of convergence time per source and size.\n", ConvergencePNG)
	return b.String()
}

func pair(xs []float64) string {
	return fmtMs(quantile(xs, 0.5)) + " / " + fmtMs(quantile(xs, 0.99)) + " ms"
}
