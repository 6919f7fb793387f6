package trigger

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"
)

// Signal fires when the process receives one of its signals: by default
// ReloadSignals (SIGUSR1 and SIGHUP where the platform has them), or those
// given to NewSignal. It sees exactly what an operator or sidecar asks for,
// on every file system, and nothing else: a change nobody signals is never
// applied. The channel has a buffer of one, so a burst of signals coalesces
// into one reload of the latest file (os/signal drops sends to a full
// channel). The zero value listens for ReloadSignals.
//
// # Portability
//
// Where the platform cannot deliver a signal asked for (Windows delivers
// neither SIGUSR1 nor SIGHUP), Start drops it and reports the degradation
// (DegradedSink); with no deliverable signal left the trigger never fires.
//
// # Linux notes
//
// Until Start has run, SIGHUP terminates a Go program and SIGUSR1 does too;
// a sender racing the service's start-up kills it.
type Signal struct {
	sigs []os.Signal
	set  bool // sigs was given (possibly empty): do not fall back to ReloadSignals
}

// Name returns "signal".
func (t *Signal) Name() string { return "signal" }

// Signals returns the signals the trigger asks for.
func (t *Signal) Signals() []os.Signal {
	if !t.set {
		return append([]os.Signal(nil), ReloadSignals...)
	}
	return append([]os.Signal(nil), t.sigs...)
}

// Start installs the signal handler; it is in place when Start returns.
func (t *Signal) Start(path string, sink Sink) (io.Closer, error) {
	if err := validateStart("signal", path, sink); err != nil {
		return nil, err
	}
	sigs, note := deliverable(t.Signals())
	if len(sigs) == 0 && note == "" {
		note = "no signal to listen for; it never fires"
	}
	if note != "" {
		degrade(sink, "signal: "+note)
	}
	if len(sigs) == 0 {
		return closerFunc(func() error { return nil }), nil
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				sink.Fire(Notice{Reason: "signal: " + SignalName(s), Seen: time.Now()})
			}
		}
	}()
	var once sync.Once
	return closerFunc(func() error {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			wg.Wait()
		})
		return nil
	}), nil
}

// deliverable splits sigs into those the platform can deliver and a note
// naming the others ("" when all can be).
func deliverable(sigs []os.Signal) ([]os.Signal, string) {
	var ok, dropped []os.Signal
	for _, s := range sigs {
		if s == nil {
			continue
		}
		if canDeliver(s) {
			ok = append(ok, s)
		} else {
			dropped = append(dropped, s)
		}
	}
	if len(dropped) == 0 {
		return ok, ""
	}
	names := make([]string, len(dropped))
	for i, s := range dropped {
		names[i] = SignalName(s)
	}
	note := fmt.Sprintf("%v cannot be delivered on this platform", names)
	if len(ok) == 0 {
		note += "; no signal will ask for a reload"
	}
	return ok, note
}
