package reload

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// Reloader keeps the value decoded from one config file and replaces it when
// the file changes. Make one with New, then Start it. Its methods are safe
// for concurrent use. The zero Reloader serves the zero T and its Start and
// Reload return ErrNotCreated.
type Reloader[T any] struct {
	path     string
	decode   func([]byte) (T, error)
	validate func(T) error
	set      settings
	triggers []namedTrigger // the main trigger, then the signal trigger if any
	name     string

	cur atomic.Pointer[T] // the serving value; Load's one atomic load

	sem chan struct{} // capacity 1: serialises runs; waits can be cancelled
	// Guarded by sem.
	servingHash, rejectedHash [sha256.Size]byte
	haveServing, haveRejected bool
	rejectedErr               error // why the file with rejectedHash was rejected

	seq atomic.Uint64
	mu  sync.Mutex // guards st, degraded, rejectStale and followStale
	st  Status
	// degraded holds each trigger's note, by index into triggers.
	degraded []string
	// The two reasons the file on disk may not be what serves: its last
	// version was rejected or cannot be read (rejectStale), or the trigger
	// reports it was replaced where it cannot be followed (followStale).
	// Status.Stale and StaleReason are derived from both.
	rejectStale, followStale string

	pendMu  sync.Mutex
	pending *trigger.Notice
	wake    chan struct{}

	life    sync.Mutex   // serialises Start and Close; guards closers and done
	state   atomic.Int32 // a lifeState; read without life by Reload
	closers []io.Closer
	done    chan struct{}
	wg      sync.WaitGroup
}

type namedTrigger struct {
	name string
	t    trigger.Trigger
}

type lifeState = int32

const (
	idle lifeState = iota
	running
	closed
)

// New returns a Reloader for the file at path, decoded by decode (YAML[T](),
// JSON[T]() or a function of yours). It checks its arguments and options but
// reads nothing: Start does the first load.
func New[T any](path string, decode func([]byte) (T, error), opts ...Option) (*Reloader[T], error) {
	set, err := resolve(opts)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if path == "" {
		errs = append(errs, errors.New("empty path"))
	}
	if decode == nil {
		errs = append(errs, errors.New("nil decode function"))
	}
	var validate func(T) error
	if set.validate != nil {
		fn, ok := set.validate.(func(T) error)
		if !ok {
			var zero T
			errs = append(errs, fmt.Errorf("WithValidate: %T does not take the Reloader's %T", set.validate, zero))
		}
		validate = fn
	}
	main, err := set.trigger.build(set)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("reload: New(%q): %w", path, errors.Join(errs...))
	}
	r := &Reloader[T]{
		path: path, decode: decode, validate: validate, set: set,
		triggers: []namedTrigger{{set.trigger.name(), main}},
		sem:      make(chan struct{}, 1),
		wake:     make(chan struct{}, 1),
	}
	r.name = set.trigger.name()
	if len(set.signals) > 0 {
		sig := "signal(" + signalNames(set.signals) + ")"
		r.triggers = append(r.triggers, namedTrigger{sig, trigger.NewSignal(set.signals...)})
		r.name += "+" + sig
	}
	r.degraded = make([]string, len(r.triggers))
	r.st = Status{Path: path, Trigger: r.name}
	return r, nil
}

// Start starts the trigger(s), then loads the file once, and returns when
// that first load is served, or with the reason it was rejected; a change
// made after Start returns is seen. ctx bounds the start only: cancel it and
// Start gives up; once Start has returned, only Close stops the Reloader.
// After a failed Start nothing runs, and Start may be called again.
func (r *Reloader[T]) Start(ctx context.Context) error {
	if r.sem == nil {
		return ErrNotCreated
	}
	r.life.Lock()
	defer r.life.Unlock()
	switch r.state.Load() {
	case running:
		return errors.New("reload: Start called twice")
	case closed:
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reload: start %s: %w", r.path, err)
	}
	r.mu.Lock() // notes of an earlier, failed Start no longer hold
	clear(r.degraded)
	r.st.Degraded = ""
	r.mu.Unlock()
	closers := make([]io.Closer, 0, len(r.triggers))
	stop := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	for i, nt := range r.triggers {
		c, err := nt.t.Start(r.path, &sink[T]{r: r, index: i, name: nt.name})
		if err != nil {
			stop()
			return fmt.Errorf("reload: start trigger %s: %w", nt.name, err)
		}
		closers = append(closers, c)
	}
	if err := r.runAndReport(ctx, trigger.Notice{Reason: "initial load", Seen: time.Now()}, "start"); err != nil {
		stop()
		return fmt.Errorf("reload: first load: %w", err)
	}
	r.closers, r.done = closers, make(chan struct{})
	r.state.Store(running)
	r.setRunning(true)
	r.wg.Add(1)
	go r.loop(r.done)
	return nil
}

// Load returns the serving value: one atomic load and a copy of T. Before
// the first successful load it returns the zero T. Treat the value as
// immutable; it is shared with every other caller.
func (r *Reloader[T]) Load() T {
	if p := r.cur.Load(); p != nil {
		return *p
	}
	var zero T
	return zero
}

// Reload reads the file now, as if the trigger had fired, and returns once
// the run is over: nil if the file is served (applied, or unchanged from
// what serves), otherwise why not (a *RejectError, or ctx's error if ctx
// ended while waiting for a run in progress). It works before Start too.
func (r *Reloader[T]) Reload(ctx context.Context) error {
	if r.sem == nil {
		return ErrNotCreated
	}
	if r.state.Load() == closed {
		return ErrClosed
	}
	if err := r.runAndReport(ctx, trigger.Notice{Reason: "Reload called", Seen: time.Now()}, "manual"); err != nil {
		return fmt.Errorf("reload: Reload: %w", err)
	}
	return nil
}

// Close stops the triggers and the pipeline; a run in progress completes
// first. Load keeps returning the last value served. Close is idempotent and
// returns the triggers' errors, if any. Do not call it from the observer.
func (r *Reloader[T]) Close() error {
	if r.sem == nil {
		return nil
	}
	r.life.Lock()
	defer r.life.Unlock()
	if r.state.Swap(closed) != running {
		return nil
	}
	var errs []error
	for _, c := range r.closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	close(r.done)
	r.wg.Wait()
	r.setRunning(false)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reload: close: %w", err)
	}
	return nil
}

// Status returns a copy of the Reloader's state and counters.
func (r *Reloader[T]) Status() Status {
	if r.sem == nil {
		return Status{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

func (r *Reloader[T]) setRunning(on bool) {
	r.mu.Lock()
	r.st.Running = on
	r.mu.Unlock()
}

// loop runs the pipeline for the notices the triggers leave.
func (r *Reloader[T]) loop(done <-chan struct{}) {
	defer r.wg.Done()
	for {
		select {
		case <-done:
			return
		case <-r.wake:
			r.pendMu.Lock()
			n := r.pending
			r.pending = nil
			r.pendMu.Unlock()
			if n != nil {
				r.runAndReport(context.Background(), *n, "")
			}
		}
	}
}
