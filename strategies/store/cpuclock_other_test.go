//go:build !unix

package store

import "time"

// threadCPU returns 0 where the Unix CPU clocks are not available: the
// writer-cpu-% metric is then not reported.
func threadCPU() time.Duration { return 0 }

// processCPU returns 0 where the Unix CPU clocks are not available.
func processCPU() time.Duration { return 0 }
