package bench

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

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
)

// Config is one bench run's parameters. Zero fields take the defaults.
type Config struct {
	Strategy       string        // preset (default "atomic")
	Store          string        // override the preset's store
	Trigger        string        // override the preset's trigger
	Keys           int           // keys in the config file
	KeysPerRequest int           // keys each request reads
	ReloadEvery    time.Duration // interval between config writes
	Pattern        string        // write pattern (package writepattern)
	Rate           int           // open-model rate, req/s; 0 = half the measured capacity
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
	Reloads  string        `json:"reloads"` // "continuous" or "alternating"
	Block    time.Duration `json:"block_ns,omitempty"`
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
	case cfg.Workers < 1:
		return resolved{}, errors.New("bench: workers must be at least 1")
	}
	if cfg.Out == "" {
		cfg.Out = filepath.Join("results", s.Name)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	d := cfg.Duration
	block := func(phase time.Duration) time.Duration {
		return min(max(phase/6, 2*cfg.ReloadEvery, time.Second), 5*time.Second)
	}
	r := resolved{Config: cfg, strategy: s, pattern: p}
	r.phases = []phaseSpec{
		{Name: "warmup", Duration: d / 12, Reloads: "continuous"},
		{Name: "throughput", Duration: d / 3, Reloads: "alternating", Block: block(d / 3)},
		{Name: "latency", Duration: d / 3, Open: true, Reloads: "alternating", Block: block(d / 3)},
	}
	if !cfg.NoDiagnosis {
		r.phases = append(r.phases, phaseSpec{Name: "diagnosis", Duration: d / 4, Open: true, Reloads: "continuous"})
	}
	return r, nil
}
