package fleet

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rusageCPU is this process's user+system time as the kernel accounts it.
func rusageCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCPUTimeFollowsRusage burns CPU in this process and checks that
// cpuTime (summed thread schedstat) moves as getrusage does, and that the
// /proc/<pid>/stat fallback agrees to its 10 ms ticks.
func TestCPUTimeFollowsRusage(t *testing.T) {
	pid := os.Getpid()
	a, err := cpuTime(pid)
	require.NoError(t, err)
	r0 := rusageCPU(t)
	for rusageCPU(t)-r0 < 100*time.Millisecond {
	}
	b, err := cpuTime(pid)
	require.NoError(t, err)
	burned := rusageCPU(t) - r0
	assert.InDelta(t, float64(burned), float64(b-a), float64(20*time.Millisecond), "schedstat %v against rusage %v", b-a, burned)
	st, err := statCPUTime(pid)
	require.NoError(t, err)
	assert.InDelta(t, float64(rusageCPU(t)), float64(st), float64(50*time.Millisecond), "stat's ticks against rusage")
}
