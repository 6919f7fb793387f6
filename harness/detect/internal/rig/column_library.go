package rig

import (
	"context"
	"fmt"
	"time"

	"github.com/reloadlab/reloadlab/reload"
	"github.com/reloadlab/reloadlab/strategies/config"
)

// ColLibrary is the column of the reload library (package reload) as a
// service would use it: reload.New with the default Robust trigger, the
// lab's config parser as the decoder, and no signals. It runs the same
// trigger code as the robust column through the library's own pipeline,
// so the matrix shows whether the library keeps the trigger's results.
const ColLibrary = "reload-lib"

// libraryColumn is a started reload.Reloader.
type libraryColumn struct {
	r *reload.Reloader[*config.Snapshot]
}

// Unchanged returns the library's count of runs that found the content
// unchanged.
func (c libraryColumn) Unchanged() uint64 { return c.r.Status().Unchanged }

// Close stops the reloader.
func (c libraryColumn) Close() { c.r.Close() }

// startLibrary starts the library column watching path, reporting applies
// (with the state Load then returns), rejected reads, trigger errors and
// stale reports (the file replaced where the trigger cannot follow).
func startLibrary(path string, p Params, emit func(Observation)) (Running, error) {
	var topts []reload.TriggerOption
	if p.Debounce > 0 {
		topts = append(topts, reload.Debounce(p.Debounce))
	}
	opts := []reload.Option{reload.WithTrigger(reload.Robust(topts...))}
	if p.SafetyInterval > 0 {
		opts = append(opts, reload.WithSafetyInterval(p.SafetyInterval))
	}
	var r *reload.Reloader[*config.Snapshot]
	ready := make(chan struct{})
	opts = append(opts, reload.WithObserver(func(e reload.Event) {
		<-ready // r is set before the first event is reported
		switch e.Outcome {
		case reload.Applied:
			st := State{Hash: e.Hash}
			if snap := r.Load(); snap != nil {
				st.Version, st.Keys = snap.Version(), snap.Len()
			}
			emit(Observation{T: e.Finished.UnixNano(), Col: ColLibrary, Kind: ObsApply, Msg: e.Reason, State: st})
		case reload.Rejected:
			emit(Observation{T: e.Detected.UnixNano(), Col: ColLibrary, Kind: ObsRejected, Msg: errText(e.Err)})
		case reload.TriggerError:
			emit(Observation{T: e.Detected.UnixNano(), Col: ColLibrary, Kind: ObsError, Msg: errText(e.Err)})
		case reload.Stale:
			emit(Observation{T: e.Detected.UnixNano(), Col: ColLibrary, Kind: ObsStale, Msg: e.StaleReason})
		}
	}))
	lib, err := reload.New(path, config.Parse, opts...)
	if err != nil {
		return nil, fmt.Errorf("detect: %s: %w", ColLibrary, err)
	}
	r = lib
	close(ready)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		r.Close()
		return nil, fmt.Errorf("detect: %s: %w", ColLibrary, err)
	}
	return libraryColumn{r}, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
