package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"

	"github.com/reloadlab/reloadlab/harness/bench"
	"github.com/reloadlab/reloadlab/harness/calibrate"
	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/fleet"
	"github.com/reloadlab/reloadlab/harness/verdict"
	"github.com/reloadlab/reloadlab/harness/viperenv"
)

// Inputs are the committed results the ledger judges.
type Inputs struct {
	Root      string // the results directory
	Compare   *compare.Run
	Sweeps    map[string]*compare.Run // by sweep name ("keys", "rate", "util")
	Shared    *compare.Run            // results/compare-shared-cpus (make compare-shared), or nil
	Calibrate *calibrate.Summary      // results/calibrate (make calibrate), or nil
	CalLoop   *calibrate.Summary      // results/calibrate-loop (make calibrate-loop), or nil
	Detect    *detect.Matrix
	Micro     *Micro
	Bench     map[string]*bench.Summary // bench runs by strategy name
	Plans     map[string]*BenchPlan     // their plan.json, by strategy name
	ViperEnv  *viperenv.Result          // results/viperenv (make viperenv), or nil
	Reproduce *verdict.Summary          // results/reproduce/summary.json (make reproduce), or nil
	Fleet     *fleet.Summary            // results/fleet (make fleet), or nil
}

// BenchPlan is what the ledger reads of a bench run's plan.json.
type BenchPlan struct {
	Workers int `json:"closed_model_workers"`
}

// workers returns the closed-model worker count of a bench run's plan, as
// text ("unknown" when its plan.json is missing).
func (in *Inputs) workers(strategy string) string {
	if p := in.Plans[strategy]; p != nil && p.Workers > 0 {
		return fmt.Sprint(p.Workers)
	}
	return "unknown"
}

// Load reads the results under root. compare, detect and micro are
// required; the bench runs, sweeps and calibrations are used when present.
// A file that is missing where it is required, or present but unreadable
// or corrupt anywhere, is an error that names it: a section is never
// dropped in silence.
func Load(root string) (*Inputs, error) {
	in := &Inputs{Root: root, Sweeps: map[string]*compare.Run{}, Bench: map[string]*bench.Summary{}, Plans: map[string]*BenchPlan{}}
	var errs []error
	in.Compare = &compare.Run{}
	if err := readJSON(filepath.Join(root, "compare", "summary.json"), in.Compare); err != nil {
		errs = append(errs, fmt.Errorf("%w (run `make compare`)", err))
	}
	in.Detect = &detect.Matrix{}
	if err := readJSON(filepath.Join(root, "detect", "matrix.json"), in.Detect); err != nil {
		errs = append(errs, fmt.Errorf("%w (run `make detect`)", err))
	}
	m, err := ReadMicro(filepath.Join(root, "micro", "bench.txt"))
	if err != nil {
		errs = append(errs, fmt.Errorf("%w (run `make micro`)", err))
	}
	in.Micro = m
	optional := func(path string, v any) bool {
		err := readJSON(path, v)
		switch {
		case err == nil:
			return true
		case errors.Is(err, fs.ErrNotExist):
			return false
		}
		errs = append(errs, err)
		return false
	}
	for _, sw := range []string{"keys", "rate", "util"} {
		if run := (&compare.Run{}); optional(filepath.Join(root, "compare-sweep-"+sw, "summary.json"), run) {
			in.Sweeps[sw] = run
		}
	}
	if shared := (&compare.Run{}); optional(filepath.Join(root, "compare-shared-cpus", "summary.json"), shared) {
		in.Shared = shared
	}
	if cal := (&calibrate.Summary{}); optional(filepath.Join(root, "calibrate", "summary.json"), cal) {
		in.Calibrate = cal
	}
	if cal := (&calibrate.Summary{}); optional(filepath.Join(root, "calibrate-loop", "summary.json"), cal) {
		in.CalLoop = cal
	}
	dirs, err := filepath.Glob(filepath.Join(root, "*", "summary.json"))
	if err != nil {
		errs = append(errs, fmt.Errorf("ledger: list %s: %w", root, err))
	}
	for _, p := range dirs {
		var probe struct {
			Strategy string `json:"strategy"`
		}
		if err := readJSON(p, &probe); err != nil {
			errs = append(errs, err)
			continue
		}
		// Only the bench runs' summaries name their strategy after their
		// directory; the others (compare, calibrate, …) are read above.
		if probe.Strategy == "" || filepath.Base(filepath.Dir(p)) != probe.Strategy {
			continue
		}
		var s bench.Summary
		if err := readJSON(p, &s); err != nil {
			errs = append(errs, err)
			continue
		}
		in.Bench[s.Strategy] = &s
		var plan BenchPlan
		if optional(filepath.Join(filepath.Dir(p), "plan.json"), &plan) {
			in.Plans[s.Strategy] = &plan
		}
	}
	if r := (&viperenv.Result{}); optional(filepath.Join(root, "viperenv", "summary.json"), r) {
		in.ViperEnv = r
	}
	if r := (&verdict.Summary{}); optional(filepath.Join(root, "reproduce", "summary.json"), r) {
		in.Reproduce = r
	}
	if r := (&fleet.Summary{}); optional(filepath.Join(root, "fleet", "summary.json"), r) {
		in.Fleet = r
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return in, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("ledger: %s is corrupt: %w", path, err)
	}
	return nil
}

