package kernel

import (
	"context"
	"io"
	"time"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
)

// Child modes of the experiments (rig.Spec.Mode), served by ChildModes.
const (
	modeIdle          = "idle"          // start one column, measure its CPU over Duration
	modeWatchLimit    = "watchlimit"    // the watch-limit experiment, inside a new user namespace
	modeInstanceLimit = "instancelimit" // the instance-limit experiment for one column, inside a new user namespace
)

// Config is what the experiments take from a detect run. The trigger
// options are as in package trigger (zero means the trigger's default).
type Config struct {
	// Child starts the child process every experiment but the article's
	// loop runs its columns in (package detect's Child).
	Child rig.Command
	// PollInterval, Debounce and SafetyInterval are the columns' trigger
	// options.
	PollInterval   time.Duration
	Debounce       time.Duration
	SafetyInterval time.Duration
	// Deadline is how long a column has to serve a change (the matrix's
	// effective deadline).
	Deadline time.Duration
	// Idle is the idle-cost window and IdleKeys the size of its config.
	Idle     time.Duration
	IdleKeys int
}

// params returns the trigger options of cfg.
func (cfg Config) params() rig.Params {
	return rig.Params{PollInterval: cfg.PollInterval, Debounce: cfg.Debounce, SafetyInterval: cfg.SafetyInterval}
}

// ChildModes returns the child's side of the experiments that run in a
// child process, by mode, for rig.ChildMain (package detect's ChildMain
// passes them on).
func ChildModes() map[string]rig.Mode {
	noStdin := func(f func(context.Context, rig.Spec, *rig.LineWriter) error) rig.Mode {
		return func(ctx context.Context, spec rig.Spec, _ io.Reader, out *rig.LineWriter) error {
			return f(ctx, spec, out)
		}
	}
	return map[string]rig.Mode{
		modeIdle:          noStdin(childIdle),
		modeWatchLimit:    noStdin(childWatchLimit),
		modeInstanceLimit: noStdin(childInstanceLimit),
	}
}
