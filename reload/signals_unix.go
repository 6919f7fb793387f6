//go:build unix

package reload

import (
	"os"
	"syscall"
)

// defaultSignals are what Signal() listens for with no argument: SIGHUP,
// the conventional "re-read your config".
func defaultSignals() []os.Signal { return []os.Signal{syscall.SIGHUP} }
