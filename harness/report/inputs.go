// Package report writes REPORT.md and results/verdicts.json from the
// committed results: results/compare (make compare), results/detect (make
// detect), results/micro (make micro), results/<strategy> for the bench
// runs it cites (make bench), and, when present, results/calibrate (make
// calibrate), results/compare-sweep-* (make utilization, make compare
// SWEEP=…) and results/compare-shared-cpus (make compare-shared). It
// never measures anything and never takes a figure from anywhere else:
// every number in the report is read from those files, and the report says
// which command made each one.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"

	"reloadlab/harness/bench"
	"reloadlab/harness/calibrate"
	"reloadlab/harness/compare"
	"reloadlab/harness/detect"
)

// Inputs are the committed results the report is made from.
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
}

// Load reads the results under root. compare, detect and micro are
// required; the bench runs and sweeps are used when present.
func Load(root string) (*Inputs, error) {
	in := &Inputs{Root: root, Sweeps: map[string]*compare.Run{}, Bench: map[string]*bench.Summary{}}
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
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, sw := range []string{"keys", "rate", "util"} {
		run := &compare.Run{}
		if err := readJSON(filepath.Join(root, "compare-sweep-"+sw, "summary.json"), run); err == nil {
			in.Sweeps[sw] = run
		}
	}
	if shared := (&compare.Run{}); readJSON(filepath.Join(root, "compare-shared-cpus", "summary.json"), shared) == nil {
		in.Shared = shared
	}
	if cal := (&calibrate.Summary{}); readJSON(filepath.Join(root, "calibrate", "summary.json"), cal) == nil {
		in.Calibrate = cal
	}
	if cal := (&calibrate.Summary{}); readJSON(filepath.Join(root, "calibrate-loop", "summary.json"), cal) == nil {
		in.CalLoop = cal
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "summary.json"))
	for _, p := range dirs {
		var s bench.Summary
		if err := readJSON(p, &s); err == nil && s.Strategy != "" && filepath.Base(filepath.Dir(p)) == s.Strategy {
			in.Bench[s.Strategy] = &s
		}
	}
	return in, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
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
		return nil, fmt.Errorf("report: %w", err)
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
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("report: %s holds no benchmark results", path)
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
