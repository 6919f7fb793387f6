package reload

import (
	"fmt"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// TestOverflowRecovered drives the sink as Robust does after an inotify
// queue overflow: the error is counted as an overflow, the rescan notice
// runs the pipeline and is counted as a rescan, and the change the dropped
// events hid is applied.
func TestOverflowRecovered(t *testing.T) {
	t.Parallel()
	var got events
	path := writeConfig(t, yamlConfig("v1", 80))
	r := startConfig(t, path, WithTrigger(Poll(time.Hour)), WithObserver(got.observe))
	s := &sink[testConfig]{r: r, index: 0, name: "robust"}

	inPlace(t, path, yamlConfig("v2", 80))
	s.Error(fmt.Errorf("trigger robust: %w; rescanning", fsnotify.ErrEventOverflow))
	s.Fire(trigger.Notice{Reason: "robust: inotify queue overflow, rescan", Seen: time.Now(), Rescan: true})
	eventually(t, "the rescan to apply v2", func() bool { return r.Load().Name == "v2" })

	st := r.Status()
	assert.Equal(t, uint64(1), st.Overflows)
	assert.Equal(t, uint64(1), st.Rescans)
	assert.Equal(t, uint64(1), st.TriggerErrors)
	assert.Contains(t, st.LastError, "overflow")
	assert.True(t, got.has(func(e Event) bool { return e.Outcome == Applied && e.Rescan && e.Trigger == "poll" }))
}

// TestDegradedNotesCombine: each trigger's note is kept until it clears.
func TestDegradedNotesCombine(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, yamlConfig("v1", 80))
	r, err := New(path, YAML[testConfig](), WithTrigger(Poll(time.Hour)))
	require.NoError(t, err)
	r.degraded = make([]string, 2)
	a := &sink[testConfig]{r: r, index: 0, name: "robust"}
	b := &sink[testConfig]{r: r, index: 1, name: "signal(SIGHUP)"}
	a.Degraded("robust: no watch")
	b.Degraded("signal: [SIGHUP] cannot be delivered")
	assert.Equal(t, "robust: no watch; signal: [SIGHUP] cannot be delivered", r.Status().Degraded)
	a.Degraded("")
	assert.Equal(t, "signal: [SIGHUP] cannot be delivered", r.Status().Degraded)
	require.NoError(t, r.Close())
}
