package bench

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/analysis"
	"github.com/reloadlab/reloadlab/harness/target"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/trigger/etcdwatch"
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

// Fractions are the phases' lengths as shares of a run's duration.
type Fractions struct {
	Warmup, Throughput, Latency, Diagnosis, Goroutines float64
}

// DefaultFractions split a bench run: warmup 1/12, throughput 1/3, latency
// 1/3, diagnosis 1/6, goroutines 1/12.
var DefaultFractions = Fractions{Warmup: 1.0 / 12, Throughput: 1.0 / 3, Latency: 1.0 / 3, Diagnosis: 1.0 / 6, Goroutines: 1.0 / 12}

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
	Fractions      Fractions     // phase lengths as shares of Duration (zero: DefaultFractions)
	Duration       time.Duration // all phases together; phases are fixed fractions
	Quick          bool          // Duration = QuickDuration (unless Duration is set)
	Workers        int           // closed-model workers
	Captures       int           // reloads captured by the flight recorder
	Out            string        // results directory (default results/<strategy>)
	TargetFlags    []string      // extra flags for the target (-poll-interval=…)
	TargetBinary   string        // a prebuilt target (default: build ./targets/httpsvc)
	EtcdEndpoints  []string      // the etcd trigger: an existing cluster's client URLs (default: the run starts one member)
	NoDiagnosis    bool          // skip the diagnosis phase (no traces or profiles)
	Log            io.Writer     // progress (default io.Discard)
	CommandLine    string        // how the run was invoked, for plan.json

	// An external target (see External): a Strategy naming an anchor
	// (nginx, caddy), or a TargetURL with one reload hook.
	TargetURL         string        // bench the service already running at this URL (a remote target; the run is named "remote")
	ReloadCmd         string        // remote: shell command run for each change ({version} and $RELOADLAB_VERSION: the new version)
	ReloadURL         string        // remote: URL POSTed for each change (body {"version":N})
	ReloadSignal      string        // remote: PID:SIG sent for each change
	ReloadFile        string        // remote: file rewritten for each change with ReloadFileContent
	ReloadFileContent string        // remote: the file's content ({version}: the new version; default "{version}\n")
	VersionHeader     string        // the response header naming the served version (default X-Config-Version)
	ProbeEvery        time.Duration // external: the keep-alive probe's pace (default target.DefaultProbeEvery)
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
	ext      string // target.KindAnchor or target.KindRemote for an external target, "" for httpsvc
}

// resolve validates cfg and fills in defaults. Every name is checked here,
// before anything starts.
func resolve(cfg Config) (resolved, error) {
	ext, err := externalKind(&cfg)
	if err != nil {
		return resolved{}, err
	}
	if cfg.Strategy == "" {
		cfg.Strategy = "atomic"
	}
	var s strategies.Strategy
	var p writepattern.Pattern
	if ext != "" {
		s = externalStrategy(cfg, ext)
		if cfg.Mix, err = externalMix(cfg.Mix); err != nil {
			return resolved{}, err
		}
		cfg.NoDiagnosis = true // no traces, profiles or goroutine profiles from a process the lab did not build
	} else {
		if !slices.Contains(strategies.Names(), cfg.Strategy) {
			return resolved{}, fmt.Errorf("bench: unknown strategy %q (valid: %s)", cfg.Strategy, strings.Join(StrategyNames(), ", "))
		}
		if s, err = strategies.Resolve(cfg.Strategy, cfg.Store, cfg.Trigger); err != nil {
			return resolved{}, err
		}
		if cfg.Pattern == "" {
			cfg.Pattern = DefaultPattern
		}
		if p, err = writepattern.Lookup(cfg.Pattern); err != nil {
			return resolved{}, err
		}
		if err := p.Available(); err != nil {
			return resolved{}, err
		}
		if !p.ChangesContent {
			return resolved{}, fmt.Errorf("bench: write pattern %q does not change the content, so nothing would reload", p.Name)
		}
		if p.Shape != "" {
			return resolved{}, fmt.Errorf("bench: write pattern %q is a deployment shape (%s): the bench target reads the file the writer saves, so the shape would not be what is measured; use it with `make detect`", p.Name, p.Shape)
		}
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
	if ext == target.KindRemote {
		if err := checkCPUs(cfg.LoadCPUs, cfg.LoadCPUs); err != nil { // the load generator's alone
			return resolved{}, err
		}
	} else if err := checkCPUs(cfg.TargetCPUs, cfg.LoadCPUs); err != nil {
		return resolved{}, err
	}
	if cfg.Fractions == (Fractions{}) {
		cfg.Fractions = DefaultFractions
	}
	f := cfg.Fractions
	if f.Throughput <= 0 || f.Latency <= 0 || f.Warmup < 0 || f.Diagnosis < 0 || f.Goroutines < 0 {
		return resolved{}, fmt.Errorf("bench: phase fractions %+v: throughput and latency must be positive, the others not negative", f)
	}
	d := float64(cfg.Duration)
	reloads := []string{analysis.KindReload}
	r := resolved{Config: cfg, strategy: s, pattern: p, ext: ext}
	add := func(name string, frac float64, open bool, mix []string) {
		if frac > 0 {
			r.phases = append(r.phases, phaseSpec{Name: name, Duration: time.Duration(frac * d), Open: open, Mix: mix})
		}
	}
	add("warmup", f.Warmup, false, reloads)
	add("throughput", f.Throughput, false, cfg.Mix)
	add("latency", f.Latency, true, reloads)
	if !cfg.NoDiagnosis {
		add("diagnosis", f.Diagnosis, true, reloads)
		if !cfg.NoGoroutines {
			add("goroutines", f.Goroutines, false, reloads)
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

// etcdPut is the pattern name a run with the etcd trigger records: the
// config is changed by a put of the key, not by writing a file.
const etcdPut = "etcd-put"

// usesEtcd reports whether the run's config lives in etcd.
func (r resolved) usesEtcd() bool { return r.strategy.Trigger == etcdwatch.Name }

// patternName is the change's name in the summaries.
func (r resolved) patternName() string {
	if r.ext != "" {
		return r.strategy.Trigger
	}
	if r.usesEtcd() {
		return etcdPut
	}
	return r.pattern.Name
}

// patternModels says what the change models.
func (r resolved) patternModels() string {
	if r.ext != "" {
		return r.strategy.Description
	}
	if r.usesEtcd() {
		return "one etcd Put of the whole config to the watched key (clientv3, from the harness)"
	}
	return r.pattern.Models
}
