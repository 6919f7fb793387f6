package reload

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// DefaultSizeLimit is the largest config file read unless WithSizeLimit
// says otherwise: 64 MiB.
const DefaultSizeLimit = 64 << 20

// DefaultSafetyInterval is how often Robust re-reads the file whatever the
// file-system events say, unless WithSafetyInterval says otherwise.
const DefaultSafetyInterval = time.Second

// Option configures a Reloader. The zero Option does nothing.
type Option struct {
	apply func(*settings)
}

// settings are the resolved options of one Reloader; validate is fed the
// errors options find.
type settings struct {
	validate  any // a func(T) error, set by WithValidate; New checks its T
	trigger   Trigger
	signals   []os.Signal
	safety    time.Duration
	sizeLimit int64
	observer  func(Event)
	errs      []error
}

func (s *settings) fail(err error) { s.errs = append(s.errs, err) }

// WithValidate sets a check every decoded value must pass before it is
// served; an error rejects the file and the previous value keeps serving.
// T must be the Reloader's config type: New fails otherwise.
func WithValidate[T any](fn func(T) error) Option {
	return Option{func(s *settings) {
		if fn != nil {
			s.validate = fn
		}
	}}
}

// WithTrigger sets what notices a change (default Robust()).
func WithTrigger(t Trigger) Option {
	return Option{func(s *settings) { s.trigger = t }}
}

// WithSignals makes each of sigs ask for a reload, whatever the trigger, by
// running a Signal trigger beside it. None by default: a signal nobody
// handles keeps its default action (SIGHUP ends a Go program). Where the
// platform cannot deliver one of them (Windows delivers neither SIGHUP nor
// SIGUSR1), it is left out and Status.Degraded says so.
func WithSignals(sigs ...os.Signal) Option {
	cp := append([]os.Signal{}, sigs...)
	return Option{func(s *settings) { s.signals = cp }}
}

// WithSafetyInterval sets how often Robust re-reads and hashes the file
// whatever the file-system events say (default DefaultSafetyInterval). A
// change no event reports (NFS, FUSE, a lost watch) is seen within about one
// interval. Other triggers ignore it. Zero means the default; a negative
// interval is an error from New.
func WithSafetyInterval(d time.Duration) Option {
	return Option{func(s *settings) {
		if d < 0 {
			s.fail(fmt.Errorf("WithSafetyInterval(%s): negative interval", d))
			return
		}
		s.safety = d
	}}
}

// WithSizeLimit sets the largest file accepted, in bytes (default
// DefaultSizeLimit); a larger file is rejected. Zero means the default; a
// negative limit is an error from New.
func WithSizeLimit(n int64) Option {
	return Option{func(s *settings) {
		if n < 0 {
			s.fail(fmt.Errorf("WithSizeLimit(%d): negative limit", n))
			return
		}
		s.sizeLimit = n
	}}
}

// WithObserver registers fn to be told of every Event: applied, rejected and
// unchanged runs (stale or not), trigger errors and degradations.
//
// fn is called CONCURRENTLY from several goroutines: the pipeline's, the
// triggers', and those calling Start and Reload. It must be safe for
// concurrent use and quick (it delays the goroutine that calls it), and must
// not assume events arrive in Seq order. It may call Load, Status and
// Reload, not Start or Close.
func WithObserver(fn func(Event)) Option {
	return Option{func(s *settings) { s.observer = fn }}
}

// resolve applies opts over the defaults.
func resolve(opts []Option) (settings, error) {
	s := settings{safety: DefaultSafetyInterval, sizeLimit: DefaultSizeLimit}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&s)
		}
	}
	if s.safety == 0 {
		s.safety = DefaultSafetyInterval
	}
	if s.sizeLimit == 0 {
		s.sizeLimit = DefaultSizeLimit
	}
	return s, errors.Join(s.errs...)
}
