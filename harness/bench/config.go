package bench

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"time"

	"reloadlab/harness/analysis"
	"reloadlab/harness/writepattern"
	"reloadlab/strategies"
)

// Defaults of Config.
const (
	DefaultKeys           = 10_000
	DefaultKeysPerRequest = 4
	DefaultReloadEvery    = 500 * time.Millisecond
	DefaultPattern        = "rename"
	DefaultDuration       = 60 * time.Second
	QuickDuration         = 6 * time.Second
	DefaultWorkers        = 32
	DefaultCaptures       = 3
	// DefaultWork is the CPU each request spends computing in the target
	// (its -work flag): half a millisecond, as a modest real handler does.
	// It makes the target, not the load generator or the HTTP stack's
	// variable overhead, what bounds throughput, which is what a QPS dip
	// measures; and it lowers the target's capacity into the open model's
	// reach on this machine.
	DefaultWork = 500 * time.Microsecond
)

// DefaultMix is the throughput phase's mix of shot kinds: every block of
// four writes holds two reloads, one identical rewrite and one rejected
// parse, in a random order. The controls split a reload's cost into its
// stages (package analysis).
var DefaultMix = []string{analysis.KindReload, analysis.KindReload, analysis.KindIdentical, analysis.KindReject}

// Config is one bench run's parameters. Zero fields take the defaults.
type Config struct {
	Strategy       string        // preset (default "atomic")
	Store          string        // override the preset's store
	Trigger        string        // override the preset's trigger
	Keys           int           // keys in the config file
	KeysPerRequest int           // keys each request reads
	ReloadEvery    time.Duration // interval between config writes
	Pattern        string        // write pattern (package writepattern)
	Rate           int           // open-model rate, req/s; 0 = probed (see probeRate)
	Utilization    float64       // open-model rate as a share of the measured capacity (0: probed); ignored with Rate
	Work           time.Duration // CPU per request in the target (-work); 0 = DefaultWork, negative = none
	ReloadBurn     time.Duration // extra CPU every applied reload spends (-reload-burn)
	Mix            []string      // shot kinds of the throughput phase (default DefaultMix)
	TargetCPUs     []int         // CPUs for the target (default: target.Split)
	LoadCPUs       []int         // CPUs for the load generator and the harness (default: target.Split)
	NoGoroutines   bool          // skip the goroutine-profile phase
	Duration       time.Duration // all phases together; phases are fixed fractions
	Quick          bool          // Duration = QuickDuration (unless Duration is set)
	Workers        int           // closed-model workers
	Captures       int           // reloads captured by the flight recorder
	Out            string        // results directory (default results/<strategy>)
	TargetFlags    []string      // extra flags for the target (-poll-interval=…)
	TargetBinary   string        // a prebuilt target (default: build ./targets/httpsvc)
	NoDiagnosis    bool          // skip the diagnosis phase (no traces or profiles)
	Log            io.Writer     // progress (default io.Discard)
	CommandLine    string        // how the run was invoked, for plan.json
}

// phaseSpec is one phase of the plan.
type phaseSpec struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration_ns"`
	Open     bool          `json:"open_model"`
	Mix      []string      `json:"mix"` // shot kinds, dealt in shuffled blocks; one every ReloadEvery
}

// resolved is a validated Config.
type resolved struct {
	Config
	strategy strategies.Strategy
	pattern  writepattern.Pattern
	phases   []phaseSpec
}

