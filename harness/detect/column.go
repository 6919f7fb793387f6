package detect

import (
	"fmt"
	"time"

	"reloadlab/strategies"
	"reloadlab/strategies/store"
	"reloadlab/strategies/trigger"
)

// triggerParams are the trigger options a column runs with.
type triggerParams struct {
	PollInterval   time.Duration `json:"poll_interval"`
	Debounce       time.Duration `json:"debounce"`
	SafetyInterval time.Duration `json:"safety_interval"`
}

func (p triggerParams) options() []trigger.Option {
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

// running is a started column.
type running interface {
	// unchanged returns how many pipeline runs found the content
	// unchanged so far (0 for peers, which have no such check).
	unchanged() uint64
	// close stops the column; nothing is emitted after it returns (peers
	// that cannot be stopped are stopped by ending their process).
	close()
}

// startColumn starts the named column (a trigger or a peer) watching path;
// everything it observes goes to emit, which must be safe for concurrent
// use and quick. The returned error means the column did not start.
func startColumn(name, path string, p triggerParams, emit func(observation)) (running, error) {
	switch name {
	case ColViper:
		return startViper(path, emit)
	case ColKoanf:
		return startKoanf(path, emit)
	}
	return startTrigger(name, path, p, emit)
}

// reloaderColumn is one of our triggers driving the reload pipeline into
// an atomic store.
type reloaderColumn struct{ r *strategies.Reloader }

func (c reloaderColumn) unchanged() uint64 { return c.r.Status(^uint64(0)).Unchanged }
func (c reloaderColumn) close()            { c.r.Close() }

// startTrigger runs trigger name through strategies.NewReloader with
// store.NewAtomic, reporting applies (with the content hash), rejected reads
// and trigger errors.
func startTrigger(name, path string, p triggerParams, emit func(observation)) (running, error) {
	tr, err := trigger.New(name, p.options()...)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	r := strategies.NewReloader(path, store.NewAtomic(), tr, strategies.WithObserver(func(e strategies.Event) {
		switch e.Outcome {
		case strategies.Applied:
			emit(observation{T: e.ApplyEnd.UnixNano(), Col: name, Kind: obsApply, Msg: e.Reason,
				State: State{Version: e.Version, Keys: e.Keys, Hash: e.Hash}})
		case strategies.Rejected:
			emit(observation{T: e.ReadStart.UnixNano(), Col: name, Kind: obsRejected, Msg: e.Error})
		case strategies.TriggerError:
			emit(observation{T: e.Detected.UnixNano(), Col: name, Kind: obsError, Msg: e.Error})
		}
	}))
	if err := r.Start(); err != nil {
		return nil, err
	}
	return reloaderColumn{r}, nil
}
