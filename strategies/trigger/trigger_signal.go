package trigger

import (
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// ReloadSignals are the signals the signal and robust triggers treat as
// "reload now": SIGUSR1 (the article's choice) and SIGHUP (nginx's and
// Prometheus's convention).
var ReloadSignals = []os.Signal{syscall.SIGUSR1, syscall.SIGHUP}

// Signal fires when the process receives SIGUSR1 or SIGHUP. It sees exactly
// what an operator or sidecar asks for, on every file system, and nothing
// else: a change nobody signals is never applied. The channel has a buffer of
// one, so a burst of signals coalesces into one reload of the latest file
// (os/signal drops sends to a full channel).
//
// # Linux notes
//
// Until Start has run, SIGHUP terminates a Go program and SIGUSR1 does too;
// a sender racing the service's start-up kills it.
type Signal struct{}

// Name returns "signal".
func (t *Signal) Name() string { return "signal" }

// Start installs the signal handler; it is in place when Start returns.
func (t *Signal) Start(path string, sink Sink) (io.Closer, error) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, ReloadSignals...)
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
				sink.Fire(Notice{Reason: "signal: " + signalName(s), Seen: time.Now()})
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

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}
