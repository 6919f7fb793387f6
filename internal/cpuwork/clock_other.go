//go:build !linux

package cpuwork

import "time"

// ThreadCPU returns -1: the per-thread CPU clock is read on Linux only.
func ThreadCPU() time.Duration { return -1 }

// ProcessCPU returns -1: the process CPU clock is read on Linux only.
func ProcessCPU() time.Duration { return -1 }
