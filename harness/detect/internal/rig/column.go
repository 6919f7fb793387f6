package rig

import (
	"fmt"
	"time"

	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// Peer column names: the file watchers of two widely used Go config
// libraries, run as extra columns on the same trials.
const (
	ColViper = "viper"
	ColKoanf = "koanf"
)

// IsPeer reports whether name is a peer column.
func IsPeer(name string) bool { return name == ColViper || name == ColKoanf }

// Params are the trigger options a column runs with; a zero field means
// the trigger's default.
type Params struct {
	PollInterval   time.Duration `json:"poll_interval"`
	Debounce       time.Duration `json:"debounce"`
	SafetyInterval time.Duration `json:"safety_interval"`
}

func (p Params) options() []trigger.Option {
	var o []trigger.Option
	if p.PollInterval > 0 {
		o = append(o, trigger.WithPollInterval(p.PollInterval))
	}
	if p.Debounce > 0 {
		o = append(o, trigger.WithDebounce(p.Debounce))
	}
	if p.SafetyInterval > 0 {
		o = append(o, trigger.WithSafetyInterval(p.SafetyInterval))
	}
	return o
}

// Running is a started column.
type Running interface {
	// Unchanged returns how many pipeline runs found the content
	// unchanged so far (0 for peers, which have no such check).
	Unchanged() uint64
	// Close stops the column; nothing is emitted after it returns (peers
	// that cannot be stopped are stopped by ending their process).
	Close()
}

// StartColumn starts the named column (a trigger or a peer) watching path;
// everything it observes goes to emit, which must be safe for concurrent
// use and quick. The returned error means the column did not start.
func StartColumn(name, path string, p Params, emit func(Observation)) (Running, error) {
	switch name {
	case ColViper:
		return startViper(path, emit)
	case ColKoanf:
		return startKoanf(path, emit)
	case ColLibrary:
		return startLibrary(path, p, emit)
	}
	return startTrigger(name, path, p, emit)
}

// reloaderColumn is one of our triggers driving the reload pipeline into
// an atomic store.
type reloaderColumn struct{ r *strategies.Reloader }

// Unchanged returns the pipeline's count of runs that found the content
// unchanged.
func (c reloaderColumn) Unchanged() uint64 { return c.r.Status(^uint64(0)).Unchanged }

// Close stops the reloader.
func (c reloaderColumn) Close() { c.r.Close() }

// startTrigger runs trigger name through strategies.NewReloader with
// store.NewAtomic, reporting applies (with the content hash), rejected reads,
// trigger errors and stale reports.
func startTrigger(name, path string, p Params, emit func(Observation)) (Running, error) {
	tr, err := trigger.New(name, p.options()...)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	r := strategies.NewReloader(path, store.NewAtomic(), tr, strategies.WithObserver(func(e strategies.Event) {
		switch e.Outcome {
		case strategies.Applied:
			emit(Observation{T: e.ApplyEnd.UnixNano(), Col: name, Kind: ObsApply, Msg: e.Reason,
				State: State{Version: e.Version, Keys: e.Keys, Hash: e.Hash}})
		case strategies.Rejected:
			emit(Observation{T: e.ReadStart.UnixNano(), Col: name, Kind: ObsRejected, Msg: e.Error})
		case strategies.TriggerError:
			emit(Observation{T: e.Detected.UnixNano(), Col: name, Kind: ObsError, Msg: e.Error})
		case strategies.Stale:
			emit(Observation{T: e.Detected.UnixNano(), Col: name, Kind: ObsStale, Msg: e.Reason})
		}
	}))
	if err := r.Start(); err != nil {
		return nil, err
	}
	return reloaderColumn{r}, nil
}