// Micro is results/micro/bench.txt summarised: per benchmark (full name,
// e.g. "Get/store=atomic/writer=1ms-2") and unit (tidied, e.g. "sec/op"),
// the median and its interval over the repetitions.
type Micro struct {
	Path   string
	Config map[string]string
	Stats  map[string]map[string]benchmath.Summary
	N      map[string]int
}

// ReadMicro reads a benchfmt file.
func ReadMicro(path string) (*Micro, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer f.Close()
	values := map[string]map[string][]float64{}
	m := &Micro{Path: path, Config: map[string]string{}, Stats: map[string]map[string]benchmath.Summary{}, N: map[string]int{}}
	r := benchfmt.NewReader(f, path)
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		for _, c := range res.Config {
			if c.File {
				m.Config[c.Key] = string(c.Value)
			}
		}
		name := string(res.Name)
		if values[name] == nil {
			values[name] = map[string][]float64{}
		}
		for _, v := range res.Values {
			values[name][v.Unit] = append(values[name][v.Unit], v.Value)
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("ledger: %s: %w", path, err)
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("ledger: %s holds no benchmark results", path)
	}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m.Stats[n] = map[string]benchmath.Summary{}
		for unit, vs := range values[n] {
			m.N[n] = len(vs)
			m.Stats[n][unit] = benchmath.AssumeNothing.Summary(benchmath.NewSample(vs, &benchmath.DefaultThresholds), 0.95)
		}
	}
	return m, nil
}

// Get returns the median of a benchmark's unit, and whether it exists.
func (m *Micro) Get(name, unit string) (float64, bool) {
	if m == nil {
		return 0, false
	}
	s, ok := m.Stats[name][unit]
	return s.Center, ok
}

// Span returns the earliest and latest start times recorded in the
// results (zero times when none records one): the dates a report made
// from them states, so that regenerating it never changes it.
func (in *Inputs) Span() (first, last time.Time) {
	var ts []time.Time
	add := func(t time.Time) {
		if !t.IsZero() {
			ts = append(ts, t)
		}
	}
	if in.Compare != nil {
		add(in.Compare.Started)
	}
	if in.Detect != nil {
		add(in.Detect.Started)
	}
	for _, r := range in.Sweeps {
		add(r.Started)
	}
	if in.Shared != nil {
		add(in.Shared.Started)
	}
	if in.Calibrate != nil {
		add(in.Calibrate.Started)
	}
	if in.CalLoop != nil {
		add(in.CalLoop.Started)
	}
	for _, t := range ts {
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return first, last
}

// Shape returns how the micro benchmarks ran, read from the results: the
// most repetitions of any benchmark and the -cpu values (the names'
// "-N" suffixes; a name without one ran at -cpu 1).
func (m *Micro) Shape() (reps int, cpus []string) {
	if m == nil {
		return 0, nil
	}
	seen := map[string]bool{}
	for name, n := range m.N {
		reps = max(reps, n)
		cpu := "1"
		if i := strings.LastIndex(name, "-"); i >= 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				cpu = name[i+1:]
			}
		}
		seen[cpu] = true
	}
	for c := range seen {
		cpus = append(cpus, c)
	}
	sort.Strings(cpus)
	return reps, cpus
}
