//go:build !unix

package reload

import "os"

// defaultSignals is empty: this platform delivers no SIGHUP, so Signal()
// never fires and Status.Degraded says so.
func defaultSignals() []os.Signal { return nil }
