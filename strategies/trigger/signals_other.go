//go:build !unix

package trigger

import (
	"os"
	"syscall"
)

// ReloadSignals is empty where the platform has no SIGUSR1 and delivers no
// SIGHUP (Windows, Plan 9, WebAssembly): there the signal trigger never fires
// and says so (DegradedSink). Treat it as read-only.
var ReloadSignals []os.Signal

// canDeliver reports whether the platform delivers s to a Go program: only
// os.Interrupt and, on Windows, SIGTERM (console close, logoff, shutdown),
// neither of which is a reload request anyone sends.
func canDeliver(s os.Signal) bool {
	return s == os.Interrupt || s == syscall.SIGTERM
}

// SignalName returns the conventional name of s, or its description.
func SignalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
