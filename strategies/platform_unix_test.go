//go:build unix

package strategies

import (
	"os"
	"syscall"
)

// mkfifo makes a FIFO at p.
func mkfifo(p string) error { return syscall.Mkfifo(p, 0o644) }

// signalSelf sends this process SIGUSR1, or SIGHUP if hup, as an operator
// would.
func signalSelf(hup bool) error {
	sig := syscall.SIGUSR1
	if hup {
		sig = syscall.SIGHUP
	}
	return syscall.Kill(os.Getpid(), sig)
}
