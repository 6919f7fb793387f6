//go:build unix

package reload

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSignalsAreOptIn: WithSignals adds a signal trigger beside the main
// one; the signal reloads even when the main trigger would not notice.
// SIGUSR2 is used so no other test of this package can be hit by it.
func TestSignalsAreOptIn(t *testing.T) {
	// Not parallel: it signals the whole process.
	path := writeConfig(t, yamlConfig("v1", 80))
	r, err := New(path, YAML[testConfig](), WithTrigger(Poll(time.Hour)), WithSignals(syscall.SIGUSR2))
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background()))
	defer r.Close()
	assert.Equal(t, "poll+signal(SIGUSR2)", r.Status().Trigger)
	assert.Empty(t, r.Status().Degraded)

	inPlace(t, path, yamlConfig("v2", 80))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGUSR2))
	eventually(t, "the signal to reload", func() bool { return r.Load().Name == "v2" })

	// Signal() alone listens for SIGHUP only.
	s, err := New(path, YAML[testConfig](), WithTrigger(Signal()))
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	defer s.Close()
	assert.Equal(t, "signal", s.Status().Trigger)
	inPlace(t, path, yamlConfig("v3", 80))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	eventually(t, "SIGHUP to reload", func() bool { return s.Load().Name == "v3" })
}
