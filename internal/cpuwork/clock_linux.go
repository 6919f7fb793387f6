package cpuwork

import (
	"time"

	"golang.org/x/sys/unix"
)

// ThreadCPU returns the CPU time the calling OS thread has consumed
// (CLOCK_THREAD_CPUTIME_ID), or -1 if the clock cannot be read. It is
// meaningful only between two calls on the same thread: lock the goroutine
// with runtime.LockOSThread around the code measured.
func ThreadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return -1
	}
	return time.Duration(ts.Nano())
}

// ProcessCPU returns the CPU time the whole process has consumed
// (CLOCK_PROCESS_CPUTIME_ID), or -1 if the clock cannot be read.
func ProcessCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return -1
	}
	return time.Duration(ts.Nano())
}