// resolve validates cfg and fills in defaults. Every name is checked here,
// before anything starts.
func resolve(cfg Config) (resolved, error) {
	if cfg.Strategy == "" {
		cfg.Strategy = "atomic"
	}
	s, err := strategies.Resolve(cfg.Strategy, cfg.Store, cfg.Trigger)
	if err != nil {
		return resolved{}, err
	}
	if cfg.Pattern == "" {
		cfg.Pattern = DefaultPattern
	}
	p, err := writepattern.Lookup(cfg.Pattern)
	if err != nil {
		return resolved{}, err
	}
	if err := p.Available(); err != nil {
		return resolved{}, err
	}
	if !p.ChangesContent {
		return resolved{}, fmt.Errorf("bench: write pattern %q does not change the content, so nothing would reload", p.Name)
	}
	if cfg.Keys == 0 {
		cfg.Keys = DefaultKeys
	}
	if cfg.KeysPerRequest == 0 {
		cfg.KeysPerRequest = DefaultKeysPerRequest
	}
	if cfg.ReloadEvery == 0 {
		cfg.ReloadEvery = DefaultReloadEvery
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultDuration
		if cfg.Quick {
			cfg.Duration = QuickDuration
		}
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Captures == 0 {
		cfg.Captures = DefaultCaptures
	}
	if cfg.Work == 0 {
		cfg.Work = DefaultWork
	}
	if cfg.Work < 0 {
		cfg.Work = 0
	}
	if len(cfg.Mix) == 0 {
		cfg.Mix = DefaultMix
	}
	for _, k := range cfg.Mix {
		if k != analysis.KindReload && k != analysis.KindIdentical && k != analysis.KindReject {
			return resolved{}, fmt.Errorf("bench: unknown shot kind %q in the mix (valid: %s, %s, %s)", k, analysis.KindReload, analysis.KindIdentical, analysis.KindReject)
		}
	}
	if !contains(cfg.Mix, analysis.KindReload) {
		return resolved{}, errors.New("bench: the mix must hold at least one reload")
	}
	switch {
	case cfg.Keys < 1:
		return resolved{}, fmt.Errorf("bench: keys must be at least 1, got %d", cfg.Keys)
	case cfg.KeysPerRequest < 1:
		return resolved{}, fmt.Errorf("bench: keys per request must be at least 1, got %d", cfg.KeysPerRequest)
	case cfg.ReloadEvery < 10*time.Millisecond:
		return resolved{}, fmt.Errorf("bench: reload interval %s is below 10ms", cfg.ReloadEvery)
	case cfg.Duration < 2*time.Second:
		return resolved{}, fmt.Errorf("bench: duration %s is too short (at least 2s)", cfg.Duration)
	case cfg.Rate < 0:
		return resolved{}, errors.New("bench: rate must not be negative")
	case cfg.Utilization < 0 || cfg.Utilization > 1.5:
		return resolved{}, fmt.Errorf("bench: utilization %g is outside (0, 1.5]", cfg.Utilization)
	case cfg.ReloadBurn < 0:
		return resolved{}, errors.New("bench: reload burn must not be negative")
	case cfg.Workers < 1:
		return resolved{}, errors.New("bench: workers must be at least 1")
	}
	if cfg.Out == "" {
		cfg.Out = filepath.Join("results", s.Name)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if err := checkCPUs(cfg.TargetCPUs, cfg.LoadCPUs); err != nil {
		return resolved{}, err
	}
	d := cfg.Duration
	reloads := []string{analysis.KindReload}
	r := resolved{Config: cfg, strategy: s, pattern: p}
	r.phases = []phaseSpec{
		{Name: "warmup", Duration: d / 12, Mix: reloads},
		{Name: "throughput", Duration: d / 3, Mix: cfg.Mix},
		{Name: "latency", Duration: d / 3, Open: true, Mix: reloads},
	}
	if !cfg.NoDiagnosis {
		r.phases = append(r.phases, phaseSpec{Name: "diagnosis", Duration: d / 6, Open: true, Mix: reloads})
		if !cfg.NoGoroutines {
			r.phases = append(r.phases, phaseSpec{Name: "goroutines", Duration: d / 12, Mix: reloads})
		}
	}
	return r, nil
}

// checkCPUs validates explicit CPU sets: both or neither, each non-empty,
// every CPU online.
func checkCPUs(targetCPUs, loadCPUs []int) error {
	if (len(targetCPUs) == 0) != (len(loadCPUs) == 0) {
		return errors.New("bench: give both the target's and the load generator's CPUs, or neither")
	}
	n := runtime.NumCPU()
	for _, set := range [][]int{targetCPUs, loadCPUs} {
		for _, c := range set {
			if c < 0 || c >= n {
				return fmt.Errorf("bench: CPU %d does not exist (this machine has CPUs 0-%d)", c, n-1)
			}
		}
	}
	return nil
}

// Shared reports whether the target and the load generator share a CPU.
func Shared(targetCPUs, loadCPUs []int) bool {
	for _, a := range targetCPUs {
		for _, b := range loadCPUs {
			if a == b {
				return true
			}
		}
	}
	return false
}
