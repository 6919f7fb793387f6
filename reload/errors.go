package reload

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by Start and Reload after Close.
var ErrClosed = errors.New("reload: Reloader closed")

// ErrNotCreated is returned by the methods of a Reloader that was not made
// by New (its zero value).
var ErrNotCreated = errors.New("reload: Reloader not created by New")

// RejectError is why a file was not served: the stage that refused it
// ("read", "decode" or "validate") and the cause, which it wraps.
type RejectError struct {
	Path  string
	Stage string
	Err   error
}

// Error returns "rejected <path>: <stage>: <cause>".
func (e *RejectError) Error() string {
	msg := "rejected " + e.Path
	if e.Stage != "" {
		msg += ": " + e.Stage
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *RejectError) Unwrap() error { return e.Err }

// guard calls fn, turning a panic into an error: a decoder or validator that
// panics on a bad file rejects it instead of ending the process.
func guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn()
}
