//go:build unix

package trigger

import (
	"os"
	"syscall"
)

// ReloadSignals are the signals the lab's signal and robust triggers treat
// as "reload now": SIGUSR1 (the article's choice) and SIGHUP (nginx's and
// Prometheus's convention). Treat it as read-only.
var ReloadSignals = []os.Signal{syscall.SIGUSR1, syscall.SIGHUP}

// canDeliver reports whether the platform delivers s to a Go program.
func canDeliver(os.Signal) bool { return true }

// SignalName returns the conventional name of s ("SIGHUP"), or its
// description for a signal without one here.
func SignalName(s os.Signal) string {
	switch s {
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	}
	return s.String()
}
